"""ingest-gate's producer and consumer contracts.

Producer: every message the gate publishes, on every path (started, recovered, both rejection
reasons), validates against its schema and parses back as its model. Consumer: every example of
every type it consumes parses in its handler and reaches the gate.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from ingest_gate.adapters.bus_publisher import SOURCE, BusPublisher
from ingest_gate.consumer import Consumer
from ingest_gate.domain import (
    TRANSACTION_ARGUMENT,
    AlreadyClaimedError,
    IdempotencyRecord,
    JobRequest,
    RecordState,
    StaleRecordError,
    StoredRecord,
)
from ingest_gate.gate import Gate, GateConfig
from ingest_gate.handlers.gate import handler
from rocket_contracts import registry
from rocket_contracts.bus import ContractViolation, parse_message, to_json, wrap
from rocket_contracts.testing import CapturingSns
from rocket_contracts.validation import errors as schema_errors

REPO_ROOT = Path(__file__).resolve().parents[2]
MANIFEST = yaml.safe_load((REPO_ROOT / "services" / "ingest-gate" / "messages.yaml").read_text())
CONSUMED: list[str] = sorted(MANIFEST["consumes"])
PRODUCED: list[str] = sorted(MANIFEST["produces"])
JOB = "rocket-contract-ingest-gate-canary"


class MemoryStore:
    def __init__(self) -> None:
        self.records: dict[str, tuple[IdempotencyRecord, str]] = {}
        self._lock = threading.Lock()
        self._n = 0

    def claim(self, record: IdempotencyRecord) -> StoredRecord:
        with self._lock:
            if record.transaction_id in self.records:
                raise AlreadyClaimedError(record.transaction_id)
            return self._put(record)

    def get(self, transaction_id: str) -> StoredRecord | None:
        found = self.records.get(transaction_id)
        return StoredRecord(*found) if found else None

    def replace(self, record: IdempotencyRecord, *, etag: str) -> StoredRecord:
        with self._lock:
            if self.records.get(record.transaction_id, (None, None))[1] != etag:
                raise StaleRecordError(record.transaction_id)
            return self._put(record)

    def _put(self, record: IdempotencyRecord) -> StoredRecord:
        self._n += 1
        self.records[record.transaction_id] = (record, str(self._n))
        return StoredRecord(record, str(self._n))


class MemoryGlue:
    def __init__(self) -> None:
        self.runs: list[dict[str, str]] = []

    def start(self, job_name: str, arguments: dict[str, str]) -> str:
        self.runs.append(dict(arguments))
        return f"jr_{len(self.runs):064d}"

    def find_run(self, job_name: str, transaction_id: str) -> str | None:
        for n, arguments in enumerate(self.runs, start=1):
            if arguments.get(TRANSACTION_ARGUMENT) == transaction_id:
                return f"jr_{n:064d}"
        return None

    def defined_arguments(self, job_name: str) -> frozenset[str]:
        return frozenset()


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def gate_over(sns: CapturingSns, glue: MemoryGlue, store: MemoryStore, clock: Clock) -> Gate:
    return Gate(
        store=store,
        runner=glue,
        publisher=BusPublisher(topic_arn="arn:aws:sns:us-east-1:123456789012:events", client=sns),  # type: ignore[arg-type]
        config=GateConfig(allowed_jobs=frozenset({JOB})),
        clock=clock,
    )


def request(transaction_id: str, job: str = JOB, **arguments: str) -> JobRequest:
    return JobRequest(transaction_id, job, arguments, "contract-tests", "corr-contract")


def in_progress(transaction_id: str, clock: Clock, *, expires_in: timedelta) -> IdempotencyRecord:
    """The claim a crashed (or still running) attempt left behind."""
    return IdempotencyRecord(
        transaction_id,
        state=RecordState.IN_PROGRESS,
        request_hash=request(transaction_id).request_hash(),
        job_name=JOB,
        claim_expires_at=clock.now + expires_in,
        attempt=1,
        correlation_id="corr-crashed",
        updated_at=clock.now - timedelta(minutes=5),
    )


def every_emitted_message() -> list[tuple[str, Mapping[str, Any]]]:
    sns, glue, store, clock = CapturingSns(), MemoryGlue(), MemoryStore(), Clock()
    gate = gate_over(sns, glue, store, clock)
    gate.handle(request("tx-started", dataset="sales", prefix="sales/2026/11/"))
    gate.handle(request("tx-unknown", job="not-allowed"))
    gate.handle(request("tx-started", dataset="other"))  # conflicts with a started run
    # A crash after StartJobRun: the takeover publishes a recovered start.
    glue.start(JOB, {TRANSACTION_ARGUMENT: "tx-recovered"})
    store.claim(in_progress("tx-recovered", clock, expires_in=timedelta(0)))
    gate.handle(request("tx-recovered"))
    # A conflict while the first request has not started yet: no run id to report.
    store.claim(in_progress("tx-pending", clock, expires_in=timedelta(minutes=2)))
    gate.handle(request("tx-pending", dataset="other"))
    return sns.messages


EMITTED = every_emitted_message()


def test_the_gate_emits_every_type_it_declares_and_nothing_else() -> None:
    emitted_types = {attributes["type"]["StringValue"] for _, attributes in EMITTED}
    assert emitted_types == set(PRODUCED)
    reasons = {parse_message(body).data.model_dump().get("reason") for body, _ in EMITTED}
    assert {"UNKNOWN_JOB", "CONFLICTING_PAYLOAD"} <= reasons


@pytest.mark.parametrize("message", EMITTED, ids=lambda m: str(m[1]["type"]["StringValue"]))
def test_every_emitted_message_validates_against_its_schema(
    message: tuple[str, Mapping[str, Any]],
) -> None:
    body, attributes = message
    parsed = parse_message(body)

    assert attributes["type"]["StringValue"] == parsed.event_type
    assert parsed.envelope.source == SOURCE
    assert parsed.correlation_id == "corr-contract"
    data = parsed.data.model_dump(mode="json", exclude_none=True)
    assert schema_errors(registry.schema_for(parsed.event_type), data) == []
    assert isinstance(parsed.data, registry.model_for(parsed.event_type))


def test_the_manifest_names_registered_types_and_an_existing_handler() -> None:
    registered = set(registry.event_types())
    assert set(CONSUMED) <= registered
    assert set(PRODUCED) <= registered
    for module in MANIFEST["consumes"].values():
        assert callable(__import__(module, fromlist=["handler"]).handler)


def sqs_record(body: str, n: int) -> dict[str, Any]:
    return {
        "messageId": f"contract-{n}",
        "receiptHandle": f"receipt-{n}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1795316400120",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1795316400125",
        },
        "messageAttributes": {},
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:rocket-contract-ingest-gate-requests",
        "awsRegion": "us-east-1",
    }


class LambdaContext:
    function_name = "rocket-contract-ingest-gate"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:x"
    memory_limit_in_mb = 256
    aws_request_id = "contract"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.mark.parametrize("event_type", CONSUMED)
def test_every_example_of_a_consumed_type_parses_in_the_handler(event_type: str) -> None:
    examples = registry.schema_for(event_type)["examples"]
    model = registry.model_for(event_type)
    sns, glue, store, clock = CapturingSns(), MemoryGlue(), MemoryStore(), Clock()
    gate = Gate(
        store=store,
        runner=glue,
        publisher=BusPublisher(topic_arn="arn:aws:sns:us-east-1:123456789012:e", client=sns),  # type: ignore[arg-type]
        config=GateConfig(allowed_jobs=frozenset(e["job_name"] for e in examples)),
        clock=clock,
    )
    bodies = [
        to_json(wrap(model.model_validate(example), correlation_id=f"c-{n}", source="rocket/x"))
        for n, example in enumerate(examples)
    ]
    event = {"Records": [sqs_record(body, n) for n, body in enumerate(bodies)]}

    response = handler(event, LambdaContext(), consumer=Consumer(gate))

    assert response == {"batchItemFailures": []}
    assert sorted(store.records) == sorted(e["transaction_id"] for e in examples)
    assert len(glue.runs) == len(examples)


def test_a_message_breaking_the_contract_fails_in_the_handler() -> None:
    example = registry.schema_for("ingest.job.requested.v1")["examples"][0]
    model = registry.model_for("ingest.job.requested.v1").model_validate(example)
    envelope = json.loads(to_json(wrap(model, correlation_id="c", source="rocket/x")))
    envelope["data"]["arguments"] = {"transaction_id": "reserved"}  # the gate's own argument
    sns, glue, store, clock = CapturingSns(), MemoryGlue(), MemoryStore(), Clock()

    with pytest.raises(ContractViolation):
        Consumer(gate_over(sns, glue, store, clock))(sqs_record(json.dumps(envelope), 0))
    assert glue.runs == []
