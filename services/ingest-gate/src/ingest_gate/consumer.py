"""One SQS record in, one gate decision out, with the logs and metrics around it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from rocket_contracts.bus import ContractViolation, ParsedMessage, parse_record
from rocket_contracts.models.ingest.job_requested_v1 import IngestJobRequestedV1

from ingest_gate.domain import GateResult, IngestGateError, JobRequest, RetryLaterError
from ingest_gate.gate import Gate
from ingest_gate.observability import logger, metrics

CONSUMED_TYPE = "ingest.job.requested.v1"


class UnexpectedEventTypeError(IngestGateError):
    """A valid contract message of a type this queue should never receive."""


def to_request(parsed: ParsedMessage) -> JobRequest:
    data = parsed.data
    if not isinstance(data, IngestJobRequestedV1):
        raise UnexpectedEventTypeError(parsed.event_type)
    return JobRequest(
        transaction_id=data.transaction_id,
        job_name=data.job_name,
        arguments=dict(data.arguments),
        requested_by=data.requested_by,
        correlation_id=parsed.envelope.correlationid or parsed.envelope.id,
    )


def _parse(record: SQSRecord | dict[str, Any]) -> JobRequest:
    message_id = record.message_id if isinstance(record, SQSRecord) else record.get("messageId")
    try:
        return to_request(parse_record(record))
    except ContractViolation as exc:
        logger.error("invalid message", extra={"message_id": message_id, "errors": exc.errors})
        metrics.add_metric(name="InvalidMessages", unit=MetricUnit.Count, value=1)
        raise
    except UnexpectedEventTypeError as exc:
        logger.error("unexpected event type", extra={"message_id": message_id, "type": str(exc)})
        metrics.add_metric(name="InvalidMessages", unit=MetricUnit.Count, value=1)
        raise


def handle_record(record: SQSRecord | dict[str, Any], *, gate: Gate) -> GateResult:
    """Parse one record and let the gate decide; raising fails this record alone."""
    request = _parse(record)
    keys = {"correlation_id": request.correlation_id, "transaction_id": request.transaction_id}
    try:
        result = gate.handle(request)
    except RetryLaterError as exc:
        logger.warning("request deferred", extra={**keys, "error": type(exc).__name__})
        metrics.add_metric(name="DeferredRequests", unit=MetricUnit.Count, value=1)
        raise
    except IngestGateError as exc:
        logger.error("request failed", extra={**keys, "error": type(exc).__name__})
        metrics.add_metric(name="FailedRequests", unit=MetricUnit.Count, value=1)
        raise
    logger.info(
        "request handled",
        extra={
            **keys,
            "job_name": request.job_name,
            "outcome": result.outcome.value,
            "job_run_id": result.job_run_id,
            "reason": result.reason.value if result.reason else None,
            "notes": list(result.notes),
        },
    )
    metrics.add_metric(
        name=f"Outcome{result.outcome.value.title()}", unit=MetricUnit.Count, value=1
    )
    return result
