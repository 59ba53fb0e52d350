"""The decision table: new, changed, unchanged, stale; completed runs with and without the guard."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from asset_events.domain import Decision, Status, Withheld
from asset_events_fakes import (
    T0,
    World,
    asset_id,
    completed,
    observation,
    run_completed,
    running,
)


def _run(
    world: World, tables: list[str], *, run: str, at_minutes: int = 0, **kw: object
) -> list[Decision]:
    at = T0 + timedelta(minutes=at_minutes)
    decided = world.decisor().observe(
        [observation(running(t, run=run, at=at, **kw)) for t in tables]
    )  # type: ignore[arg-type]
    world.apply_all()
    return [d.decision for d in decided]


def test_new_asset_stores_content_and_requests_an_upsert(world: World) -> None:
    assert _run(world, ["orders"], run="run-1") == [Decision.NEW]
    [state] = world.store.states.values()
    assert state.version == 1
    assert state.status is Status.ACTIVE
    key = state.content_uri.removeprefix("s3://content/")
    assert world.content.objects[key] == observation(running("orders")).content
    assert world.store.seen[asset_id("orders")].run_id == "run-1"


def test_unchanged_asset_only_moves_its_seen_mark(world: World) -> None:
    _run(world, ["orders"], run="run-1")
    puts = world.content.puts
    assert _run(world, ["orders"], run="run-2", at_minutes=60) == [Decision.UNCHANGED]
    assert world.sender.upserts == []
    assert world.content.puts == puts
    assert world.store.states[asset_id("orders")].version == 1
    assert world.store.seen[asset_id("orders")].run_id == "run-2"


def test_changed_asset_requests_an_upsert_with_the_previous_hash(world: World) -> None:
    _run(world, ["orders"], run="run-1")
    before = world.store.states[asset_id("orders")].content_hash
    decided = world.decisor().observe(
        [
            observation(
                running(
                    "orders",
                    run="run-2",
                    at=T0 + timedelta(hours=1),
                    columns=(("id", "bigint", False),),
                )
            )
        ]
    )
    assert [d.decision for d in decided] == [Decision.CHANGED]
    [request] = world.sender.upserts
    assert request.previous_hash == before
    world.apply_all()
    state = world.store.states[asset_id("orders")]
    assert state.version == 2
    assert state.previous_hash == before


def test_an_older_report_never_overwrites_newer_state(world: World) -> None:
    _run(world, ["orders"], run="run-2", at_minutes=60)
    old = running("orders", run="run-1", at=T0, columns=(("id", "bigint", False),))
    assert [d.decision for d in world.decisor().observe([observation(old)])] == [Decision.STALE]
    assert world.sender.upserts == []
    assert world.store.seen[asset_id("orders")].run_id == "run-2"


def test_within_a_batch_the_newest_report_of_an_asset_wins(world: World) -> None:
    newer = running(
        "orders", run="run-2", at=T0 + timedelta(hours=1), columns=(("id", "int", False),)
    )
    older = running("orders", run="run-1", at=T0)
    decided = world.decisor().observe([observation(newer), observation(older)])
    assert [d.decision for d in decided] == [Decision.NEW, Decision.STALE]
    [request] = world.sender.upserts
    assert request.content_hash == observation(newer).content_hash


def test_reads_are_batched_per_batch_not_per_event(world: World) -> None:
    world.decisor().observe([observation(running(f"t{n}")) for n in range(250)])
    assert len(world.store.reads) == 1
    assert len(world.store.reads[0]) == 250
    assert len(world.store.seen_writes) == 1


def test_a_report_whose_request_was_not_queued_fails_alone_and_keeps_its_mark(world: World) -> None:
    world.sender.fail_assets = {asset_id("bad")}
    decided = world.decisor().observe([observation(running("good")), observation(running("bad"))])
    assert [d.failed for d in decided] == [False, True]
    assert asset_id("bad") not in world.store.seen
    world.sender.fail_assets = set()
    again = world.decisor().observe([observation(running("bad"))])
    assert [d.decision for d in again] == [Decision.NEW]


def test_the_same_batch_twice_requests_each_upsert_once(world: World) -> None:
    batch = [observation(running(f"t{n}")) for n in range(5)]
    world.decisor().observe(batch)
    again = world.decisor().observe(batch)  # redelivered before the producers ran
    assert {d.decision for d in again} == {Decision.PENDING}
    ids = [r.decision_id for r in world.sender.upserts]
    assert len(ids) == 5
    world.apply_all()
    assert {s.version for s in world.store.states.values()} == {1}


def test_a_later_run_requests_a_pending_upsert_again(world: World) -> None:
    world.decisor().observe([observation(running("orders"))])
    world.sender.upserts.clear()  # the request was lost (parked after its DLQ)
    later = running("orders", run="run-2", at=T0 + timedelta(hours=1))
    assert [d.decision for d in world.decisor().observe([observation(later)])] == [Decision.NEW]
    assert len(world.sender.upserts) == 1


def test_a_dropped_asset_reported_again_is_new(world: World) -> None:
    tables = [f"t{n}" for n in range(10)]
    _run(world, tables, run="run-1")
    world.decisor().complete(run_completed(completed(run="run-1", reported=10)))
    _run(world, tables[1:], run="run-2", at_minutes=60)
    world.decisor().complete(
        run_completed(completed(run="run-2", at=T0 + timedelta(minutes=65), reported=9))
    )
    world.apply_all()
    assert world.store.states[asset_id("t0")].status is Status.DROPPED
    assert _run(world, ["t0"], run="run-3", at_minutes=120) == [Decision.NEW]
    state = world.store.states[asset_id("t0")]
    assert state.status is Status.ACTIVE
    assert state.version == 3
    assert [h.change for h in state.history] == ["CREATED", "DROPPED", "CREATED"]


# --- completed runs -------------------------------------------------------------------------


def _catalogue(world: World, n: int = 100) -> list[str]:
    tables = [f"t{i:03d}" for i in range(n)]
    _run(world, tables, run="run-1")
    return tables


def test_assets_not_seen_in_a_completed_run_are_dropped(world: World) -> None:
    tables = _catalogue(world)
    _run(world, tables[10:], run="run-2", at_minutes=60)
    verdict = world.decisor().complete(
        run_completed(completed(run="run-2", at=T0 + timedelta(minutes=70), reported=90))
    )
    assert verdict.withheld is None
    assert sorted(r.asset_id for r in world.sender.drops) == [asset_id(t) for t in tables[:10]]
    world.apply_all()
    dropped = [s for s in world.store.states.values() if s.status is Status.DROPPED]
    assert len(dropped) == 10
    assert {s.version for s in dropped} == {2}


@pytest.mark.parametrize(
    ("seen", "reported", "failed", "reason"),
    [
        (70, 70, 0, Withheld.TOO_MANY_DROPS),  # 30% gone > 20%
        (95, 96, 0, Withheld.RUN_NOT_FULLY_SEEN),  # a report still on its way
        (95, 95, 2, Withheld.RUN_HAD_FAILURES),
        (0, 0, 0, Withheld.RUN_REPORTED_NOTHING),
    ],
)
def test_the_guard_withholds_every_drop(
    world: World, seen: int, reported: int, failed: int, reason: Withheld
) -> None:
    tables = _catalogue(world)
    if seen:
        _run(world, tables[:seen], run="run-2", at_minutes=60)
    verdict = world.decisor().complete(
        run_completed(
            completed(run="run-2", at=T0 + timedelta(minutes=70), reported=reported, failed=failed)
        )
    )
    assert verdict.withheld is reason
    assert world.sender.drops == []
    assert len(verdict.candidates) == 100 - seen


def test_withheld_drops_happen_after_the_next_good_run(world: World) -> None:
    tables = _catalogue(world)
    _run(world, tables[:10], run="run-2", at_minutes=60)  # crashed after 10%
    crashed = world.decisor().complete(
        run_completed(completed(run="run-2", at=T0 + timedelta(minutes=61), reported=10))
    )
    assert crashed.withheld is Withheld.TOO_MANY_DROPS
    _run(world, tables[5:], run="run-3", at_minutes=120)
    good = world.decisor().complete(
        run_completed(completed(run="run-3", at=T0 + timedelta(minutes=130), reported=95))
    )
    assert good.withheld is None
    assert sorted(r.asset_id for r in world.sender.drops) == [asset_id(t) for t in tables[:5]]


def test_the_threshold_is_a_parameter(world: World) -> None:
    tables = _catalogue(world)
    _run(world, tables[30:], run="run-2", at_minutes=60)
    verdict = world.decisor(threshold=0.5).complete(
        run_completed(completed(run="run-2", at=T0 + timedelta(minutes=70), reported=70))
    )
    assert verdict.withheld is None
    assert len(world.sender.drops) == 30


def test_a_lagging_index_never_drops_an_asset_the_table_saw(world: World) -> None:
    tables = _catalogue(world, 10)
    _run(world, tables, run="run-2", at_minutes=60)
    # The index still shows the first asset as last seen in run-1; the consistent read knows.
    first = asset_id(tables[0])
    world.store.lag_seen[first] = replace(world.store.seen[first], run_id="run-1", seen_at="2026")
    verdict = world.decisor().complete(
        run_completed(completed(run="run-2", at=T0 + timedelta(minutes=70), reported=9))
    )
    assert verdict.candidates == (first,)
    assert world.sender.drops == []


def test_other_agents_assets_are_never_dropped(world: World) -> None:
    _catalogue(world, 10)
    _run(world, ["x1", "x2"], run="other-1", agent="bi-agent")
    world.decisor().complete(
        run_completed(
            completed(run="other-1", at=T0 + timedelta(minutes=70), reported=2, agent="bi-agent")
        )
    )
    assert world.sender.drops == []
