"""A range's objects fetched concurrently, read in order, a bounded way ahead."""

from __future__ import annotations

import random
import threading
import time

import pytest
from compactor.fetching import fetched_in_order
from compactor.planning import ManifestEntry


def _entries(n: int, size: int = 10) -> list[ManifestEntry]:
    return [ManifestEntry(key=f"k{i}", size=size, etag=f"e{i}") for i in range(n)]


def test_objects_come_in_the_plan_s_order_whatever_their_gets_take() -> None:
    rng = random.Random(7)
    delays = {f"k{i}": rng.random() / 500 for i in range(300)}

    def get(entry: ManifestEntry) -> bytes:
        time.sleep(delays[entry.key])
        return entry.key.encode()

    got = list(fetched_in_order(get, _entries(300), 16, objects=40))
    assert got == [(f"k{i}", f"k{i}".encode()) for i in range(300)]


@pytest.mark.parametrize(("objects", "held_bytes", "most"), [(8, 10**9, 8), (100, 50, 5)])
def test_no_more_than_the_bound_is_fetched_ahead_of_the_reader(
    objects: int, held_bytes: int, most: int
) -> None:
    started: list[str] = []
    lock = threading.Lock()

    def get(entry: ManifestEntry) -> bytes:
        with lock:
            started.append(entry.key)
        return b"x"

    taken = 0
    for _ in fetched_in_order(get, _entries(60), 8, objects=objects, held_bytes=held_bytes):
        taken += 1
        time.sleep(0.001)
        with lock:
            assert len(started) - taken <= most - 1
    assert taken == 60


def test_an_object_larger_than_the_bound_is_fetched_alone() -> None:
    entries = [ManifestEntry("small", 10, "e"), ManifestEntry("huge", 1000, "e")]
    got = list(fetched_in_order(lambda e: e.key.encode(), entries, 4, held_bytes=100))
    assert [key for key, _ in got] == ["small", "huge"]


def test_a_slow_get_holds_up_its_own_place_not_the_ones_after_it() -> None:
    """Fetched a window at a time, the objects after a window's slow one would wait for it:
    here they are fetched while it is, up to the bound."""
    release, fetched = threading.Event(), set()
    lock = threading.Lock()

    def get(entry: ManifestEntry) -> bytes:
        if entry.key == "k3":
            assert release.wait(10)
        with lock:
            fetched.add(entry.key)
        return b"x"

    reader = fetched_in_order(get, _entries(12), 4, objects=4)
    assert [next(reader)[0] for _ in range(3)] == ["k0", "k1", "k2"]
    deadline = time.monotonic() + 10
    while not {"k4", "k5"} <= fetched and time.monotonic() < deadline:
        time.sleep(0.005)
    # Windows of four (k0-k3, then k4-k7) would not start k4 or k5 before k3 is done.
    assert {"k4", "k5"} <= fetched
    assert "k3" not in fetched
    release.set()
    assert [key for key, _ in reader] == [f"k{i}" for i in range(3, 12)]


def test_a_failed_get_ends_the_reading_and_drops_the_fetches_not_started() -> None:
    calls: list[str] = []
    lock = threading.Lock()

    def get(entry: ManifestEntry) -> bytes:
        with lock:
            calls.append(entry.key)
        if entry.key == "k2":
            raise OSError("the object changed")
        time.sleep(0.01)
        return b"x"

    reader = fetched_in_order(get, _entries(200), 2, objects=50)
    with pytest.raises(OSError, match="changed"):
        list(reader)
    assert len(calls) < 200
