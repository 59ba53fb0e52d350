"""Release Lambda (every Catch ends here): give the day's lock back and say why the
execution failed."""

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
    released = (app or compactor()).release(job)
    metrics.add_metric(name="ExecutionsFailed", unit="Count", value=1)
    logger.error("execution failed", extra={"error": event.get("error"), "released": released})
    return {"released": released}
