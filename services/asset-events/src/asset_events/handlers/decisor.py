"""Lambda entry point of the decisor on the input stream: wiring only.

The whole batch is decided at once (one BatchGetItem per 50 reports), then Powertools builds
the partial batch response from what failed, so Lambda retries from the first failed record.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import (
    KinesisStreamEvent,
    KinesisStreamRecord,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from asset_events.bootstrap import stream_consumer
from asset_events.domain import AssetEventsError
from asset_events.observability import logger, metrics, tracer
from asset_events.settings import Settings
from asset_events.stream import StreamConsumer


class RecordNotDecidedError(AssetEventsError):
    """The record's decision could not be completed; it is delivered again."""


@lru_cache(maxsize=1)
def default_consumer() -> StreamConsumer:
    return stream_consumer(Settings())


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(
    event: dict[str, Any], context: LambdaContext, consumer: StreamConsumer | None = None
) -> PartialItemFailureResponse:
    records = list(KinesisStreamEvent(event).records)
    failed = set((consumer or default_consumer()).handle(records).failed)

    def record_handler(record: KinesisStreamRecord) -> None:
        if record.kinesis.sequence_number in failed:
            raise RecordNotDecidedError(record.kinesis.sequence_number)

    processor = BatchProcessor(
        event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False
    )
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
