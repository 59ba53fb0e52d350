"""Lambda entry point of the redrive function (on demand or on its schedule): wiring only.

Event: {"queue": "upsert" | "drop", "limit": <optional int>}.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from asset_events import bootstrap
from asset_events.observability import logger, metrics, tracer
from asset_events.redrive import redrive
from asset_events.settings import Settings

QUEUES = ("upsert", "drop")


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(
    event: dict[str, Any], context: LambdaContext, settings: Settings | None = None
) -> dict[str, Any]:
    queue = str(event.get("queue", ""))
    if queue not in QUEUES:
        raise ValueError(f"queue must be one of {', '.join(QUEUES)}, got {queue!r}")
    settings = settings or Settings()
    report = redrive(
        queue,
        bootstrap.mailbox(settings, queue),
        bootstrap.content_store(settings),
        max_attempts=settings.redrive_max_attempts,
        limit=int(event.get("limit", 1000)),
    )
    logger.info(
        "redrive done", extra={"queue": queue, "moved": report.moved, "parked": len(report.parked)}
    )
    metrics.add_metric(name="MessagesRedriven", unit=MetricUnit.Count, value=report.moved)
    if report.parked:
        logger.error("messages parked", extra={"queue": queue, "parked": list(report.parked)})
        metrics.add_metric(name="MessagesParked", unit=MetricUnit.Count, value=len(report.parked))
    return {"queue": queue, "moved": report.moved, "parked": list(report.parked)}
