"""The compactor's Lambda handlers: wiring only.

Step handlers return the step's result as JSON; a raised exception is the step's failure, and
the state machine's Retry and Catch decide what follows (the error type is the exception's
class name, as Lambda reports it).
"""

from __future__ import annotations

from compactor.observability import logger
from compactor.steps import Job


def job_log_keys(job: Job) -> None:
    logger.append_keys(
        correlation_id=job.correlation_id,
        domain=job.domain,
        date=job.date.isoformat(),
        execution=job.execution,
    )
