"""In-memory stand-ins for the control table, content bucket, queues and topic, recording what
they received, plus builders of agent events."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from asset_events import agent_events
from asset_events.decisor import Decisor, DecisorConfig
from asset_events.domain import (
    AssetRecord,
    AssetState,
    DropRequest,
    Observation,
    Origin,
    Quarantined,
    RunCompleted,
    SeenMark,
    StoreUnavailableError,
    UpsertRequest,
    VersionConflictError,
)
from asset_events.ports import QueueMessage
from asset_events.producers import DropProducer, UpsertProducer

T0 = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
AGENT = "erp-catalog-agent"
SYSTEM = "postgres-erp"


class FakeControlStore:
    def __init__(self) -> None:
        self.states: dict[str, AssetState] = {}
        self.seen: dict[str, SeenMark] = {}
        self.reads: list[list[str]] = []
        self.seen_writes: list[list[SeenMark]] = []
        self.state_writes = 0
        self.lock = threading.Lock()
        self.lag_seen: dict[str, SeenMark] = {}  # what the index shows, when it lags

    def read(self, asset_ids: Sequence[str]) -> dict[str, AssetRecord]:
        self.reads.append(list(asset_ids))
        with self.lock:
            return {
                a: AssetRecord(self.states.get(a), self.seen.get(a))
                for a in asset_ids
                if a in self.states or a in self.seen
            }

    def mark_seen(self, marks: Sequence[SeenMark]) -> None:
        self.seen_writes.append(list(marks))
        with self.lock:
            for mark in marks:
                self.seen[mark.asset_id] = mark

    def agent_records(self, agent: str) -> dict[str, AssetRecord]:
        with self.lock:
            seen = {**self.seen, **self.lag_seen}
            ids = {a for a, s in self.states.items() if s.agent == agent}
            ids |= {a for a, m in seen.items() if m.agent == agent}
            return {a: AssetRecord(self.states.get(a), seen.get(a)) for a in ids}

    def put_state(self, state: AssetState, *, expected_version: int | None) -> None:
        with self.lock:
            current = self.states.get(state.asset_id)
            if (current.version if current else None) != expected_version:
                raise VersionConflictError(state.asset_id)
            self.states[state.asset_id] = state
            self.state_writes += 1


class FakeContentStore:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.puts = 0

    def put_content(self, asset_id: str, content_hash: str, content: bytes) -> str:
        key = f"assets/{asset_id}/{content_hash}.json"
        self.puts += 1
        self.objects.setdefault(key, content)
        return f"s3://content/{key}"

    def quarantine(self, item: Quarantined) -> str:
        key = f"quarantine/{item.key}.json"
        self.objects[key] = json.dumps(
            {"reason": item.reason, "errors": list(item.errors)}
        ).encode()
        return f"s3://content/{key}"

    def keep_withheld(self, agent: str, run_id: str, document: bytes) -> str:
        key = f"withheld/{agent}/{run_id}.json"
        self.objects[key] = document
        return f"s3://content/{key}"

    def park(self, key: str, document: bytes) -> str:
        self.objects[key] = document
        return f"s3://content/{key}"


class FakeSender:
    def __init__(self) -> None:
        self.upserts: list[UpsertRequest] = []
        self.drops: list[DropRequest] = []
        self.fail_assets: set[str] = set()

    def send_upserts(self, requests: Sequence[UpsertRequest]) -> set[str]:
        failed = {r.decision_id for r in requests if r.asset_id in self.fail_assets}
        self.upserts += [r for r in requests if r.decision_id not in failed]
        return failed

    def send_drops(self, requests: Sequence[DropRequest]) -> set[str]:
        failed = {r.decision_id for r in requests if r.asset_id in self.fail_assets}
        self.drops += [r for r in requests if r.decision_id not in failed]
        return failed


class RecordingPublisher:
    def __init__(self) -> None:
        self.upserts: list[tuple[AssetState, Origin]] = []
        self.drops: list[tuple[AssetState, DropRequest]] = []
        self.fail_next = 0

    def upserted(self, state: AssetState, *, origin: Origin, correlation_id: str) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise StoreUnavailableError("topic down")
        self.upserts.append((state, origin))

    def dropped(self, state: AssetState, *, request: DropRequest) -> None:
        self.drops.append((state, request))


class FakeMailbox:
    def __init__(self, dead: list[QueueMessage] | None = None) -> None:
        self.dead: list[QueueMessage] = list(dead or [])
        self.sent: list[tuple[str, dict[str, str]]] = []

    def receive_dead(self, max_messages: int) -> list[QueueMessage]:
        return self.dead[:max_messages]

    def send_back(self, message: QueueMessage, attributes: Mapping[str, str]) -> None:
        self.sent.append((message.body, dict(attributes)))

    def delete_dead(self, message: QueueMessage) -> None:
        self.dead.remove(message)


@dataclass
class World:
    store: FakeControlStore = field(default_factory=FakeControlStore)
    content: FakeContentStore = field(default_factory=FakeContentStore)
    sender: FakeSender = field(default_factory=FakeSender)
    publisher: RecordingPublisher = field(default_factory=RecordingPublisher)
    now: datetime = T0 + timedelta(days=30)

    def decisor(self, threshold: float = 0.2) -> Decisor:
        return Decisor(
            store=self.store,
            content=self.content,
            sender=self.sender,
            config=DecisorConfig(drop_threshold=threshold),
            clock=lambda: self.now,
        )

    def upsert_producer(self) -> UpsertProducer:
        return UpsertProducer(store=self.store, publisher=self.publisher, clock=lambda: self.now)

    def drop_producer(self) -> DropProducer:
        return DropProducer(store=self.store, publisher=self.publisher, clock=lambda: self.now)

    def apply_all(self) -> None:
        """Drain the fake queues through the producers, as the queues' functions would."""
        upserts, self.sender.upserts = self.sender.upserts, []
        drops, self.sender.drops = self.sender.drops, []
        for request in upserts:
            self.upsert_producer().apply(request)
        for request in drops:
            self.drop_producer().apply(request)


def new_world() -> World:
    return World()


def running(
    table: str,
    *,
    run: str = "run-1",
    at: datetime = T0,
    columns: Sequence[tuple[str, str, bool]] = (("id", "bigint", False), ("name", "text", True)),
    properties: Mapping[str, str] | None = None,
    schema: str | None = "public",
    agent: str = AGENT,
    location: str | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": event_id or f"{run}-{table}",
        "agent": agent,
        "system": SYSTEM,
        "run_id": run,
        "status": "running",
        "emitted_at": at.isoformat(),
        "database": "sales",
        "table": table,
        "columns": [{"name": n, "type": t, "nullable": x} for n, t, x in columns],
    }
    if schema is not None:
        event["schema"] = schema
    if properties is not None:
        event["properties"] = dict(properties)
    if location is not None:
        event["location"] = location
    return event


def completed(
    *,
    run: str = "run-1",
    at: datetime = T0 + timedelta(minutes=5),
    reported: int,
    failed: int = 0,
    agent: str = AGENT,
) -> dict[str, Any]:
    return {
        "event_id": f"{run}-completed",
        "agent": agent,
        "system": SYSTEM,
        "run_id": run,
        "status": "completed",
        "emitted_at": at.isoformat(),
        "tables_reported": reported,
        "tables_failed": failed,
    }


def observation(event: dict[str, Any]) -> Observation:
    parsed = agent_events.parse(json.dumps(event).encode())
    assert isinstance(parsed, Observation)
    return parsed


def run_completed(event: dict[str, Any]) -> RunCompleted:
    parsed = agent_events.parse(json.dumps(event).encode())
    assert isinstance(parsed, RunCompleted)
    return parsed


def asset_id(table: str, schema: str | None = "public") -> str:
    return f"{SYSTEM}.sales{'--' + schema if schema else ''}.{table}"


@dataclass
class FakeLambdaContext:
    function_name: str = "rocket-test-asset-events-decisor"
    function_version: str = "$LATEST"
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:rocket-test-asset-events-decisor"
    )
    memory_limit_in_mb: int = 512
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"
    log_group_name: str = "/aws/lambda/rocket-test-asset-events-decisor"
    log_stream_name: str = "2026/11/22/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/rocket-test-asset-events-input"


def kinesis_event(payloads: Sequence[bytes | dict[str, Any]], *, first: int = 1) -> dict[str, Any]:
    """A Lambda Kinesis event exactly as AWS sends it (base64 data), one record per payload."""
    import base64

    records = []
    for n, payload in enumerate(payloads, start=first):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        sequence = f"4959{n:052d}"
        key = payload.get("table", "run") if isinstance(payload, dict) else "bad"
        records.append(
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": str(key),
                    "sequenceNumber": sequence,
                    "data": base64.b64encode(data).decode(),
                    "approximateArrivalTimestamp": 1795316412.5,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"shardId-000000000000:{sequence}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/decisor",
                "awsRegion": "us-east-1",
                "eventSourceARN": STREAM_ARN,
            }
        )
    return {"Records": records}
