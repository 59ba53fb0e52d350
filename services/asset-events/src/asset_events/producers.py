"""The upsert and drop producers: apply a decided request to the control table with a
conditional write on the asset's version, then announce it.

A redelivered request finds its change already applied and announces it again (the first
announcement may have been lost in a crash between the write and the publish; consumers
de-duplicate on asset id and version). A request overtaken by a newer state changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from asset_events.domain import (
    AssetRecord,
    AssetState,
    DropRequest,
    HistoryEntry,
    Outcome,
    Status,
    UpsertRequest,
    VersionConflictError,
    utc_text,
)
from asset_events.ports import Clock, ControlStore, EventPublisher

# Tombstones keep their history; the full snapshots stay in the versioned content bucket.
MAX_HISTORY = 100
CONFLICT_ATTEMPTS = 3


def _now() -> datetime:
    return datetime.now(UTC)


def _with_history(
    history: tuple[HistoryEntry, ...], entry: HistoryEntry
) -> tuple[HistoryEntry, ...]:
    return (*history, entry)[-MAX_HISTORY:]


def upserted_state(request: UpsertRequest, current: AssetState | None, now: str) -> AssetState:
    """The state an upsert writes over `current` (None: never seen)."""
    created = current is None or current.status is Status.DROPPED
    version = (current.version if current else 0) + 1
    change = "CREATED" if created else "UPDATED"
    return AssetState(
        asset=request.asset,
        agent=request.agent,
        status=Status.ACTIVE,
        version=version,
        content_hash=request.content_hash,
        content_uri=request.content_uri,
        observed_at=utc_text(request.observed_at),
        updated_at=now,
        previous_hash=None if created or current is None else current.content_hash,
        columns=request.columns,
        location=request.location,
        history=_with_history(
            current.history if current else (),
            HistoryEntry(version, change, request.content_hash, now),
        ),
    )


def dropped_state(request: DropRequest, current: AssetState, now: str) -> AssetState:
    version = current.version + 1
    return replace(
        current,
        status=Status.DROPPED,
        version=version,
        # observed_at stays: the seen mark, newer than any report the run missed, keeps stale
        # reports from resurrecting the asset.
        updated_at=now,
        history=_with_history(
            current.history, HistoryEntry(version, "DROPPED", current.content_hash, now)
        ),
    )


class _Producer:
    def __init__(
        self, *, store: ControlStore, publisher: EventPublisher, clock: Clock = _now
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._clock = clock

    def _retrying(self, apply_once: Callable[[], Outcome], asset_id: str) -> Outcome:
        """Raises VersionConflictError if the asset kept changing under it (the request is
        retried by its queue), StoreUnavailableError on AWS errors."""
        for _ in range(CONFLICT_ATTEMPTS):
            try:
                return apply_once()
            except VersionConflictError:
                continue
        raise VersionConflictError(asset_id)

    def _record(self, asset_id: str) -> AssetRecord:
        return self._store.read([asset_id]).get(asset_id, AssetRecord(None, None))


class UpsertProducer(_Producer):
    def apply(self, request: UpsertRequest) -> Outcome:
        return self._retrying(lambda: self._apply_once(request), request.asset_id)

    def _apply_once(self, request: UpsertRequest) -> Outcome:
        current = self._record(request.asset_id).state
        if current is not None and utc_text(request.observed_at) < current.observed_at:
            return Outcome.SUPERSEDED
        if (
            current is not None
            and current.status is Status.ACTIVE
            and current.content_hash == request.content_hash
        ):
            self._publisher.upserted(
                current, origin=request.origin, correlation_id=request.correlation_id
            )
            return Outcome.ALREADY_APPLIED
        state = upserted_state(request, current, utc_text(self._clock()))
        self._store.put_state(state, expected_version=current.version if current else None)
        self._publisher.upserted(
            state, origin=request.origin, correlation_id=request.correlation_id
        )
        return Outcome.APPLIED


class DropProducer(_Producer):
    def apply(self, request: DropRequest) -> Outcome:
        return self._retrying(lambda: self._apply_once(request), request.asset_id)

    def _apply_once(self, request: DropRequest) -> Outcome:
        record = self._record(request.asset_id)
        current = record.state
        if current is None:
            return Outcome.NOTHING_TO_DROP
        if current.status is Status.DROPPED:
            if current.content_hash != request.last_hash:
                return Outcome.NOTHING_TO_DROP
            self._publisher.dropped(current, request=request)
            return Outcome.ALREADY_APPLIED
        if current.content_hash != request.last_hash:
            return Outcome.SUPERSEDED
        if record.seen is not None and record.seen.seen_at > utc_text(request.last_seen_at):
            return Outcome.SUPERSEDED  # reported again after the drop was decided
        state = dropped_state(request, current, utc_text(self._clock()))
        self._store.put_state(state, expected_version=current.version)
        self._publisher.dropped(state, request=request)
        return Outcome.APPLIED
