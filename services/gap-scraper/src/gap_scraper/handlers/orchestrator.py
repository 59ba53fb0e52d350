"""Lambda entry point of the orchestrator (EventBridge schedule): wiring only."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from gap_scraper.bootstrap import build_orchestrator
from gap_scraper.observability import logger, metrics, tracer
from gap_scraper.orchestrator import Orchestrator
from gap_scraper.settings import Settings


@lru_cache(maxsize=1)
def default_orchestrator() -> Orchestrator:
    return build_orchestrator(Settings())


def _now() -> datetime:
    return datetime.now(UTC)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(
    event: dict[str, Any],
    context: LambdaContext,
    orchestrator: Orchestrator | None = None,
    clock: Callable[[], datetime] = _now,
) -> dict[str, Any]:
    now = clock()
    run_id = f"gaps-{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    logger.append_keys(correlation_id=run_id)
    summary = (orchestrator or default_orchestrator()).run(run_id=run_id, now=now)
    for planned in summary.series:
        logger.info(
            "series planned",
            extra={
                "series_key": planned.info_type,
                "present": planned.present,
                "query_pages": planned.query_pages,
                "missing": planned.missing,
                "requests": planned.requests,
            },
        )
    metrics.add_metric(name="DownloadsRequested", unit=MetricUnit.Count, value=summary.requests)
    metrics.add_metric(
        name="DaysMissing", unit=MetricUnit.Count, value=sum(s.missing for s in summary.series)
    )
    return {
        "run_id": run_id,
        "schedule_time": event.get("time"),
        "requests": summary.requests,
        "batches": summary.batches,
        "series": {s.info_type: s.missing for s in summary.series},
    }
