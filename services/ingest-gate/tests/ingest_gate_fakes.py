"""In-memory fakes of the gate's ports: they behave like S3/Glue/SNS and record what they got."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ingest_gate.domain import (
    TRANSACTION_ARGUMENT,
    AlreadyClaimedError,
    IdempotencyRecord,
    JobRejected,
    JobRequest,
    JobStarted,
    StaleRecordError,
    StoredRecord,
)
from ingest_gate.gate import Gate, GateConfig

JOB = "rocket-test-ingest-gate-canary"


class SimulatedCrash(BaseException):
    """The Lambda process dies here: nothing after this point runs, nothing is cleaned up."""


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


Hook = Callable[[IdempotencyRecord], None]


@dataclass
class InMemoryStore:
    """Conditional writes like S3: claim only if absent, replace only on a matching ETag."""

    records: dict[str, tuple[IdempotencyRecord, str]] = field(default_factory=dict)
    before_replace: Hook | None = None
    after_claim: Hook | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _etags: itertools.count[int] = field(default_factory=itertools.count)

    def claim(self, record: IdempotencyRecord) -> StoredRecord:
        with self._lock:
            if record.transaction_id in self.records:
                raise AlreadyClaimedError(record.transaction_id)
            etag = f'"{next(self._etags)}"'
            self.records[record.transaction_id] = (record, etag)
        if self.after_claim:
            self.after_claim(record)
        return StoredRecord(record, etag)

    def get(self, transaction_id: str) -> StoredRecord | None:
        with self._lock:
            found = self.records.get(transaction_id)
        return StoredRecord(*found) if found else None

    def replace(self, record: IdempotencyRecord, *, etag: str) -> StoredRecord:
        if self.before_replace:
            self.before_replace(record)
        with self._lock:
            current = self.records.get(record.transaction_id)
            if current is None or current[1] != etag:
                raise StaleRecordError(record.transaction_id)
            new_etag = f'"{next(self._etags)}"'
            self.records[record.transaction_id] = (record, new_etag)
        return StoredRecord(record, new_etag)

    def record(self, transaction_id: str) -> IdempotencyRecord:
        return self.records[transaction_id][0]


@dataclass
class FakeGlue:
    """Records every run started; `fail_with` errors are raised by the next starts, in order."""

    runs: list[tuple[str, dict[str, str], str]] = field(default_factory=list)
    fail_with: list[BaseException] = field(default_factory=list)
    crash_after_start: bool = False
    lookups: int = 0
    # Per job, the argument names its definition sets (DefaultArguments).
    definitions: dict[str, frozenset[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, job_name: str, arguments: dict[str, str]) -> str:
        if self.fail_with:
            raise self.fail_with.pop(0)
        with self._lock:
            run_id = f"jr_{len(self.runs):04d}"
            self.runs.append((job_name, dict(arguments), run_id))
        if self.crash_after_start:
            self.crash_after_start = False
            raise SimulatedCrash("after StartJobRun, before its response was used")
        return run_id

    def find_run(self, job_name: str, transaction_id: str) -> str | None:
        self.lookups += 1
        for name, arguments, run_id in self.runs:
            if name == job_name and arguments.get(TRANSACTION_ARGUMENT) == transaction_id:
                return run_id
        return None

    def defined_arguments(self, job_name: str) -> frozenset[str]:
        return self.definitions.get(job_name, frozenset())

    def runs_for(self, transaction_id: str) -> list[str]:
        return [r for _, a, r in self.runs if a.get(TRANSACTION_ARGUMENT) == transaction_id]


@dataclass
class FakePublisher:
    started_events: list[tuple[JobStarted, str]] = field(default_factory=list)
    rejected_events: list[tuple[JobRejected, str]] = field(default_factory=list)
    fail_with: list[BaseException] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def started(
        self, event: JobStarted, *, correlation_id: str, traceparent: str | None = None
    ) -> None:
        if self.fail_with:
            raise self.fail_with.pop(0)
        with self._lock:
            self.started_events.append((event, correlation_id))

    def rejected(
        self, event: JobRejected, *, correlation_id: str, traceparent: str | None = None
    ) -> None:
        if self.fail_with:
            raise self.fail_with.pop(0)
        with self._lock:
            self.rejected_events.append((event, correlation_id))


@dataclass
class World:
    """Everything a gate talks to; `gate()` is one Lambda process over the same world."""

    clock: FakeClock
    store: InMemoryStore
    glue: FakeGlue
    publisher: FakePublisher
    config: GateConfig

    def gate(self) -> Gate:
        return Gate(
            store=self.store,
            runner=self.glue,
            publisher=self.publisher,
            config=self.config,
            clock=self.clock,
        )


def new_world() -> World:
    return World(
        clock=FakeClock(),
        store=InMemoryStore(),
        glue=FakeGlue(),
        publisher=FakePublisher(),
        config=GateConfig(allowed_jobs=frozenset({JOB, "other-job"})),
    )


def make_request(
    transaction_id: str = "tx-1",
    *,
    job_name: str = JOB,
    arguments: dict[str, str] | None = None,
    requested_by: str = "tests",
    correlation_id: str = "corr-1",
) -> JobRequest:
    return JobRequest(
        transaction_id=transaction_id,
        job_name=job_name,
        arguments={"dataset": "transactions"} if arguments is None else arguments,
        requested_by=requested_by,
        correlation_id=correlation_id,
    )


@dataclass
class FakeDeferrer:
    deferred: list[tuple[str, int]] = field(default_factory=list)

    def defer(self, receipt_handle: str, seconds: int) -> None:
        self.deferred.append((receipt_handle, seconds))


@dataclass
class FakeLambdaContext:
    function_name: str = "rocket-test-ingest-gate"
    function_version: str = "$LATEST"
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:rocket-test-ingest-gate"
    )
    memory_limit_in_mb: int = 256
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"
    log_group_name: str = "/aws/lambda/rocket-test-ingest-gate"
    log_stream_name: str = "2026/11/22/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000
