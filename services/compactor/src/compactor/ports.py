"""What the compactor needs from the outside world, as small protocols, and its own errors."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from rocket_contracts.models.compactor.domain_processed_v1 import CompactorDomainProcessedV1

from compactor.planning import LandingObject
from compactor.schema import Column


class CompactorError(Exception):
    """Base of the service's own errors."""


class StorageError(CompactorError):
    """An object store call failed (retryable)."""


class ObjectChangedError(StorageError):
    """A landing object no longer has the ETag it was planned with: plan the day again."""


class CatalogError(CompactorError):
    """A Glue catalog call failed."""


class PublishError(CompactorError):
    """The event could not be put on the shared topic."""


class CountMismatchError(CompactorError):
    """Rows out differ from records in, or an output file is not what its range wrote: the
    execution fails and nothing is published."""


class FieldLostError(CompactorError):
    """A field that records of a range hold is not a column of its Parquet file."""


class IncompleteRangesError(CompactorError):
    """Finalize found a range without its result: a Map iteration did not finish."""


class LockLostError(CompactorError):
    """The day's lock expired and another execution took it: this one must not commit."""


class ObjectStore(Protocol):
    def list_objects(self, bucket: str, prefix: str) -> Iterator[LandingObject]: ...

    def get_bytes(self, bucket: str, key: str, *, etag: str | None = None) -> bytes: ...

    def put_bytes(self, bucket: str, key: str, data: bytes) -> None: ...

    def upload(self, path: Path, bucket: str, key: str) -> None: ...

    def download(self, bucket: str, key: str, dest: Path) -> None: ...

    def size_of(self, bucket: str, key: str) -> int | None:
        """The object's size, or None when there is no such key."""
        ...

    def delete(self, bucket: str, key: str) -> None: ...

    def tag(self, bucket: str, key: str, tags: dict[str, str]) -> bool:
        """Add `tags` to the object's tag set, keeping its other tags. False when the object
        already had them (nothing written) or is gone."""
        ...

    def read_json(self, bucket: str, key: str) -> tuple[dict[str, Any], str] | None:
        """The object's JSON body and ETag, or None when there is no such key."""
        ...

    def put_json(self, bucket: str, key: str, body: dict[str, Any]) -> None: ...

    def create_json(self, bucket: str, key: str, body: dict[str, Any]) -> bool:
        """Write only if `key` does not exist (If-None-Match: *); False if it does."""
        ...

    def replace_json(self, bucket: str, key: str, body: dict[str, Any], etag: str) -> bool:
        """Write only if `key` still has `etag` (If-Match); False if it changed."""
        ...


class Catalog(Protocol):
    def table_columns(self, database: str, table: str) -> list[Column] | None:
        """The table's columns, or None when there is no such table."""
        ...

    def put_table(
        self, database: str, table: str, columns: Sequence[Column], location: str
    ) -> None:
        """Create the table partitioned by `dt`, or set its columns."""
        ...

    def put_partition(
        self, database: str, table: str, day: str, columns: Sequence[Column], location: str
    ) -> None:
        """Create the `dt=<day>` partition, or replace its columns and location."""
        ...


class Publisher(Protocol):
    def publish(
        self, event: CompactorDomainProcessedV1, *, correlation_id: str, subject: str
    ) -> None: ...


@dataclass(frozen=True)
class ViolationReport:
    """A domain-day whose landing records break the domain's declared fields: the feedback to
    the producers. `dedup_id` names the day's plan, so a Finalize retried within the queue's
    deduplication window (5 minutes for SQS FIFO) reports it once."""

    domain: str
    date: str
    plan_id: str
    request_id: str
    records: int
    reasons: dict[str, int]
    location: str

    @property
    def dedup_id(self) -> str:
        return f"{self.domain}-{self.date}-{self.plan_id}"

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def detail(self) -> str:
        counts = ", ".join(f"{reason} {n}" for reason, n in sorted(self.reasons.items()))
        return (
            f"{self.domain} {self.date}: {self.records} records break the declared fields "
            f"({counts}); they are in {self.location}"
        )


class Violations(Protocol):
    def report(self, report: ViolationReport) -> None:
        """Raise StorageError when the report could not be sent (the step is retried)."""
        ...


class Executions(Protocol):
    def start(self, name: str, payload: dict[str, Any]) -> bool:
        """Start an execution of the workflow named `name`. A name is unique per state machine:
        the same start again is answered without a second execution (True, as Step Functions
        answers an identical start); False when the name was used with another input."""
        ...
