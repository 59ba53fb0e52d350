"""The gate's own types: requests, idempotency records, outcomes and errors.

Contract models stop at the edges (handler and bus adapter); the logic works on these.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

TRANSACTION_ARGUMENT = "--transaction_id"


@dataclass(frozen=True)
class JobRequest:
    """What a producer asked for, already validated against its contract."""

    transaction_id: str
    job_name: str
    arguments: Mapping[str, str]
    requested_by: str
    correlation_id: str
    # W3C trace context of the request (CloudEvents Distributed Tracing), carried onto the
    # started/rejected event so one trace spans producer and gate.
    traceparent: str | None = None

    def request_hash(self) -> str:
        """Identity of the payload: job and arguments (not who or when), so a retry matches."""
        canonical = json.dumps(
            {"job_name": self.job_name, "arguments": dict(self.arguments)},
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    def glue_arguments(self) -> dict[str, str]:
        """Arguments as Glue takes them; --transaction_id lets a crashed attempt find its run."""
        arguments = {f"--{name}": value for name, value in self.arguments.items()}
        arguments[TRANSACTION_ARGUMENT] = self.transaction_id
        return arguments


class RecordState(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


@dataclass(frozen=True)
class IdempotencyRecord:
    """The state of one transaction id, as stored."""

    transaction_id: str
    state: RecordState
    request_hash: str
    job_name: str
    claim_expires_at: datetime
    attempt: int
    correlation_id: str
    updated_at: datetime
    job_run_id: str | None = None

    def claim_expired(self, now: datetime) -> bool:
        return self.state is RecordState.IN_PROGRESS and now >= self.claim_expires_at

    def renewed(self, *, now: datetime, ttl: timedelta, correlation_id: str) -> IdempotencyRecord:
        return replace(
            self,
            claim_expires_at=now + ttl,
            attempt=self.attempt + 1,
            correlation_id=correlation_id,
            updated_at=now,
        )

    def released(self, *, now: datetime, job_run_id: str | None) -> IdempotencyRecord:
        """Expire the claim at once so the next delivery takes over without waiting.

        Either the start definitely did not happen (job_run_id None), or it did and the run id
        is kept so the next attempt adopts it instead of looking it up.
        """
        return replace(self, claim_expires_at=now, updated_at=now, job_run_id=job_run_id)

    def completed(self, *, job_run_id: str, now: datetime) -> IdempotencyRecord:
        return replace(self, state=RecordState.COMPLETED, job_run_id=job_run_id, updated_at=now)


@dataclass(frozen=True)
class StoredRecord:
    """A record with the ETag it was read or written with (the If-Match token)."""

    record: IdempotencyRecord
    etag: str


class RejectionReason(StrEnum):
    UNKNOWN_JOB = "UNKNOWN_JOB"
    CONFLICTING_PAYLOAD = "CONFLICTING_PAYLOAD"


@dataclass(frozen=True)
class JobStarted:
    transaction_id: str
    job_name: str
    job_run_id: str
    arguments: dict[str, str]
    started_at: datetime
    recovered: bool


@dataclass(frozen=True)
class JobRejected:
    transaction_id: str
    job_name: str
    reason: RejectionReason
    detail: str
    rejected_at: datetime
    existing_job_run_id: str | None = None


class Outcome(StrEnum):
    STARTED = "STARTED"
    RECOVERED = "RECOVERED"
    DUPLICATE = "DUPLICATE"
    REJECTED = "REJECTED"


@dataclass(frozen=True)
class GateResult:
    outcome: Outcome
    job_run_id: str | None = None
    reason: RejectionReason | None = None
    notes: tuple[str, ...] = field(default=())


# Errors. Anything raised out of the gate fails the SQS record, which SQS delivers again
# after its visibility timeout, and moves to the DLQ after maxReceiveCount.


class IngestGateError(Exception):
    """Base of every error the gate raises."""


class RetryLaterError(IngestGateError):
    """A transient condition: the record fails now and succeeds on a later delivery."""


class ClaimHeldError(RetryLaterError):
    """Another attempt holds a live claim on this transaction id."""


class ClaimLostError(RetryLaterError):
    """Our claim expired (or was taken over) before the job was started."""


class AlreadyClaimedError(IngestGateError):
    """Store: a record already exists for this transaction id (If-None-Match failed)."""


class StaleRecordError(IngestGateError):
    """Store: the record changed since it was read (If-Match failed)."""


class StoreUnavailableError(RetryLaterError):
    """Store: S3 failed in a way that says nothing about the record."""


class StartThrottledError(RetryLaterError):
    """Glue refused to start the run for now (throttling, concurrent runs, quotas)."""


class DefinedArgumentError(IngestGateError):
    """The request sets an argument the job's definition already sets (its DefaultArguments or
    NonOverridableArguments): the job's buckets, topic and settings are its own, not a
    requester's. A poison message: it goes to the DLQ with this reason."""

    def __init__(self, job_name: str, names: list[str]) -> None:
        super().__init__(f"{job_name} defines {', '.join(names)} itself")
        self.job_name = job_name
        self.names = names


class JobNotFoundError(IngestGateError):
    """Glue has no job of that name although it is on the allow-list (a deployment problem)."""


class GlueUnavailableError(RetryLaterError):
    """Glue failed and we cannot tell whether the run started; takeover will look it up."""


class PublishFailedError(RetryLaterError):
    """The event could not be published to the bus."""
