"""The per-(domain, day) lock: one owner at a time, retried steps keep it, dead owners expire."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from compactor.locks import DayLocks, lock_key
from compactor.ports import LockLostError
from compactor_fakes import LAKE, NOW, FakeStore

KEY = lock_key("orders", "2026-11-21")
TTL = timedelta(hours=2)


def test_a_second_owner_is_told_who_holds_the_day() -> None:
    locks = DayLocks(FakeStore(), LAKE, TTL)
    assert locks.acquire(KEY, "exec-a", NOW).acquired
    state = locks.acquire(KEY, "exec-b", NOW)
    assert not state.acquired
    assert state.holder == "exec-a"


def test_the_owner_taking_it_again_keeps_it() -> None:
    locks = DayLocks(FakeStore(), LAKE, TTL)
    assert locks.acquire(KEY, "exec-a", NOW).acquired
    assert locks.acquire(KEY, "exec-a", NOW + timedelta(minutes=5)).acquired


def test_an_expired_lock_is_taken_over_once() -> None:
    store = FakeStore()
    locks = DayLocks(store, LAKE, TTL)
    locks.acquire(KEY, "dead", NOW)
    later = NOW + TTL + timedelta(seconds=1)
    assert locks.acquire(KEY, "exec-b", later).acquired
    assert not locks.acquire(KEY, "exec-c", later).acquired
    with pytest.raises(LockLostError, match="exec-b"):
        locks.renew(KEY, "dead", later)


def test_only_one_of_many_concurrent_starts_wins() -> None:
    locks = DayLocks(FakeStore(), LAKE, TTL)
    barrier = threading.Barrier(8)
    won: list[str] = []

    def start(owner: str) -> None:
        barrier.wait()
        if locks.acquire(KEY, owner, NOW).acquired:
            won.append(owner)

    threads = [threading.Thread(target=start, args=(f"exec-{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1


def test_release_deletes_only_its_own_lock() -> None:
    store = FakeStore()
    locks = DayLocks(store, LAKE, TTL)
    locks.acquire(KEY, "exec-a", NOW)
    assert not locks.release(KEY, "exec-b")
    assert store.read_json(LAKE, KEY) is not None
    assert locks.release(KEY, "exec-a")
    assert store.read_json(LAKE, KEY) is None
    assert locks.acquire(KEY, "exec-b", NOW).acquired
