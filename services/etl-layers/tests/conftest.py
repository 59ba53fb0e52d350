"""Fakes and helpers shared by the etl-layers tests."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from etl_layers.datasets import DatasetCatalog, DatasetSpec, default_datasets_dir
from etl_layers.events import RawObject
from etl_layers.locks import LockPolicy
from etl_layers.pipeline import Pipeline, PipelineConfig
from etl_layers.ports import ListedObject, ObjectChangedError, PartitionSpec
from etl_layers.readers import detect_format
from etl_layers.transform import TransformRequest, TransformResult, transform
from rocket_contracts.bus import payload
from rocket_contracts.models.etl.delivery_published_v1 import EtlDeliveryPublishedV1

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
RAW, TRUSTED, DELIVERY, QUARANTINE = "raw", "trusted", "delivery", "quarantine"


class FakeStore:
    """In-memory object store: (bucket, key) -> bytes, ETag = md5 of the bytes."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.puts: list[tuple[str, str]] = []
        # Conditional writes are atomic in S3; the lock makes them so here, across threads.
        self._mutex = threading.Lock()

    def put(self, bucket: str, key: str, data: bytes) -> RawObject:
        with self._mutex:
            self.objects[(bucket, key)] = data
            self.puts.append((bucket, key))
        return RawObject(bucket, key, hashlib.md5(data).hexdigest(), size=len(data))

    def create_json(self, bucket: str, key: str, body: dict[str, Any]) -> bool:
        with self._mutex:
            if (bucket, key) in self.objects:
                return False
            self.objects[(bucket, key)] = json.dumps(body).encode()
            self.puts.append((bucket, key))
        return True

    def replace_json(self, bucket: str, key: str, body: dict[str, Any], etag: str) -> bool:
        with self._mutex:
            current = self.objects.get((bucket, key))
            if current is None or hashlib.md5(current).hexdigest() != etag:
                return False
            self.objects[(bucket, key)] = json.dumps(body).encode()
            self.puts.append((bucket, key))
        return True

    def read_json(self, bucket: str, key: str) -> tuple[dict[str, Any], str] | None:
        data = self.objects.get((bucket, key))
        if data is None:
            return None
        return json.loads(data), hashlib.md5(data).hexdigest()

    def delete(self, bucket: str, key: str) -> None:
        with self._mutex:
            self.objects.pop((bucket, key), None)

    def etag(self, bucket: str, key: str) -> str:
        return hashlib.md5(self.objects[(bucket, key)]).hexdigest()

    def download(
        self, bucket: str, key: str, dest: Path, *, etag: str | None, version_id: str | None
    ) -> None:
        if (bucket, key) not in self.objects or (etag and self.etag(bucket, key) != etag):
            raise ObjectChangedError(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(self.objects[(bucket, key)])

    def upload(self, path: Path, bucket: str, key: str) -> None:
        self.put(bucket, key, path.read_bytes())

    def put_json(self, bucket: str, key: str, body: dict[str, Any]) -> None:
        self.put(bucket, key, json.dumps(body, default=str).encode())

    def copy(
        self,
        src_bucket: str,
        src_key: str,
        dest_bucket: str,
        dest_key: str,
        *,
        version_id: str | None,
    ) -> None:
        self.put(dest_bucket, dest_key, self.objects[(src_bucket, src_key)])

    def exists(self, bucket: str, key: str) -> bool:
        return (bucket, key) in self.objects

    def list_keys(self, bucket: str, prefix: str) -> list[str]:
        with self._mutex:
            return sorted(k for b, k in self.objects if b == bucket and k.startswith(prefix))

    def list_objects(self, bucket: str, prefix: str) -> list[ListedObject]:
        return [
            ListedObject(k, self.etag(bucket, k), len(self.objects[(bucket, k)]))
            for k in self.list_keys(bucket, prefix)
        ]

    def keys(self, bucket: str) -> list[str]:
        return self.list_keys(bucket, "")


class FakeCatalog:
    def __init__(self) -> None:
        self.partitions: dict[tuple[str, str], dict[tuple[str, ...], str]] = {}

    def add_partitions(
        self, database: str, table: str, partitions: Sequence[PartitionSpec]
    ) -> None:
        table_partitions = self.partitions.setdefault((database, table), {})
        for partition in partitions:
            table_partitions.setdefault(partition.values, partition.location)


class FakePublisher:
    def __init__(self) -> None:
        self.published: list[tuple[dict[str, Any], str, str]] = []
        self.models: list[EtlDeliveryPublishedV1] = []

    def publish(self, event: EtlDeliveryPublishedV1, *, correlation_id: str, subject: str) -> None:
        self.models.append(event)
        # What goes on the wire, so the tests read the message a consumer gets.
        self.published.append((payload(event), correlation_id, subject))


class SimulatedCrash(Exception):  # noqa: N818 - it stands for the process dying, not an error
    """The process died: nothing after it runs, not even the lock release."""


class CrashingStore(FakeStore):
    """Dies at the first DELIVERY upload (after TRUSTED is written); once dead, every call
    that follows fails too, so nothing is cleaned up, as after a real crash."""

    Crash = SimulatedCrash

    def __init__(self) -> None:
        super().__init__()
        self.armed = True
        self.dead = False

    def _check(self) -> None:
        if self.dead:
            raise SimulatedCrash

    def upload(self, path: Path, bucket: str, key: str) -> None:
        self._check()
        if self.armed and bucket == DELIVERY:
            self.dead = True
            raise SimulatedCrash
        super().upload(path, bucket, key)

    def read_json(self, bucket: str, key: str) -> tuple[dict[str, Any], str] | None:
        self._check()
        return super().read_json(bucket, key)

    def put_json(self, bucket: str, key: str, body: dict[str, Any]) -> None:
        self._check()
        super().put_json(bucket, key, body)

    def restart(self) -> None:
        self.armed = self.dead = False


@pytest.fixture
def crashing_store() -> CrashingStore:
    return CrashingStore()


MakePipeline = Callable[..., Pipeline]


@pytest.fixture
def make_pipeline(datasets: DatasetCatalog, tmp_path: Path) -> MakePipeline:
    """A pipeline over `store` (a new fake if none), with its own work dir and clock."""
    counter = iter(range(1000))

    def make(
        store: FakeStore | None = None,
        clock: Callable[[], datetime] = lambda: NOW,
        wait: float = 30.0,
    ) -> Pipeline:
        work = tmp_path / f"work{next(counter)}"
        work.mkdir()
        return Pipeline(
            datasets=datasets,
            store=store if store is not None else FakeStore(),
            catalog=FakeCatalog(),
            publisher=FakePublisher(),
            config=PipelineConfig(
                trusted_bucket=TRUSTED,
                delivery_bucket=DELIVERY,
                quarantine_bucket=QUARANTINE,
                glue_database="rocket_test_etl",
                work_dir=work,
                pipeline_version="9.9.9",
                locks=LockPolicy(ttl=timedelta(seconds=900), wait_seconds=wait, poll_seconds=0.01),
            ),
            clock=clock,
        )

    return make


@pytest.fixture
def datasets() -> DatasetCatalog:
    return DatasetCatalog.load(default_datasets_dir())


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def pipeline(datasets: DatasetCatalog, store: FakeStore, tmp_path: Path) -> Pipeline:
    work = tmp_path / "work"
    work.mkdir()
    return Pipeline(
        datasets=datasets,
        store=store,
        catalog=FakeCatalog(),
        publisher=FakePublisher(),
        config=PipelineConfig(
            trusted_bucket=TRUSTED,
            delivery_bucket=DELIVERY,
            quarantine_bucket=QUARANTINE,
            glue_database="rocket_test_etl",
            work_dir=work,
            pipeline_version="9.9.9",
        ),
        clock=lambda: NOW,
    )


Transform = Callable[..., TransformResult]


@pytest.fixture
def run_transform(datasets: DatasetCatalog, tmp_path: Path) -> Transform:
    """Write `content` to a file named `name` and run the transform of `dataset` over it."""
    counter = iter(range(1_000_000))

    def run(
        content: bytes | str,
        name: str = "input.csv",
        dataset: str = "transactions",
        existing: Sequence[tuple[str, Path]] = (),
        spec: DatasetSpec | None = None,
    ) -> TransformResult:
        n = next(counter)
        folder = tmp_path / f"run{n}"
        folder.mkdir()
        path = folder / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return transform(
            TransformRequest(
                path=path,
                format=detect_format(name),
                spec=spec or datasets.get(dataset),
                stem="out-0123456789abcdef",
                source_uri=f"s3://raw/{dataset}/{name}",
                workdir=folder / "engine",
                now=NOW.replace(tzinfo=None),
                pipeline_version="9.9.9",
            ),
            existing=lambda _partitions: list(existing),
        )

    return run


@pytest.fixture
def parquet_rows() -> Callable[[Path], list[dict[str, Any]]]:
    return rows


@pytest.fixture
def trusted_of() -> Callable[[TransformResult], list[dict[str, Any]]]:
    return trusted_rows


@pytest.fixture
def quarantine_of() -> Callable[[TransformResult], list[dict[str, Any]]]:
    return quarantine_rows


def rows(path: Path, sql: str = "SELECT * FROM t") -> list[dict[str, Any]]:
    """The rows of a Parquet file as dicts (DuckDB, no hive columns)."""
    con = duckdb.connect()
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{path}', hive_partitioning=false)")
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def trusted_rows(result: TransformResult) -> list[dict[str, Any]]:
    out = []
    for output in result.trusted:
        out.extend(rows(output.path))
    return sorted(out, key=lambda r: str(r.get("id", r.get("payment_id"))))


def quarantine_rows(result: TransformResult) -> list[dict[str, Any]]:
    return [] if result.quarantine is None else rows(result.quarantine)
