"""Fakes and helpers shared by the compactor tests (imported by name: conftest puts this
folder on sys.path)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from compactor.compaction import EngineLimits
from compactor.domains import DomainCatalog, default_domains_dir
from compactor.planning import LandingObject
from compactor.ports import ObjectChangedError, StorageError, ViolationReport
from compactor.schema import Column
from compactor.steps import Finalized, FinalizeTask, Job, Outcome, Planned, RangeTask
from compactor.workflow import Compactor, CompactorConfig
from rocket_contracts.models.compactor.domain_processed_v1 import CompactorDomainProcessedV1

NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
DAY = date(2026, 11, 21)
LANDING, LAKE, DATABASE = "landing", "lake", "rocket_test_compactor"
# When the sink wrote the day's files (LastModified): inside DAY, in UTC.
WRITTEN = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


class FakeStore:
    """In-memory object store: (bucket, key) -> (bytes, LastModified); ETag = md5 of bytes."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], tuple[bytes, datetime]] = {}
        self.gets: list[tuple[str, str]] = []
        self.tags: dict[tuple[str, str], dict[str, str]] = {}
        self.tag_writes = 0
        # Conditional writes are atomic in S3; the mutex makes them so here, across threads.
        self._mutex = threading.Lock()

    def put(self, bucket: str, key: str, data: bytes, when: datetime = WRITTEN) -> None:
        with self._mutex:
            self.objects[(bucket, key)] = (data, when)

    @staticmethod
    def etag(data: bytes) -> str:
        return hashlib.md5(data).hexdigest()

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        return sorted(k for b, k in self.objects if b == bucket and k.startswith(prefix))

    def list_objects(self, bucket: str, prefix: str) -> Iterator[LandingObject]:
        for key in self.keys(bucket, prefix):
            data, when = self.objects[(bucket, key)]
            yield LandingObject(key, len(data), self.etag(data), when)

    def get_bytes(self, bucket: str, key: str, *, etag: str | None = None) -> bytes:
        self.gets.append((bucket, key))
        data = self.objects[(bucket, key)][0]
        if etag is not None and self.etag(data) != etag:
            raise ObjectChangedError(key)
        return data

    def put_bytes(self, bucket: str, key: str, data: bytes) -> None:
        self.put(bucket, key, data)

    def upload(self, path: Path, bucket: str, key: str) -> None:
        self.put(bucket, key, path.read_bytes())

    def download(self, bucket: str, key: str, dest: Path) -> None:
        dest.write_bytes(self.objects[(bucket, key)][0])

    def size_of(self, bucket: str, key: str) -> int | None:
        found = self.objects.get((bucket, key))
        return None if found is None else len(found[0])

    def delete(self, bucket: str, key: str) -> None:
        with self._mutex:
            self.objects.pop((bucket, key), None)

    def tag(self, bucket: str, key: str, tags: dict[str, str]) -> bool:
        with self._mutex:
            if (bucket, key) not in self.objects:
                return False
            current = self.tags.setdefault((bucket, key), {})
            if all(current.get(k) == v for k, v in tags.items()):
                return False
            current.update(tags)
            self.tag_writes += 1
            return True

    def read_json(self, bucket: str, key: str) -> tuple[dict[str, Any], str] | None:
        with self._mutex:
            found = self.objects.get((bucket, key))
        if found is None:
            return None
        return json.loads(found[0]), self.etag(found[0])

    def put_json(self, bucket: str, key: str, body: dict[str, Any]) -> None:
        self.put(bucket, key, json.dumps(body, sort_keys=True).encode())

    def create_json(self, bucket: str, key: str, body: dict[str, Any]) -> bool:
        with self._mutex:
            if (bucket, key) in self.objects:
                return False
            self.objects[(bucket, key)] = (json.dumps(body).encode(), NOW)
            return True

    def replace_json(self, bucket: str, key: str, body: dict[str, Any], etag: str) -> bool:
        with self._mutex:
            found = self.objects.get((bucket, key))
            if found is None or self.etag(found[0]) != etag:
                return False
            self.objects[(bucket, key)] = (json.dumps(body).encode(), NOW)
            return True


class FakeCatalog:
    def __init__(self) -> None:
        self.tables: dict[tuple[str, str], tuple[list[Column], str]] = {}
        self.partitions: dict[tuple[str, str, str], tuple[list[Column], str]] = {}

    def table_columns(self, database: str, table: str) -> list[Column] | None:
        found = self.tables.get((database, table))
        return None if found is None else list(found[0])

    def put_table(
        self, database: str, table: str, columns: Sequence[Column], location: str
    ) -> None:
        self.tables[(database, table)] = (list(columns), location)

    def put_partition(
        self, database: str, table: str, day: str, columns: Sequence[Column], location: str
    ) -> None:
        self.partitions[(database, table, day)] = (list(columns), location)


class FakePublisher:
    def __init__(self) -> None:
        self.events: list[tuple[CompactorDomainProcessedV1, str, str]] = []

    def publish(
        self, event: CompactorDomainProcessedV1, *, correlation_id: str, subject: str
    ) -> None:
        self.events.append((event, correlation_id, subject))


class FakeViolations:
    """A FIFO queue's deduplication: a report whose id was sent before is dropped."""

    def __init__(self) -> None:
        self.sent: list[ViolationReport] = []
        self.fail = False

    def report(self, report: ViolationReport) -> None:
        if self.fail:
            raise StorageError("violations queue down")
        if report.dedup_id not in {r.dedup_id for r in self.sent}:
            self.sent.append(report)


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def record(i: int, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": f"o-{i}",
        "customer_id": 1000 + i,
        "amount": 10 + i,
        "status": "PAID",
        "created_at": "2026-11-21T10:00:00Z",
    }
    body.update(extra)
    return body


def ndjson(*records: dict[str, Any] | str) -> bytes:
    return b"".join((r if isinstance(r, str) else json.dumps(r)).encode() + b"\n" for r in records)


def landing_key(partition: int, offset: int, topic: str = "orders") -> str:
    return f"topics/{topic}/partition={partition}/{topic}+{partition}+{offset:010d}.json"


def job(execution: str = "exec-1", *, force: bool = False, domain: str = "orders") -> Job:
    return Job(
        request_id="req-1",
        domain=domain,
        date=DAY,
        force=force,
        correlation_id="corr-1",
        execution=execution,
    )


class Harness:
    """The compactor over fakes, and a tiny stand-in for the state machine's order of steps."""

    def __init__(
        self, tmp_path: Path, target_mb: int = 256, inline_map_max_ranges: int = 1000
    ) -> None:
        self.store = FakeStore()
        self.catalog = FakeCatalog()
        self.publisher = FakePublisher()
        self.violations = FakeViolations()
        self.clock = Clock()
        domains = DomainCatalog.load(default_domains_dir())
        if target_mb != 256:
            specs = [
                domains.get(n).model_copy(update={"target_file_mb": target_mb})
                for n in domains.names()
            ]
            domains = DomainCatalog(specs)
        self.compactor = Compactor(
            domains=domains,
            store=self.store,
            catalog=self.catalog,
            publisher=self.publisher,
            config=CompactorConfig(
                landing_bucket=LANDING,
                lake_bucket=LAKE,
                glue_database=DATABASE,
                work_dir=tmp_path,
                limits=EngineLimits("256MB", 1),
                fetch_concurrency=4,
                inline_map_max_ranges=inline_map_max_ranges,
            ),
            clock=self.clock,
            violations=self.violations,
        )

    def run(self, the_job: Job) -> tuple[Planned, Finalized | None]:
        planned = self.compactor.plan(the_job)
        if planned.outcome is Outcome.BUSY:
            return planned, None
        if planned.outcome is Outcome.PLANNED:
            assert planned.manifest_key is not None
            indices = planned.ranges
            if planned.distributed:  # the Distributed Map reads them from the plan in S3
                assert planned.ranges_key is not None
                indices = json.loads(self.store.objects[(LAKE, planned.ranges_key)][0])
            for index in indices:
                self.compactor.compact_range(
                    RangeTask(job=the_job, manifest_key=planned.manifest_key, index=index)
                )
        return planned, self.compactor.finalize(FinalizeTask(job=the_job, planned=planned))
