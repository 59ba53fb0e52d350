"""Schedule Lambda: the daily EventBridge rule asks for yesterday's compaction on the bus, so a
scheduled day and a requested day take the same path (and the same lock)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from compactor.adapters.bus import SnsPublisher
from compactor.bootstrap import publisher
from compactor.observability import logger, metrics, tracer
from compactor.requests import daily_request


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(
    event: dict[str, Any], context: LambdaContext, bus: SnsPublisher | None = None
) -> dict[str, str]:
    request = daily_request(datetime.fromisoformat(str(event["time"])))
    (bus or publisher()).publish(
        request, correlation_id=request.request_id, subject=request.date.isoformat()
    )
    logger.info("daily compaction requested", extra={"date": str(request.date)})
    return {"request_id": request.request_id, "date": request.date.isoformat()}
