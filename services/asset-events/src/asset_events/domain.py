"""The asset-events vocabulary: what an agent reported, what the control table holds, what was
decided. Plain frozen dataclasses; the contract models stay at the edges."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ASSET_PREFIX = "ASSET#"
STATE_SK = "STATE"
SEEN_SK = "SEEN"
PLATFORM_AGENT = "rocket"


class AssetEventsError(Exception):
    """Base of the service's own errors."""


class StoreUnavailableError(AssetEventsError):
    """The control table, content bucket or a queue failed after the adapter's retries."""


class VersionConflictError(AssetEventsError):
    """The asset's state changed between read and conditional write."""


class OriginKind(enum.StrEnum):
    AGENT = "agent"
    ETL = "etl"
    COMPACTOR = "compactor"


class Status(enum.StrEnum):
    ACTIVE = "ACTIVE"
    DROPPED = "DROPPED"


class Decision(enum.StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    PENDING = "pending"  # its upsert was requested earlier in the same run
    STALE = "stale"


class Withheld(enum.StrEnum):
    """Why a completed run dropped nothing (the drops wait for a later good run)."""

    RUN_HAD_FAILURES = "RUN_HAD_FAILURES"
    RUN_REPORTED_NOTHING = "RUN_REPORTED_NOTHING"
    RUN_NOT_FULLY_SEEN = "RUN_NOT_FULLY_SEEN"
    TOO_MANY_DROPS = "TOO_MANY_DROPS"


class Outcome(enum.StrEnum):
    """What a producer did with a request."""

    APPLIED = "applied"
    ALREADY_APPLIED = "already_applied"
    SUPERSEDED = "superseded"
    NOTHING_TO_DROP = "nothing_to_drop"


def utc_text(moment: datetime) -> str:
    """Fixed-width UTC text, so the control table compares moments as strings."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class AssetRef:
    system: str
    database: str
    table: str

    @property
    def asset_id(self) -> str:
        return f"{self.system}.{self.database}.{self.table}"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool


@dataclass(frozen=True)
class Origin:
    kind: OriginKind
    event_id: str
    agent_run_id: str | None = None


@dataclass(frozen=True)
class Observation:
    """One asset as a source reported it at `observed_at` (an agent's running event, or a
    platform announcement), with the hash of its content."""

    asset: AssetRef
    agent: str
    run_id: str
    observed_at: datetime
    columns: tuple[Column, ...]
    location: str | None
    content: bytes
    content_hash: str
    origin: Origin
    correlation_id: str

    @property
    def asset_id(self) -> str:
        return self.asset.asset_id


@dataclass(frozen=True)
class RunCompleted:
    agent: str
    run_id: str
    event_id: str
    completed_at: datetime
    tables_reported: int
    tables_failed: int
    correlation_id: str


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    change: str
    content_hash: str
    at: str


@dataclass(frozen=True)
class AssetState:
    """The control table's record of an asset (written only by the producers, on a version)."""

    asset: AssetRef
    agent: str
    status: Status
    version: int
    content_hash: str
    content_uri: str
    observed_at: str
    updated_at: str
    previous_hash: str | None = None
    columns: tuple[Column, ...] = ()
    location: str | None = None
    history: tuple[HistoryEntry, ...] = field(default=())

    @property
    def asset_id(self) -> str:
        return self.asset.asset_id


@dataclass(frozen=True)
class SeenMark:
    """When the asset was last reported present, by which run (written by the decisor)."""

    asset_id: str
    agent: str
    run_id: str
    seen_at: str
    content_hash: str


@dataclass(frozen=True)
class AssetRecord:
    state: AssetState | None
    seen: SeenMark | None


@dataclass(frozen=True)
class UpsertRequest:
    decision_id: str
    asset: AssetRef
    agent: str
    content_hash: str
    previous_hash: str | None
    columns: tuple[Column, ...]
    location: str | None
    content_uri: str
    origin: Origin
    observed_at: datetime
    decided_at: datetime
    correlation_id: str

    @property
    def asset_id(self) -> str:
        return self.asset.asset_id


@dataclass(frozen=True)
class DropRequest:
    decision_id: str
    asset: AssetRef
    last_hash: str
    origin: Origin
    last_seen_at: datetime
    decided_at: datetime
    correlation_id: str

    @property
    def asset_id(self) -> str:
        return self.asset.asset_id


@dataclass(frozen=True)
class DropVerdict:
    """What a completed run decided: the drops, or why there are none."""

    agent: str
    run_id: str
    active: int
    seen_in_run: int
    candidates: tuple[str, ...]
    withheld: Withheld | None
    requests: tuple[DropRequest, ...] = ()


@dataclass(frozen=True)
class Quarantined:
    """A record that broke the contract: kept with its reason, never retried."""

    key: str
    reason: str
    errors: tuple[str, ...]
    body: bytes
    detail: dict[str, Any] = field(default_factory=dict)
