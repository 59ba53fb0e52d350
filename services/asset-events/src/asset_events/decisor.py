"""The decisor: from agent observations to upsert requests, from completed runs to drops.

Reads are batched (one BatchGetItem per 50 events: state and seen mark per asset), unchanged
assets only move their seen mark (batched writes), and nothing older than what the control
table holds is ever applied. The decisor never writes an asset's state: the producers do, on a
version, so a request that races another changes nothing it should not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from asset_events.domain import (
    AssetRecord,
    Decision,
    DropRequest,
    DropVerdict,
    Observation,
    Origin,
    OriginKind,
    RunCompleted,
    SeenMark,
    Status,
    StoreUnavailableError,
    UpsertRequest,
    Withheld,
    parse_utc,
    utc_text,
)
from asset_events.hashing import decision_id
from asset_events.ports import Clock, ContentStore, ControlStore, RequestSender


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DecisorConfig:
    # Share of an agent's active assets one completed run may drop; above it nothing is dropped
    # (an agent that crashed mid-run must not wipe the catalogue).
    drop_threshold: float = 0.2


@dataclass(frozen=True)
class Decided:
    """What happened to one observation; `failed` ones must be delivered again."""

    observation: Observation
    decision: Decision
    failed: bool = False


def classify(observation: Observation, record: AssetRecord) -> Decision:
    """The decision table for one running report against the control table."""
    seen_at = utc_text(observation.observed_at)
    if record.seen is not None and seen_at < record.seen.seen_at:
        return Decision.STALE
    state = record.state
    if state is not None and seen_at < state.observed_at:
        return Decision.STALE
    seen = record.seen
    if (
        seen is not None
        and seen.run_id == observation.run_id
        and seen.content_hash == observation.content_hash
        and (state is None or state.content_hash != observation.content_hash)
        and (state is None or state.status is Status.ACTIVE)
    ):
        # A duplicate of a report whose request the producer has not applied yet; a later run
        # requests again, so a request lost to a DLQ does not keep the asset behind for good.
        return Decision.PENDING
    if state is None or state.status is Status.DROPPED:
        return Decision.NEW
    if state.content_hash == observation.content_hash:
        return Decision.UNCHANGED
    return Decision.CHANGED


def latest_per_asset(observations: Sequence[Observation]) -> dict[str, int]:
    """Index of the newest report of each asset in a batch (a later record wins a tie)."""
    latest: dict[str, int] = {}
    for index, observation in enumerate(observations):
        current = latest.get(observation.asset_id)
        if current is None or observations[current].observed_at <= observation.observed_at:
            latest[observation.asset_id] = index
    return latest


def drop_candidates(
    records: dict[str, AssetRecord], run: RunCompleted
) -> tuple[dict[str, AssetRecord], list[str], int]:
    """(active assets, those the run did not see, how many assets the run saw)."""
    completed_at = utc_text(run.completed_at)
    active = {
        asset_id: record
        for asset_id, record in records.items()
        if record.state is not None and record.state.status is Status.ACTIVE
    }
    seen_in_run = sum(
        1 for record in records.values() if record.seen and record.seen.run_id == run.run_id
    )
    missing = sorted(
        asset_id
        for asset_id, record in active.items()
        if not _seen_since(record, run, completed_at)
    )
    return active, missing, seen_in_run


def _seen_since(record: AssetRecord, run: RunCompleted, completed_at: str) -> bool:
    seen = record.seen
    # Seen by a later run (its events overtook this completed event) counts as present too.
    return seen is not None and (seen.run_id == run.run_id or seen.seen_at >= completed_at)


def drop_guard(
    run: RunCompleted, *, active: int, missing: int, seen_in_run: int, threshold: float
) -> Withheld | None:
    """Why this run must not drop anything, or None. The drops are not lost: the assets stay
    unseen, so the next good run of the agent finds them again."""
    if run.tables_failed > 0:
        return Withheld.RUN_HAD_FAILURES
    if run.tables_reported == 0:
        return Withheld.RUN_REPORTED_NOTHING
    if seen_in_run < run.tables_reported:
        return Withheld.RUN_NOT_FULLY_SEEN
    if active and missing > threshold * active:
        return Withheld.TOO_MANY_DROPS
    return None


class Decisor:
    def __init__(
        self,
        *,
        store: ControlStore,
        content: ContentStore,
        sender: RequestSender,
        config: DecisorConfig | None = None,
        clock: Clock = _now,
    ) -> None:
        self._store = store
        self._content = content
        self._sender = sender
        self._config = config or DecisorConfig()
        self._clock = clock

    def observe(self, observations: Sequence[Observation]) -> list[Decided]:
        """Decide a batch of reports, in order. Raises StoreUnavailableError when the control
        table cannot be read or written (the whole batch is retried: every step is
        idempotent); a request that could not be queued fails only its report."""
        latest = latest_per_asset(observations)
        records = self._store.read(sorted(latest))
        decided: dict[int, Decided] = {
            index: Decided(observation, Decision.STALE)
            for index, observation in enumerate(observations)
            if latest[observation.asset_id] != index
        }
        marks: dict[int, SeenMark] = {}
        upserts: dict[int, UpsertRequest] = {}
        for index in latest.values():
            observation = observations[index]
            record = records.get(observation.asset_id, AssetRecord(None, None))
            decision = classify(observation, record)
            decided[index] = Decided(observation, decision)
            if decision is Decision.STALE:
                continue
            marks[index] = _seen_mark(observation)
            if decision in (Decision.NEW, Decision.CHANGED):
                upserts[index] = self._upsert_request(observation, record)
        failed = self._sender.send_upserts(list(upserts.values())) if upserts else set()
        failed_indexes = {i for i, request in upserts.items() if request.decision_id in failed}
        # A report whose request was not queued keeps its old mark, so its retry decides again.
        self._store.mark_seen([m for i, m in marks.items() if i not in failed_indexes])
        for index in failed_indexes:
            decided[index] = Decided(observations[index], decided[index].decision, failed=True)
        return [decided[index] for index in range(len(observations))]

    def _upsert_request(self, observation: Observation, record: AssetRecord) -> UpsertRequest:
        uri = self._content.put_content(
            observation.asset_id, observation.content_hash, observation.content
        )
        state = record.state
        previous = state.content_hash if state and state.status is Status.ACTIVE else None
        return UpsertRequest(
            decision_id=decision_id(observation.asset_id, observation.content_hash),
            asset=observation.asset,
            agent=observation.agent,
            content_hash=observation.content_hash,
            previous_hash=previous,
            columns=observation.columns,
            location=observation.location,
            content_uri=uri,
            origin=observation.origin,
            observed_at=observation.observed_at,
            decided_at=self._clock(),
            correlation_id=observation.correlation_id,
        )

    def complete(self, run: RunCompleted) -> DropVerdict:
        """Drop the agent's assets the run did not see, unless the guard withholds them.
        Raises StoreUnavailableError when a drop request could not be queued (the completed
        event is retried; the producers ignore a request applied before)."""
        active, missing, seen_in_run = drop_candidates(self._store.agent_records(run.agent), run)
        withheld = drop_guard(
            run,
            active=len(active),
            missing=len(missing),
            seen_in_run=seen_in_run,
            threshold=self._config.drop_threshold,
        )
        verdict = DropVerdict(
            agent=run.agent,
            run_id=run.run_id,
            active=len(active),
            seen_in_run=seen_in_run,
            candidates=tuple(missing),
            withheld=withheld,
        )
        if withheld is not None or not missing:
            return verdict
        # The index may lag: confirm every candidate on a consistent read before dropping it.
        confirmed = self._store.read(missing)
        completed_at = utc_text(run.completed_at)
        requests = [
            self._drop_request(asset_id, record, run)
            for asset_id, record in sorted(confirmed.items())
            if record.state is not None
            and record.state.status is Status.ACTIVE
            and not _seen_since(record, run, completed_at)
        ]
        failed = self._sender.send_drops(requests) if requests else set()
        if failed:
            raise StoreUnavailableError(f"{len(failed)} drop requests not queued")
        return DropVerdict(
            agent=verdict.agent,
            run_id=verdict.run_id,
            active=verdict.active,
            seen_in_run=verdict.seen_in_run,
            candidates=verdict.candidates,
            withheld=None,
            requests=tuple(requests),
        )

    def _drop_request(self, asset_id: str, record: AssetRecord, run: RunCompleted) -> DropRequest:
        state = record.state
        assert state is not None  # filtered by the caller
        last_seen = record.seen.seen_at if record.seen else state.observed_at
        return DropRequest(
            decision_id=decision_id(asset_id, state.content_hash, "drop"),
            asset=state.asset,
            last_hash=state.content_hash,
            origin=Origin(OriginKind.AGENT, run.event_id, run.run_id),
            last_seen_at=parse_utc(last_seen),
            decided_at=self._clock(),
            correlation_id=run.correlation_id,
        )


def _seen_mark(observation: Observation) -> SeenMark:
    return SeenMark(
        asset_id=observation.asset_id,
        agent=observation.agent,
        run_id=observation.run_id,
        seen_at=utc_text(observation.observed_at),
        content_hash=observation.content_hash,
    )
