"""At-least-once delivery over fakes: the same S3 event twice, concurrently, after a crash in the
middle; files of one day at once; the day's summary whatever the order of its files."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from etl_layers.events import RawObject
from etl_layers.locks import LOCK_PREFIX
from etl_layers.pipeline import Pipeline, Status
from etl_layers.ports import PartitionBusyError

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # the fixtures' NOW
TRUSTED, DELIVERY, QUARANTINE = "trusted", "delivery", "quarantine"
FakeStore = Any
MakePipeline = Callable[..., Pipeline]
HEADER = b"id,name,amount,date,category\n"
FILE_A = HEADER + b"1,A,10,2024-01-15,Sales\n2,B,20,2024-01-15,Sales\n3,C,30,2024-01-16,Ops\n"
FILE_B = HEADER + b"2,B again,99,2024-01-15,Sales\n4,D,40,2024-01-15,Ops\n5,E,50,2024-01-15,Sales\n"
SUMMARY_15 = (
    "transactions/record_type=DAILY_SUMMARY/year=2024/month=01/day=15/daily_summary_0.parquet"
)
# Rows compared without the processing time and the file that last recomputed a summary.
VOLATILE = ("processed_timestamp", "delivery_timestamp", "source_file")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def rows(path: Path) -> list[dict[str, Any]]:
    cursor = duckdb.connect().execute(
        f"SELECT * FROM read_parquet('{path}', hive_partitioning=false)"
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _snapshot(store: FakeStore, tmp_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every output object's rows (volatile columns left out), by bucket/key."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for bucket in (TRUSTED, DELIVERY, QUARANTINE):
        for key in store.keys(bucket):
            if key.startswith(LOCK_PREFIX):
                continue
            if not key.endswith(".parquet"):
                out[f"{bucket}/{key}"] = []
                continue
            path = tmp_path / "snap" / bucket / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(store.objects[(bucket, key)])
            out[f"{bucket}/{key}"] = sorted(
                tuple(v for k, v in row.items() if k not in VOLATILE) for row in rows(path)
            )
    return out


def _trusted_ids(store: FakeStore, tmp_path: Path) -> list[int]:
    ids: list[int] = []
    for key, values in _snapshot(store, tmp_path).items():
        if key.startswith(f"{TRUSTED}/transactions/"):
            ids.extend(v[0] for v in values)
    return sorted(ids)


def _summary(store: FakeStore, tmp_path: Path, key: str = SUMMARY_15) -> list[tuple[Any, ...]]:
    path = tmp_path / "summary.parquet"
    path.write_bytes(store.objects[(DELIVERY, key)])
    return sorted(
        (r["category"], r["record_count"], r["total_amount"], r["mean_amount"]) for r in rows(path)
    )


def _clean_run(make_pipeline: MakePipeline, *files: tuple[str, bytes]) -> FakeStore:
    pipeline = make_pipeline()
    store: Any = pipeline.store
    for key, data in files:
        pipeline.process(store.put("raw", key, data))
    return store


def test_two_files_of_one_day_give_one_summary_of_the_whole_day(
    make_pipeline: MakePipeline, tmp_path: Path
) -> None:
    store = _clean_run(
        make_pipeline, ("transactions/a.csv", FILE_A), ("transactions/b.csv", FILE_B)
    )
    summaries = [k for k in store.keys(DELIVERY) if "DAILY_SUMMARY/year=2024/month=01/day=15" in k]
    assert summaries == [SUMMARY_15]
    # id 2 of b.csv is a duplicate of a.csv's: the day has ids 1, 2 (from a), 4, 5.
    assert _summary(store, tmp_path) == [("Ops", 1, 40.0, 40.0), ("Sales", 3, 80.0, 80.0 / 3)]
    assert _trusted_ids(store, tmp_path) == [1, 2, 3, 4, 5]


def test_a_day_summary_does_not_depend_on_the_order_of_its_files(
    make_pipeline: MakePipeline, tmp_path: Path
) -> None:
    forward = _clean_run(
        make_pipeline, ("transactions/a.csv", FILE_A), ("transactions/b.csv", FILE_B)
    )
    backward = _clean_run(
        make_pipeline, ("transactions/b.csv", FILE_B), ("transactions/a.csv", FILE_A)
    )
    # Which file keeps the duplicated id 2 depends on the order (first one wins); counts do not.
    assert [r[:2] for r in _summary(forward, tmp_path)] == [
        r[:2] for r in _summary(backward, tmp_path)
    ]


def test_the_same_event_delivered_twice_changes_nothing(
    make_pipeline: MakePipeline, tmp_path: Path
) -> None:
    pipeline = make_pipeline()
    store: Any = pipeline.store
    raw = store.put("raw", "transactions/a.csv", FILE_A)
    assert pipeline.process(raw).status is Status.PUBLISHED
    before = _snapshot(store, tmp_path)
    assert pipeline.process(raw).status is Status.ALREADY_DONE
    assert _snapshot(store, tmp_path) == before


def _in_threads(pipeline_for: Callable[[int], Pipeline], raws: list[RawObject]) -> list[Status]:
    statuses: list[Status] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(raws))

    def run(n: int, raw: RawObject) -> None:
        start.wait()
        try:
            statuses.append(pipeline_for(n).process(raw).status)
        except BaseException as exc:  # surfaced below, with the thread's own traceback
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n, r)) for n, r in enumerate(raws)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    if errors:
        raise errors[0]
    return sorted(statuses)


def test_the_same_event_delivered_twice_at_once_writes_each_row_once(
    make_pipeline: MakePipeline, tmp_path: Path
) -> None:
    store: Any = make_pipeline().store
    raw = store.put("raw", "transactions/a.csv", FILE_A)
    pipelines = [make_pipeline(store), make_pipeline(store)]
    statuses = _in_threads(lambda n: pipelines[n], [raw, raw])
    assert Status.PUBLISHED in statuses
    clean = _clean_run(make_pipeline, ("transactions/a.csv", FILE_A))
    assert _snapshot(store, tmp_path) == _snapshot(clean, tmp_path)
    assert [k for k in store.keys(TRUSTED) if k.startswith(LOCK_PREFIX)] == []


def test_files_with_the_same_keys_at_once_write_each_key_once(
    make_pipeline: MakePipeline, tmp_path: Path
) -> None:
    store: Any = make_pipeline().store
    raws = [store.put("raw", f"transactions/copy{n}.csv", FILE_A) for n in range(4)]
    pipelines = [make_pipeline(store) for _ in raws]
    assert _in_threads(lambda n: pipelines[n], raws) == [Status.PUBLISHED] * 4
    assert _trusted_ids(store, tmp_path) == [1, 2, 3]
    assert _summary(store, tmp_path) == [("Sales", 2, 30.0, 15.0)]
    events = [e for p in pipelines for e, _, _ in p.publisher.published]  # type: ignore[attr-defined]
    assert sorted(e["rows"]["out"] for e in events) == [0, 0, 0, 3]
    assert sum(e["rows"]["duplicates"] for e in events) == 9


def test_a_crash_between_trusted_and_delivery_is_redone_once_the_lock_expires(
    make_pipeline: MakePipeline, crashing_store: Any, tmp_path: Path
) -> None:
    store = crashing_store
    clock = Clock()
    raw = store.put("raw", "transactions/a.csv", FILE_A)
    with pytest.raises(store.Crash):
        make_pipeline(store, clock).process(raw)
    assert any(k.startswith("transactions/year=2024") for k in store.keys(TRUSTED))
    assert store.keys(DELIVERY) == []
    store.restart()

    # Redelivered while the dead run's lock is still valid: the record fails, to come back.
    with pytest.raises(PartitionBusyError):
        make_pipeline(store, clock, wait=0.0).process(raw)

    clock.now = T0 + timedelta(seconds=901)
    restarted = make_pipeline(store, clock)
    assert restarted.process(raw).status is Status.PUBLISHED
    assert len(restarted.publisher.published) == 1  # type: ignore[attr-defined]
    clean = _clean_run(make_pipeline, ("transactions/a.csv", FILE_A))
    assert _snapshot(store, tmp_path) == _snapshot(clean, tmp_path)
    assert _trusted_ids(store, tmp_path) == [1, 2, 3]
    assert [k for k in store.keys(TRUSTED) if k.startswith(LOCK_PREFIX)] == []
