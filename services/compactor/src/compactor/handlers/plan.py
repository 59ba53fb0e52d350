"""Plan Lambda (the workflow's first state): take the day's lock, then say busy, done,
empty, or the ranges of the manifest it wrote to S3."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from compactor.bootstrap import compactor
from compactor.handlers import job_log_keys
from compactor.observability import logger, metrics, tracer
from compactor.steps import Job
from compactor.workflow import Compactor


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext, app: Compactor | None = None) -> Any:
    job = Job.model_validate(event["job"])
    job_log_keys(job)
    return (app or compactor()).plan(job).model_dump(mode="json")
