"""Lambda entry point of the gate: wiring only."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from ingest_gate.bootstrap import bootstrap
from ingest_gate.consumer import Consumer
from ingest_gate.observability import logger, metrics, tracer
from ingest_gate.settings import Settings


@lru_cache(maxsize=1)
def default_consumer() -> Consumer:
    return bootstrap(Settings())


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(
    event: dict[str, Any], context: LambdaContext, consumer: Consumer | None = None
) -> PartialItemFailureResponse:
    # A processor per invocation: it holds the batch's results, and the local runtime may run
    # invocations of one function concurrently in one process.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event=event,
        record_handler=consumer or default_consumer(),
        processor=processor,
        context=context,
    )
