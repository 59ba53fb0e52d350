"""Producers: conditional writes on a version, idempotent redelivery, superseded requests."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from asset_events.domain import (
    AssetState,
    Outcome,
    Status,
    StoreUnavailableError,
    VersionConflictError,
)
from asset_events.producers import CONFLICT_ATTEMPTS
from asset_events_fakes import (
    T0,
    FakeControlStore,
    World,
    asset_id,
    completed,
    observation,
    run_completed,
    running,
)


def _decide(world: World, event: dict[str, object]) -> None:
    world.decisor().observe([observation(event)])


def test_an_upsert_applied_twice_writes_once_and_announces_the_same_version(world: World) -> None:
    _decide(world, running("orders"))
    [request] = world.sender.upserts
    producer = world.upsert_producer()
    assert producer.apply(request) is Outcome.APPLIED
    assert producer.apply(request) is Outcome.ALREADY_APPLIED
    assert world.store.state_writes == 1
    assert [s.version for s, _ in world.publisher.upserts] == [1, 1]


def test_a_crash_between_write_and_announcement_announces_on_redelivery(world: World) -> None:
    _decide(world, running("orders"))
    [request] = world.sender.upserts
    world.publisher.fail_next = 1
    with pytest.raises(StoreUnavailableError):
        world.upsert_producer().apply(request)
    assert world.store.states[asset_id("orders")].version == 1
    assert world.upsert_producer().apply(request) is Outcome.ALREADY_APPLIED
    assert [s.version for s, _ in world.publisher.upserts] == [1]


def test_an_older_request_applied_after_a_newer_one_changes_nothing(world: World) -> None:
    _decide(world, running("orders", run="run-1"))
    old = world.sender.upserts.pop()
    _decide(
        world,
        running("orders", run="run-2", at=T0 + timedelta(hours=1), columns=(("id", "int", False),)),
    )
    new = world.sender.upserts.pop()
    assert world.upsert_producer().apply(new) is Outcome.APPLIED
    assert world.upsert_producer().apply(old) is Outcome.SUPERSEDED
    assert world.store.states[asset_id("orders")].content_hash == new.content_hash


class ConflictingStore(FakeControlStore):
    """Another writer bumps the version between every read and write, `times` times."""

    def __init__(self, times: int) -> None:
        super().__init__()
        self.times = times

    def put_state(self, state: AssetState, *, expected_version: int | None) -> None:
        if self.times:
            self.times -= 1
            current = self.states[state.asset_id]
            self.states[state.asset_id] = replace(current, version=current.version + 1)
        super().put_state(state, expected_version=expected_version)


def _seeded(store: FakeControlStore) -> World:
    world = World(store=store)
    _decide(world, running("orders"))
    world.apply_all()
    _decide(
        world,
        running("orders", run="r2", at=T0 + timedelta(hours=1), columns=(("id", "int", False),)),
    )
    return world


def test_a_version_conflict_is_retried_on_a_fresh_read() -> None:
    store = ConflictingStore(0)
    world = _seeded(store)
    store.times = CONFLICT_ATTEMPTS - 1
    [request] = world.sender.upserts
    assert world.upsert_producer().apply(request) is Outcome.APPLIED
    assert store.states[asset_id("orders")].content_hash == request.content_hash


def test_a_conflict_that_persists_fails_the_request_for_its_queue_to_retry() -> None:
    store = ConflictingStore(0)
    world = _seeded(store)
    store.times = CONFLICT_ATTEMPTS
    [request] = world.sender.upserts
    with pytest.raises(VersionConflictError):
        world.upsert_producer().apply(request)


def test_concurrent_upserts_of_one_asset_lose_no_update(world: World) -> None:
    _decide(world, running("orders"))
    world.apply_all()
    requests = []
    for n in range(8):
        at = T0 + timedelta(hours=n + 1)
        _decide(world, running("orders", run=f"r{n}", at=at, columns=((f"c{n}", "int", False),)))
        requests.append(world.sender.upserts.pop())
    barrier = threading.Barrier(len(requests))
    outcomes: list[Outcome] = []

    def apply(request: object) -> None:
        barrier.wait()
        outcomes.append(world.upsert_producer().apply(request))  # type: ignore[arg-type]

    threads = [threading.Thread(target=apply, args=(r,)) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    state = world.store.states[asset_id("orders")]
    # Every write was conditional: versions are contiguous and the newest report is the state.
    assert state.version == 1 + outcomes.count(Outcome.APPLIED)
    assert state.content_hash == requests[-1].content_hash
    assert [h.version for h in state.history] == list(range(1, state.version + 1))


def _dropped_world(world: World) -> None:
    _decide(world, running("orders"))
    _decide(world, running("items"))
    world.apply_all()
    for table in ("items",):
        world.decisor().observe([observation(running(table, run="r2", at=T0 + timedelta(hours=1)))])
    world.decisor(threshold=1).complete(
        run_completed(completed(run="r2", at=T0 + timedelta(hours=1, minutes=5), reported=1))
    )


def test_a_drop_applied_twice_writes_once(world: World) -> None:
    _dropped_world(world)
    [request] = world.sender.drops
    producer = world.drop_producer()
    assert producer.apply(request) is Outcome.APPLIED
    assert producer.apply(request) is Outcome.ALREADY_APPLIED
    state = world.store.states[asset_id("orders")]
    assert state.status is Status.DROPPED
    assert state.version == 2
    assert [h.change for h in state.history] == ["CREATED", "DROPPED"]


def test_a_drop_overtaken_by_a_change_or_a_new_sighting_changes_nothing(world: World) -> None:
    _dropped_world(world)
    [request] = world.sender.drops
    _decide(world, running("orders", run="r3", at=T0 + timedelta(hours=2)))  # seen again
    assert world.drop_producer().apply(request) is Outcome.SUPERSEDED
    _decide(
        world,
        running("orders", run="r4", at=T0 + timedelta(hours=3), columns=(("x", "int", False),)),
    )
    world.apply_all()
    assert world.drop_producer().apply(request) is Outcome.SUPERSEDED
    assert world.store.states[asset_id("orders")].status is Status.ACTIVE


def test_dropping_an_unknown_asset_does_nothing(world: World) -> None:
    _dropped_world(world)
    [request] = world.sender.drops
    assert World().drop_producer().apply(request) is Outcome.NOTHING_TO_DROP
