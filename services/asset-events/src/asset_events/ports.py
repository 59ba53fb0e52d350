"""What the decisor, producers and redrive need from AWS, as small protocols."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from asset_events.domain import (
    AssetRecord,
    AssetState,
    DropRequest,
    Origin,
    Quarantined,
    SeenMark,
    UpsertRequest,
)

Clock = Callable[[], datetime]


class ControlStore(Protocol):
    def read(self, asset_ids: Sequence[str]) -> dict[str, AssetRecord]:
        """State and seen mark of each asset (strongly consistent; absent ids are left out)."""
        ...

    def mark_seen(self, marks: Sequence[SeenMark]) -> None:
        """Write the seen marks (batched); every mark is written or StoreUnavailableError."""
        ...

    def agent_records(self, agent: str) -> dict[str, AssetRecord]:
        """Every asset the agent reported (from an index: may lag the latest writes)."""
        ...

    def put_state(self, state: AssetState, *, expected_version: int | None) -> None:
        """Write the state only if the stored version is `expected_version` (None: no state
        yet); VersionConflictError otherwise."""
        ...


class ContentStore(Protocol):
    def put_content(self, asset_id: str, content_hash: str, content: bytes) -> str:
        """Store the snapshot once (same hash, same key); return its s3:// URI."""
        ...

    def quarantine(self, item: Quarantined) -> str:
        """Keep a record that broke the contract, with the reason; return its s3:// URI."""
        ...

    def keep_withheld(self, agent: str, run_id: str, document: bytes) -> str:
        """Keep a completed run's withheld drops for a human to review; return its URI."""
        ...

    def park(self, key: str, document: bytes) -> str:
        """Keep a message redrive gave up on; return its s3:// URI."""
        ...


class RequestSender(Protocol):
    def send_upserts(self, requests: Sequence[UpsertRequest]) -> set[str]:
        """Put the requests on the upsert queue; the decision ids that could not be sent."""
        ...

    def send_drops(self, requests: Sequence[DropRequest]) -> set[str]:
        """Put the requests on the drop queue; the decision ids that could not be sent."""
        ...


class EventPublisher(Protocol):
    def upserted(self, state: AssetState, *, origin: Origin, correlation_id: str) -> None: ...

    def dropped(self, state: AssetState, *, request: DropRequest) -> None: ...


@dataclass(frozen=True)
class QueueMessage:
    message_id: str
    receipt_handle: str
    body: str
    attributes: Mapping[str, str]


class Mailbox(Protocol):
    """A queue and its DLQ, seen from the redrive function."""

    def receive_dead(self, max_messages: int) -> list[QueueMessage]: ...

    def send_back(self, message: QueueMessage, attributes: Mapping[str, str]) -> None: ...

    def delete_dead(self, message: QueueMessage) -> None: ...
