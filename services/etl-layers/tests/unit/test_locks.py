"""Per-day locks over the fake store: exclusive, sorted, taken over only once expired."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from etl_layers.locks import LockPolicy, PartitionLocks, lock_key
from etl_layers.ports import PartitionBusyError, StorageError

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
BUCKET = "trusted"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def _locks(store: Any, clock: Clock, owner: str = "a", wait: float = 0.0) -> PartitionLocks:
    return PartitionLocks(
        store,
        BUCKET,
        owner=owner,
        clock=clock,
        policy=LockPolicy(ttl=timedelta(seconds=60), wait_seconds=wait, poll_seconds=0.001),
    )


def test_a_held_day_is_busy_for_another_run_until_released(store: Any) -> None:
    clock = Clock()
    first, second = _locks(store, clock, "a"), _locks(store, clock, "b")
    first.acquire(["transactions/year=2024/month=01/day=15"])
    with pytest.raises(PartitionBusyError, match="held by a/"):
        second.acquire(["transactions/year=2024/month=01/day=15"])
    first.release()
    assert store.keys(BUCKET) == []
    second.acquire(["transactions/year=2024/month=01/day=15"])
    assert json.loads(store.objects[(BUCKET, second.held[0])])["owner"] == second.owner


def test_an_expired_lock_is_taken_over(store: Any) -> None:
    clock = Clock()
    dead = _locks(store, clock, "dead")
    dead.acquire(["d/year=2024/month=01/day=15"])
    clock.now = T0 + timedelta(seconds=61)
    alive = _locks(store, clock, "alive")
    alive.acquire(["d/year=2024/month=01/day=15"])
    dead.release()  # the dead run's late release must not free the new owner's lock
    assert store.keys(BUCKET) == [lock_key("d/year=2024/month=01/day=15")]
    alive.release()
    assert store.keys(BUCKET) == []


def test_an_unreadable_lock_counts_as_expired(store: Any) -> None:
    store.put(BUCKET, lock_key("d/p"), b"{}")
    locks = _locks(store, Clock())
    locks.acquire(["d/p"])
    assert locks.held == [lock_key("d/p")]


def test_locks_are_taken_in_sorted_order_once_each(store: Any) -> None:
    locks = _locks(store, Clock())
    locks.acquire(["d/day=2", "d/day=1", "d/day=2"])
    locks.acquire(["d/day=1"])
    assert locks.held == [lock_key("d/day=1"), lock_key("d/day=2")]


def test_a_waiting_run_gets_the_lock_when_it_is_released(store: Any) -> None:
    clock = Clock()
    holder = _locks(store, clock, "holder")
    holder.acquire(["d/p"])
    waiter = _locks(store, clock, "waiter", wait=10.0)
    got = threading.Event()

    def wait_for_it() -> None:
        waiter.acquire(["d/p"])
        got.set()

    thread = threading.Thread(target=wait_for_it)
    thread.start()
    assert not got.wait(0.05)
    holder.release()
    thread.join(5)
    assert got.is_set()


def test_only_one_of_many_racing_runs_holds_the_lock(store: Any) -> None:
    clock = Clock()
    runs = [_locks(store, clock, f"r{n}") for n in range(16)]
    winners: list[str] = []
    start = threading.Barrier(len(runs))

    def race(locks: PartitionLocks) -> None:
        start.wait()
        try:
            locks.acquire(["d/p"])
        except PartitionBusyError:
            return
        winners.append(locks.owner)

    threads = [threading.Thread(target=race, args=(r,)) for r in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1


def test_a_failing_release_is_left_to_expiry(store: Any) -> None:
    class Broken:
        def read_json(self, bucket: str, key: str) -> None:
            raise StorageError("down")

    locks = _locks(store, Clock())
    locks.acquire(["d/p"])
    locks.store = Broken()  # type: ignore[assignment]
    locks.release()  # logged, not raised
    assert locks.held == []
