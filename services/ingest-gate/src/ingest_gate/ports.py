"""What the gate needs from the outside world, as small protocols."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from ingest_gate.domain import IdempotencyRecord, JobRejected, JobStarted, StoredRecord

Clock = Callable[[], datetime]


class IdempotencyStore(Protocol):
    def claim(self, record: IdempotencyRecord) -> StoredRecord:
        """Create the record only if none exists; raises AlreadyClaimedError otherwise."""
        ...

    def get(self, transaction_id: str) -> StoredRecord | None: ...

    def replace(self, record: IdempotencyRecord, *, etag: str) -> StoredRecord:
        """Overwrite only if the stored ETag is still `etag`; raises StaleRecordError otherwise."""
        ...


class JobRunner(Protocol):
    def start(self, job_name: str, arguments: dict[str, str]) -> str:
        """Start one run and return its run id."""
        ...

    def find_run(self, job_name: str, transaction_id: str) -> str | None:
        """The id of a run of this job already started for this transaction id, if any."""
        ...

    def defined_arguments(self, job_name: str) -> frozenset[str]:
        """The argument names (``--name``) the job's definition sets itself."""
        ...


class EventPublisher(Protocol):
    def started(
        self, event: JobStarted, *, correlation_id: str, traceparent: str | None = None
    ) -> None: ...

    def rejected(
        self, event: JobRejected, *, correlation_id: str, traceparent: str | None = None
    ) -> None: ...
