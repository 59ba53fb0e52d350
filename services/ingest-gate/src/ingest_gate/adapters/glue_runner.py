"""Start Glue job runs, and find the run a crashed attempt may have started."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ingest_gate.domain import (
    TRANSACTION_ARGUMENT,
    GlueUnavailableError,
    JobNotFoundError,
    StartThrottledError,
)

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient

# Glue refused the start: no run exists, so the request can simply be tried again later.
_THROTTLED = frozenset(
    {
        "ThrottlingException",
        "ConcurrentRunsExceededException",
        "ResourceNumberLimitExceededException",
    }
)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextlib.contextmanager
def _reading(job_name: str) -> Iterator[None]:
    """A read of the job (its definition, its runs) failing as the gate's errors."""
    try:
        yield
    except ClientError as exc:
        if _code(exc) == "EntityNotFoundException":
            raise JobNotFoundError(job_name) from exc
        raise GlueUnavailableError(_code(exc)) from exc
    except BotoCoreError as exc:
        raise GlueUnavailableError(type(exc).__name__) from exc


class GlueJobRunner:
    def __init__(self, *, client: GlueClient | None = None) -> None:
        self._client: GlueClient = client or boto3.client("glue")
        # A job's definition changes only with a deploy, which replaces the function's workers.
        self._defined: dict[str, frozenset[str]] = {}

    def defined_arguments(self, job_name: str) -> frozenset[str]:
        if job_name not in self._defined:
            with _reading(job_name):
                job = self._client.get_job(JobName=job_name)["Job"]
            self._defined[job_name] = frozenset(
                [*job.get("DefaultArguments", {}), *job.get("NonOverridableArguments", {})]
            )
        return self._defined[job_name]

    def start(self, job_name: str, arguments: dict[str, str]) -> str:
        try:
            response = self._client.start_job_run(JobName=job_name, Arguments=arguments)
        except ClientError as exc:
            code = _code(exc)
            if code in _THROTTLED:
                raise StartThrottledError(code) from exc
            if code == "EntityNotFoundException":
                raise JobNotFoundError(job_name) from exc
            raise GlueUnavailableError(code) from exc
        except BotoCoreError as exc:
            # A timeout may hide a run that did start: leave the claim, takeover looks it up.
            raise GlueUnavailableError(type(exc).__name__) from exc
        return response["JobRunId"]

    def find_run(self, job_name: str, transaction_id: str) -> str | None:
        """Any run of the job carrying this --transaction_id, whatever its state.

        A run that started and then failed still counts: the gate promises one start per
        transaction id, and re-running a failed job is an operator decision.
        """
        with _reading(job_name):
            for page in self._client.get_paginator("get_job_runs").paginate(JobName=job_name):
                for run in page.get("JobRuns", []):
                    if run.get("Arguments", {}).get(TRANSACTION_ARGUMENT) == transaction_id:
                        return run["Id"]
        return None
