"""Lambda entry point of the upsert producer on the upsert queue: wiring only."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from asset_events.bootstrap import upsert_consumer
from asset_events.domain import UpsertRequest
from asset_events.observability import logger, metrics, tracer
from asset_events.queues import RequestConsumer
from asset_events.settings import Settings
from asset_events.sqs_batch import respond


@lru_cache(maxsize=1)
def default_consumer() -> RequestConsumer[UpsertRequest]:
    return upsert_consumer(Settings())


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(
    event: dict[str, Any],
    context: LambdaContext,
    consumer: RequestConsumer[UpsertRequest] | None = None,
) -> PartialItemFailureResponse:
    return respond(event, context, consumer or default_consumer())
