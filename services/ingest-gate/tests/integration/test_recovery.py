"""Crash recovery with the real adapters on moto: the takeover finds the run by its argument."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from ingest_gate.adapters.bus_publisher import BusPublisher
from ingest_gate.adapters.glue_runner import GlueJobRunner
from ingest_gate.adapters.s3_store import S3IdempotencyStore
from ingest_gate.domain import IdempotencyRecord, JobRequest, Outcome, RecordState
from ingest_gate.gate import Gate, GateConfig
from moto import mock_aws

JOB = "rocket-test-ingest-gate-canary"
T0 = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


@dataclass
class Parts:
    store: S3IdempotencyStore
    runner: GlueJobRunner
    gate: Gate


@pytest.fixture
def parts() -> Iterator[Parts]:
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        session.client("s3").create_bucket(Bucket="idem")
        session.client("glue").create_job(
            Name=JOB,
            Role="arn:aws:iam::123456789012:role/glue",
            Command={"Name": "pythonshell", "ScriptLocation": "s3://a/canary.py"},
            ExecutionProperty={"MaxConcurrentRuns": 1000},
        )
        topic = session.client("sns").create_topic(Name="events")["TopicArn"]
        store = S3IdempotencyStore(
            bucket="idem", prefix="idempotency/", client=session.client("s3")
        )
        runner = GlueJobRunner(client=session.client("glue"))
        gate = Gate(
            store=store,
            runner=runner,
            publisher=BusPublisher(topic_arn=topic, client=session.client("sns")),
            config=GateConfig(allowed_jobs=frozenset({JOB})),
            clock=lambda: T0 + timedelta(minutes=10),  # well after the crashed claim expired
        )
        yield Parts(store, runner, gate)


def crashed_claim(request: JobRequest) -> IdempotencyRecord:
    return IdempotencyRecord(
        transaction_id=request.transaction_id,
        state=RecordState.IN_PROGRESS,
        request_hash=request.request_hash(),
        job_name=request.job_name,
        claim_expires_at=T0 + timedelta(seconds=120),
        attempt=1,
        correlation_id="crashed",
        updated_at=T0,
    )


def test_run_started_before_the_crash_is_adopted_among_many(parts: Parts) -> None:
    request = JobRequest("tx-57", JOB, {"dataset": "sales"}, "tests", "corr")
    for n in range(150):  # more than one GetJobRuns page of other transactions
        parts.runner.start(JOB, {"--transaction_id": f"tx-other-{n}"})
    started_before_crash = parts.runner.start(JOB, request.glue_arguments())
    parts.store.claim(crashed_claim(request))

    result = parts.gate.handle(request)

    assert (result.outcome, result.job_run_id) == (Outcome.RECOVERED, started_before_crash)
    stored = parts.store.get("tx-57")
    assert stored is not None
    assert (stored.record.state, stored.record.job_run_id) == (
        RecordState.COMPLETED,
        started_before_crash,
    )


def test_crash_before_the_start_starts_the_run_once(parts: Parts) -> None:
    request = JobRequest("tx-58", JOB, {}, "tests", "corr")
    parts.store.claim(crashed_claim(request))

    result = parts.gate.handle(request)
    again = parts.gate.handle(request)

    assert result.outcome is Outcome.STARTED
    assert again.outcome is Outcome.DUPLICATE
    assert parts.runner.find_run(JOB, "tx-58") == result.job_run_id
