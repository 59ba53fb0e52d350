"""ETL Lambda: S3 ObjectCreated notifications on the RAW bucket's queue."""

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
from rocket_contracts.deadletter import DeadLetterSender, dead_letter

from etl_layers import bootstrap
from etl_layers.events import InvalidNotificationError, parse_s3_message
from etl_layers.observability import logger, metrics, tracer
from etl_layers.pipeline import Pipeline

# A batch whose every record failed still answers with its failures (SQS retries them, then
# the DLQ), instead of raising: a poison message is not a function error.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(
    event: dict[str, Any],
    context: LambdaContext,
    pipeline: Pipeline | None = None,
    dead_letters: DeadLetterSender | None = None,
) -> PartialItemFailureResponse:
    active = pipeline or bootstrap.bootstrap()
    # Injected dependencies (tests) stand alone; otherwise the DLQ from the settings.
    injected = pipeline is not None or dead_letters is not None
    quarantine = dead_letters if injected else bootstrap.dead_letters()

    def record_handler(record: SQSRecord) -> None:
        key: str | None = None
        try:
            objects = parse_s3_message(record.body)
        except InvalidNotificationError as exc:
            # Not an S3 notification: no delivery can change that, so the DLQ at once.
            metrics.add_metric(name="InvalidMessages", unit="Count", value=1)
            logger.error(
                "invalid message", extra={"message_id": record.message_id, "reason": str(exc)}
            )
            if not dead_letter(
                quarantine,
                record.body,
                reason="invalid_notification",
                detail=str(exc),
                message_id=record.message_id,
            ):
                raise
            return
        try:
            for raw_object in objects:
                key = raw_object.key
                active.process(raw_object)
        except Exception as exc:
            # Powertools keeps the failure for the response but logs nothing: say which.
            logger.exception(
                "record failed",
                extra={"message_id": record.message_id, "key": key, "reason": repr(exc)},
            )
            raise

    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
