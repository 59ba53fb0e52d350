"""Lambda entry point of the platform-assets consumer of the shared topic: wiring only."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from asset_events.bootstrap import platform_consumer
from asset_events.observability import logger, metrics, tracer
from asset_events.queues import PlatformConsumer
from asset_events.settings import Settings
from asset_events.sqs_batch import respond


@lru_cache(maxsize=1)
def default_consumer() -> PlatformConsumer:
    return platform_consumer(Settings())


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(
    event: dict[str, Any], context: LambdaContext, consumer: PlatformConsumer | None = None
) -> PartialItemFailureResponse:
    return respond(event, context, consumer or default_consumer())
