"""Compact Lambda (one Map iteration): one range of the manifest into one Parquet file."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from compactor.bootstrap import compactor
from compactor.handlers import job_log_keys
from compactor.observability import logger, metrics, tracer
from compactor.steps import RangeTask
from compactor.workflow import Compactor


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext, app: Compactor | None = None) -> Any:
    task = RangeTask.model_validate(event)
    job_log_keys(task.job)
    return (app or compactor()).compact_range(task).model_dump(mode="json")
