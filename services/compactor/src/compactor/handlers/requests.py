"""Request Lambda: compactor.compaction.requested.v1 from the service's queue, one execution of
the workflow per domain named (all declared domains when none is)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from rocket_contracts import bus
from rocket_contracts.deadletter import CONTRACT_VIOLATION, DeadLetterSender, dead_letter
from rocket_contracts.models.compactor.compaction_requested_v1 import (
    CompactorCompactionRequestedV1,
)

from compactor import bootstrap
from compactor.domains import UnknownDomainError
from compactor.observability import logger, metrics, tracer
from compactor.requests import Requests

# A batch whose every record failed still answers with its failures (SQS retries them, then
# the DLQ), instead of raising: a poison message is not a function error.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(
    event: dict[str, Any],
    context: LambdaContext,
    starter: Requests | None = None,
    dead_letters: DeadLetterSender | None = None,
) -> PartialItemFailureResponse:
    active = starter or bootstrap.requests()
    # Injected dependencies (tests) stand alone; otherwise the DLQ from the settings.
    injected = starter is not None or dead_letters is not None
    quarantine = dead_letters if injected else bootstrap.dead_letters()

    def record_handler(record: SQSRecord) -> None:
        try:
            message = bus.parse_record(record)
            request = message.data_as(CompactorCompactionRequestedV1)
            logger.append_keys(correlation_id=message.correlation_id)
            active.start(request, message.correlation_id)
        except (bus.ContractViolation, UnknownDomainError) as exc:
            # Asking again cannot help: to the DLQ at once, with the reason, if it can be sent.
            if isinstance(exc, bus.ContractViolation):
                reason, detail = CONTRACT_VIOLATION, str(exc)
            else:
                reason, detail = "unknown_domain", f"no domain declared as {exc}"
            metrics.add_metric(name="RequestsInvalid", unit="Count", value=1)
            logger.error(
                "invalid request", extra={"message_id": record.message_id, "reason": detail}
            )
            if not dead_letter(
                quarantine, record.body, reason=reason, detail=detail, message_id=record.message_id
            ):
                raise
        except Exception as exc:
            # Powertools keeps the failure for the response but logs nothing: say which.
            metrics.add_metric(name="RequestsFailed", unit="Count", value=1)
            logger.exception(
                "request failed", extra={"message_id": record.message_id, "reason": repr(exc)}
            )
            raise

    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
