"""What a request cannot smuggle past the gate: an argument Glue reads itself (what code runs,
with the job's role), a transaction id that could name a key outside the records' prefix, JSON
two readers would read differently. Each fails its record as invalid (counted, to the DLQ soon)
and the valid requests of the same batch start."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ingest_gate.consumer import POISON_DELAY_SECONDS, Consumer
from ingest_gate.domain import DefinedArgumentError
from ingest_gate.gate import GateConfig
from ingest_gate.handlers.gate import handler
from ingest_gate.observability import metrics
from ingest_gate_fakes import FakeDeferrer, FakeLambdaContext, World
from rocket_contracts.bus import ContractViolation
from rocket_contracts.models.ingest.job_requested_v1 import IngestJobRequestedV1
from rocket_contracts.testing import RecordingDeadLetters, sqs_record, sqs_record_for

JOB = "rocket-local-etl-layers-reprocess"


@pytest.fixture
def gate_world(world: World) -> World:
    world.config = GateConfig(allowed_jobs=frozenset({JOB}))
    return world


def _request(transaction_id: str, **arguments: str) -> IngestJobRequestedV1:
    return IngestJobRequestedV1.model_validate(
        {
            "transaction_id": transaction_id,
            "job_name": JOB,
            "arguments": {"dataset": "transactions", "prefix": "transactions/", **arguments},
            "requested_by": "test",
            "requested_at": "2026-11-22T03:00:00Z",
        }
    )


@pytest.mark.parametrize(
    "name",
    [
        "additional-python-modules",
        "extra-py-files",
        "scriptLocation",
        "scriptlocation",
        "conf",
        "TempDir",
        "job-language",
        "enable-glue-datacatalog",
        "continuous-log-logGroup",
        "JOB_NAME",
    ],
)
def test_an_argument_glue_reads_itself_is_an_invalid_message(
    gate_world: World, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    record = sqs_record_for(_request("tx-1", **{name: "s3://elsewhere/code.whl"}))
    metrics.clear_metrics()

    with pytest.raises(ContractViolation) as caught:
        Consumer(gate_world.gate())(record)

    assert caught.value.summary == "reserved job argument"
    assert caught.value.errors == [f"$.data.arguments.{name}: Glue reads --{name} itself"]
    assert gate_world.glue.runs == []
    assert gate_world.store.records == {}
    [logged] = [r for r in caplog.records if r.getMessage() == "invalid message"]
    assert logged.__dict__["summary"] == "reserved job argument"
    assert metrics.metric_set["InvalidMessages"]["Value"] == [1.0]
    metrics.clear_metrics()


def _body(record: dict[str, Any]) -> str:
    body: str = record["body"]
    return body


def test_a_batch_starts_its_valid_requests_beside_the_hostile_ones(gate_world: World) -> None:
    good = sqs_record_for(_request("tx-good"))
    valid_body = json.loads(_body(good))
    hostile_ids = ["../../etc", "/abs", "a/../../b", "tx\x00", "tx\u202e", "tx\n", "x" * 10_000]
    hostile = [
        sqs_record(json.dumps({**valid_body, "data": {**valid_body["data"], "transaction_id": t}}))
        for t in hostile_ids
    ]
    duplicate = sqs_record(_body(good)[:-1] + ',"data":{}}')
    glue_code = sqs_record_for(_request("tx-code", **{"extra-py-files": "s3://x/evil.py"}))
    records = [*hostile, duplicate, glue_code, good]
    deferrer = FakeDeferrer()

    response = handler(
        {"Records": records}, FakeLambdaContext(), consumer=Consumer(gate_world.gate(), deferrer)
    )

    failed = [r["messageId"] for r in records[:-1]]
    assert response == {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}
    assert list(gate_world.store.records) == ["tx-good"]
    assert [(name, args["--transaction_id"]) for name, args, _ in gate_world.glue.runs] == [
        (JOB, "tx-good")
    ]
    # Poison comes back soon, to reach the DLQ after maxReceiveCount.
    assert {seconds for _, seconds in deferrer.deferred} == {POISON_DELAY_SECONDS}
    assert len(deferrer.deferred) == len(failed)


def test_ordinary_job_arguments_still_start_the_job(gate_world: World) -> None:
    record = sqs_record_for(_request("tx-ok", extra="1", enable="yes", sparkle="x"))

    Consumer(gate_world.gate())(record)

    [(_, arguments, _)] = gate_world.glue.runs
    assert {k: v for k, v in arguments.items() if k != "--transaction_id"} == {
        "--dataset": "transactions",
        "--prefix": "transactions/",
        "--extra": "1",
        "--enable": "yes",
        "--sparkle": "x",
    }


def test_an_argument_the_job_defines_itself_is_an_invalid_message(
    gate_world: World, caplog: pytest.LogCaptureFixture
) -> None:
    # The reprocess job's definition names its buckets and topic: a request may not move them.
    gate_world.glue.definitions[JOB] = frozenset({"--trusted_bucket", "--event_topic_arn"})
    record = sqs_record_for(_request("tx-1", trusted_bucket="someone-elses-bucket"))
    deferrer = FakeDeferrer()
    metrics.clear_metrics()

    with pytest.raises(DefinedArgumentError, match=r"defines --trusted_bucket itself"):
        Consumer(gate_world.gate(), deferrer)(record)

    assert gate_world.glue.runs == []
    assert gate_world.store.records == {}  # refused before any claim: nothing to clean up
    assert deferrer.deferred == [(record["receiptHandle"], POISON_DELAY_SECONDS)]
    [logged] = [r for r in caplog.records if r.getMessage() == "invalid message"]
    assert logged.__dict__["summary"] == f"{JOB} defines --trusted_bucket itself"
    assert metrics.metric_set["InvalidMessages"]["Value"] == [1.0]
    metrics.clear_metrics()


def test_an_argument_the_job_defines_goes_to_the_dlq_with_its_own_reason(
    gate_world: World,
) -> None:
    gate_world.glue.definitions[JOB] = frozenset({"--trusted_bucket"})
    record = sqs_record_for(_request("tx-1", trusted_bucket="someone-elses-bucket"))
    dead_letters = RecordingDeadLetters()

    assert Consumer(gate_world.gate(), dead_letters=dead_letters)(record) is None

    [(body, reason, detail, _)] = dead_letters.sent
    assert (body, reason) == (record["body"], "defined_argument")
    assert "defines --trusted_bucket itself" in detail
    assert gate_world.glue.runs == []


def test_arguments_the_job_does_not_define_still_start_it(gate_world: World) -> None:
    gate_world.glue.definitions[JOB] = frozenset({"--trusted_bucket"})

    Consumer(gate_world.gate())(sqs_record_for(_request("tx-ok")))

    assert [args["--dataset"] for _, args, _ in gate_world.glue.runs] == ["transactions"]
