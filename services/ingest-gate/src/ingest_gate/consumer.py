"""One SQS record in, one gate decision out, with the logs, metrics and retry delay around it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from rocket_contracts.bus import ContractViolation, ParsedMessage, parse_record
from rocket_contracts.deadletter import CONTRACT_VIOLATION, DeadLetterSender, dead_letter
from rocket_contracts.models.ingest.job_requested_v1 import IngestJobRequestedV1

from ingest_gate.domain import (
    DefinedArgumentError,
    GateResult,
    IngestGateError,
    JobRequest,
    RetryLaterError,
)
from ingest_gate.gate import Gate
from ingest_gate.observability import logger, metrics

# Poison messages gain nothing from waiting: when they cannot be dead-lettered at once (no DLQ
# configured, or the send failed), let them reach it after maxReceiveCount quickly.
POISON_DELAY_SECONDS = 1
DEFINED_ARGUMENT = "defined_argument"
MAX_DELAY_SECONDS = 900


class Deferrer(Protocol):
    def defer(self, receipt_handle: str, seconds: int) -> None:
        """Make a failed record visible again after `seconds` instead of the queue default."""
        ...


def retry_delay(error: Exception, receive_count: int) -> int:
    """Seconds before the next delivery of a record that failed with `error`.

    Exponential (2, 8, 32, 128 s...): with maxReceiveCount 5 the retries span 170 s, longer than
    the 120 s claim, so a request blocked by a crashed holder is taken over before the DLQ.
    """
    if isinstance(error, ContractViolation | DefinedArgumentError):
        return POISON_DELAY_SECONDS
    return int(min(MAX_DELAY_SECONDS, 2 * 4 ** max(0, receive_count - 1)))


# Arguments Glue itself reads (its "special parameters"): a request setting one would change
# what runs (--scriptLocation, --additional-python-modules, --extra-py-files: code from anywhere
# with the job's role), not what the job works on. Compared without case: "scriptlocation" too.
GLUE_ARGUMENTS = frozenset(
    name.lower()
    for name in (
        "JOB_NAME", "JOB_ID", "JOB_RUN_ID", "SECURITY_CONFIGURATION", "TempDir",
        "RedshiftTempDir", "additional-python-modules", "auto-scale-within-microbatch", "class",
        "conf", "datalake-formats", "disable-proxy-v2", "encryption-type", "executor-cores",
        "job-bookmark-option", "job-language", "python-modules-installer-option",
        "scriptLocation", "shuffle-storage-path", "use-postgres-driver", "user-jars-first",
        "write-shuffle-files-to-s3", "write-shuffle-spills-to-s3",
    )
)  # fmt: skip
GLUE_ARGUMENT_PREFIXES = ("enable-", "continuous-log-", "extra-", "spark-", "customer-")


def reserved_arguments(arguments: Mapping[str, str]) -> list[str]:
    """The names in ``arguments`` that Glue interprets itself, which a request may not set."""
    return sorted(
        name
        for name in arguments
        if name.lower() in GLUE_ARGUMENTS or name.lower().startswith(GLUE_ARGUMENT_PREFIXES)
    )


def to_request(parsed: ParsedMessage) -> JobRequest:
    """The gate's request; a valid message of another type is a ContractViolation here, and so
    is one that sets an argument Glue reads itself (see ``GLUE_ARGUMENTS``)."""
    data = parsed.data_as(IngestJobRequestedV1)
    reserved = reserved_arguments(data.arguments)
    if reserved:
        raise ContractViolation(
            "reserved job argument",
            [f"$.data.arguments.{name}: Glue reads --{name} itself" for name in reserved],
        )
    return JobRequest(
        transaction_id=data.transaction_id,
        job_name=data.job_name,
        arguments=dict(data.arguments),
        requested_by=data.requested_by,
        correlation_id=parsed.correlation_id,
        traceparent=parsed.traceparent,
    )


@dataclass(frozen=True)
class Consumer:
    """The record handler of the gate function: `Consumer(gate)(record)`; raising fails it.

    A message that can never succeed (it breaks the contract, or sets an argument the job
    defines) goes to the DLQ at once with its reason, through ``dead_letters``, and its record
    succeeds; without ``dead_letters`` it fails until SQS moves it there.
    """

    gate: Gate
    deferrer: Deferrer | None = None
    dead_letters: DeadLetterSender | None = None

    def __call__(self, record: SQSRecord | dict[str, Any]) -> GateResult | None:
        sqs_record = record if isinstance(record, SQSRecord) else SQSRecord(record)
        try:
            return self._handle(sqs_record)
        except (ContractViolation, DefinedArgumentError) as exc:
            reason = CONTRACT_VIOLATION if isinstance(exc, ContractViolation) else DEFINED_ARGUMENT
            if dead_letter(
                self.dead_letters,
                sqs_record.body,
                reason=reason,
                detail=str(exc),
                message_id=sqs_record.message_id,
            ):
                return None
            self._defer(sqs_record, exc)
            raise
        except IngestGateError as exc:
            self._defer(sqs_record, exc)
            raise

    def _defer(self, sqs_record: SQSRecord, exc: Exception) -> None:
        if self.deferrer is not None:
            count = int(sqs_record.attributes.approximate_receive_count or 1)
            self.deferrer.defer(sqs_record.receipt_handle, retry_delay(exc, count))

    def _handle(self, record: SQSRecord) -> GateResult:
        request = self._parse(record)
        keys = {"correlation_id": request.correlation_id, "transaction_id": request.transaction_id}
        try:
            result = self.gate.handle(request)
        except DefinedArgumentError as exc:
            logger.error(
                "invalid message",
                extra={**keys, "message_id": record.message_id, "summary": str(exc)},
            )
            metrics.add_metric(name="InvalidMessages", unit=MetricUnit.Count, value=1)
            raise
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
            name=f"Requests{result.outcome.value.title()}", unit=MetricUnit.Count, value=1
        )
        return result

    @staticmethod
    def _parse(record: SQSRecord) -> JobRequest:
        try:
            parsed = parse_record(record)
            request = to_request(parsed)
        except ContractViolation as exc:
            logger.error(
                "invalid message",
                extra={
                    "message_id": record.message_id,
                    "summary": exc.summary,
                    "errors": exc.errors,
                },
            )
            metrics.add_metric(name="InvalidMessages", unit=MetricUnit.Count, value=1)
            raise
        if parsed.ignored:
            # A newer producer's optional fields: read without them, but say so, in case the
            # producer meant them to change what runs (then the contract needs a new version).
            logger.warning(
                "unknown properties ignored",
                extra={
                    "message_id": record.message_id,
                    "correlation_id": request.correlation_id,
                    "transaction_id": request.transaction_id,
                    "ignored": list(parsed.ignored),
                },
            )
        return request
