"""The gate function end to end over fakes: parsing at the edge, partial batch failures, retries."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from ingest_gate.consumer import POISON_DELAY_SECONDS, Consumer, retry_delay
from ingest_gate.domain import ClaimHeldError, JobNotFoundError, RecordState
from ingest_gate.gate import GateConfig
from ingest_gate.handlers.gate import handler
from ingest_gate.observability import metrics
from ingest_gate_fakes import FakeDeferrer, FakeLambdaContext, World
from rocket_contracts.bus import ContractViolation
from rocket_contracts.testing import RecordingDeadLetters

EVENTS = Path(__file__).parent.parent / "events"
VALID, INVALID, SNS_ENVELOPED = 0, 1, 2


def sample_event() -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "sqs_requests.json").read_text())
    return event


@pytest.fixture
def gate_world(world: World) -> World:
    world.config = GateConfig(allowed_jobs=frozenset({"rocket-local-ingest-gate-canary"}))
    return world


def test_invalid_record_fails_alone_and_the_valid_ones_start(gate_world: World) -> None:
    event = sample_event()
    deferrer = FakeDeferrer()

    response = handler(event, FakeLambdaContext(), consumer=Consumer(gate_world.gate(), deferrer))

    assert response == {
        "batchItemFailures": [{"itemIdentifier": event["Records"][INVALID]["messageId"]}]
    }
    assert sorted(gate_world.store.records) == ["tx-2026-11-22-0001", "tx-2026-11-22-0002"]
    assert {e.transaction_id for e, _ in gate_world.publisher.started_events} == {
        "tx-2026-11-22-0001",
        "tx-2026-11-22-0002",
    }
    # The correlation id travels from the request's envelope to the started event.
    assert {c for _, c in gate_world.publisher.started_events} == {
        "3f0c2d9e-7d1b-4a8e-9c55-0b8f6f6f1a11"
    }
    # The poison message comes back soon, to reach the DLQ after maxReceiveCount.
    assert deferrer.deferred == [(event["Records"][INVALID]["receiptHandle"], POISON_DELAY_SECONDS)]


def test_invalid_record_goes_to_the_dlq_at_once_with_its_reason_and_the_batch_succeeds(
    gate_world: World,
) -> None:
    event = sample_event()
    deferrer, dead_letters = FakeDeferrer(), RecordingDeadLetters()
    consumer = Consumer(gate_world.gate(), deferrer, dead_letters)

    response = handler(event, FakeLambdaContext(), consumer=consumer)

    assert response == {"batchItemFailures": []}
    [(body, reason, detail, message_id)] = dead_letters.sent
    poison = event["Records"][INVALID]
    assert (body, reason, message_id) == (
        poison["body"],
        "contract_violation",
        poison["messageId"],
    )
    assert "transaction_id" in detail
    assert sorted(gate_world.store.records) == ["tx-2026-11-22-0001", "tx-2026-11-22-0002"]
    assert deferrer.deferred == []


def test_when_the_dlq_send_fails_the_invalid_record_fails_and_comes_back_soon(
    gate_world: World,
) -> None:
    event = sample_event()
    deferrer = FakeDeferrer()
    dead_letters = RecordingDeadLetters(fail_with=ConnectionError("sqs unreachable"))
    consumer = Consumer(gate_world.gate(), deferrer, dead_letters)

    response = handler(event, FakeLambdaContext(), consumer=consumer)

    poison = event["Records"][INVALID]
    assert response == {"batchItemFailures": [{"itemIdentifier": poison["messageId"]}]}
    assert deferrer.deferred == [(poison["receiptHandle"], POISON_DELAY_SECONDS)]
    assert len(gate_world.glue.runs) == 2


def test_invalid_message_is_logged_with_its_validation_errors_and_counted(
    gate_world: World, caplog: pytest.LogCaptureFixture
) -> None:
    record = sample_event()["Records"][INVALID]
    metrics.clear_metrics()

    with pytest.raises(ContractViolation):
        Consumer(gate_world.gate())(record)

    [logged] = [r for r in caplog.records if r.getMessage() == "invalid message"]
    assert logged.message_id == record["messageId"]
    assert any("transaction_id" in error for error in logged.errors)
    assert any("requested_by" in error for error in logged.errors)
    assert metrics.metric_set["InvalidMessages"]["Value"] == [1.0]
    metrics.clear_metrics()


def test_unknown_properties_are_left_out_and_logged_and_the_job_starts(
    gate_world: World, caplog: pytest.LogCaptureFixture
) -> None:
    record = copy.deepcopy(sample_event()["Records"][VALID])
    body = json.loads(record["body"])
    body["data"]["priority"] = "high"
    record["body"] = json.dumps(body)

    result = Consumer(gate_world.gate())(record)

    assert result.job_run_id is not None
    assert [args for _, args, _ in gate_world.glue.runs] == [
        {
            **{f"--{k}": v for k, v in body["data"]["arguments"].items()},
            "--transaction_id": body["data"]["transaction_id"],
        }
    ]
    [logged] = [r for r in caplog.records if r.getMessage() == "unknown properties ignored"]
    assert logged.ignored == ["$.data.priority"]
    assert logged.transaction_id == body["data"]["transaction_id"]


def test_a_valid_message_of_another_type_is_a_contract_violation(gate_world: World) -> None:
    record = copy.deepcopy(sample_event()["Records"][VALID])
    body = json.loads(record["body"])
    body["type"] = "ingest.job.started.v1"
    record["body"] = json.dumps(body)

    with pytest.raises(ContractViolation):
        Consumer(gate_world.gate())(record)
    assert gate_world.glue.runs == []


def test_redelivery_of_the_whole_batch_starts_nothing_new(gate_world: World) -> None:
    consumer = Consumer(gate_world.gate())
    handler(sample_event(), FakeLambdaContext(), consumer=consumer)

    response = handler(sample_event(), FakeLambdaContext(), consumer=consumer)

    assert len(response["batchItemFailures"]) == 1
    assert len(gate_world.glue.runs) == 2
    assert len(gate_world.publisher.started_events) == 2


def test_a_held_claim_is_retried_with_growing_delays(gate_world: World) -> None:
    deferrer = FakeDeferrer()
    record = sample_event()["Records"][VALID]
    gate_world.glue.fail_with.append(JobNotFoundError("x"))
    with pytest.raises(JobNotFoundError):
        Consumer(gate_world.gate(), deferrer)(record)

    record["attributes"]["ApproximateReceiveCount"] = "2"
    gate_world.store.records["tx-2026-11-22-0001"] = (
        gate_world.store.record("tx-2026-11-22-0001").renewed(
            now=gate_world.clock.now,
            ttl=gate_world.config.claim_ttl,
            correlation_id="other",
        ),
        '"held"',
    )
    with pytest.raises(ClaimHeldError):
        Consumer(gate_world.gate(), deferrer)(record)

    assert [seconds for _, seconds in deferrer.deferred] == [2, 8]
    assert gate_world.store.record("tx-2026-11-22-0001").state is RecordState.IN_PROGRESS


def test_retry_delays_outlast_a_crashed_holders_claim() -> None:
    claim_ttl = GateConfig(allowed_jobs=frozenset()).claim_ttl.total_seconds()
    max_receive_count = 5
    waits = [retry_delay(ClaimHeldError("tx"), n) for n in range(1, max_receive_count)]

    assert sum(waits) > claim_ttl
    assert retry_delay(ClaimHeldError("tx"), 50) == 900  # SQS's 12 h cap is never approached
