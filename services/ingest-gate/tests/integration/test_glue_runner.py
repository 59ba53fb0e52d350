"""The Glue adapter against moto: starts, the crash-recovery lookup, and refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from ingest_gate.adapters.glue_runner import GlueJobRunner
from ingest_gate.domain import JobNotFoundError, StartThrottledError
from moto import mock_aws
from moto.moto_api import state_manager

JOB = "rocket-test-ingest-gate-canary"


@pytest.fixture
def glue() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("glue", region_name="us-east-1")
        client.create_job(
            Name=JOB,
            Role="arn:aws:iam::123456789012:role/glue",
            Command={"Name": "pythonshell", "ScriptLocation": "s3://artifacts/canary.py"},
            ExecutionProperty={"MaxConcurrentRuns": 1},
        )
        yield client


def test_start_passes_the_arguments_and_returns_the_run_id(glue: Any) -> None:
    runner = GlueJobRunner(client=glue)

    run_id = runner.start(JOB, {"--dataset": "sales", "--transaction_id": "tx-1"})

    run = glue.get_job_run(JobName=JOB, RunId=run_id)["JobRun"]
    assert run["Arguments"] == {"--dataset": "sales", "--transaction_id": "tx-1"}


def test_find_run_finds_the_run_of_a_transaction_among_others(glue: Any) -> None:
    runner = GlueJobRunner(client=glue)
    ids = {tx: runner.start(JOB, {"--transaction_id": tx}) for tx in ("tx-1", "tx-2", "tx-3")}

    assert runner.find_run(JOB, "tx-2") == ids["tx-2"]
    assert runner.find_run(JOB, "tx-9") is None


def test_defined_arguments_are_the_jobs_default_and_non_overridable_arguments(
    glue: Any,
) -> None:
    glue.create_job(
        Name="reprocess",
        Role="arn:aws:iam::123456789012:role/glue",
        Command={"Name": "glueetl", "ScriptLocation": "s3://artifacts/reprocess.py"},
        DefaultArguments={"--trusted_bucket": "trusted", "--job-language": "python"},
        NonOverridableArguments={"--event_topic_arn": "arn:aws:sns:us-east-1:1:t"},
    )
    runner = GlueJobRunner(client=glue)

    assert runner.defined_arguments("reprocess") == {
        "--trusted_bucket",
        "--job-language",
        "--event_topic_arn",
    }
    assert runner.defined_arguments(JOB) == frozenset()
    with pytest.raises(JobNotFoundError):
        runner.defined_arguments("missing")


def test_unknown_job_is_job_not_found(glue: Any) -> None:
    runner = GlueJobRunner(client=glue)
    with pytest.raises(JobNotFoundError):
        runner.start("missing", {"--transaction_id": "tx-1"})


def test_concurrent_runs_exceeded_is_throttling(glue: Any) -> None:
    runner = GlueJobRunner(client=glue)
    state_manager.set_transition("glue::job_run", {"progression": "manual", "times": 1000})
    try:
        runner.start(JOB, {"--transaction_id": "tx-1"})
        with pytest.raises(StartThrottledError, match="ConcurrentRunsExceeded"):
            runner.start(JOB, {"--transaction_id": "tx-2"})
    finally:
        state_manager.unset_transition("glue::job_run")
