"""Start a Glue job once per transaction id: the claim/complete state machine.

The record for a transaction id lives in the idempotency store and only moves by conditional
writes: `claim` creates it (If-None-Match: *), every later change names the ETag it read
(If-Match). A record is COMPLETED only once its run id is known, so a crash at any point leaves
either no record, or an IN_PROGRESS claim that a later delivery takes over when it expires,
first looking up the run a crashed holder may already have started (every run carries
--transaction_id).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ingest_gate.domain import (
    AlreadyClaimedError,
    ClaimHeldError,
    ClaimLostError,
    DefinedArgumentError,
    GateResult,
    IdempotencyRecord,
    JobNotFoundError,
    JobRejected,
    JobRequest,
    JobStarted,
    Outcome,
    PublishFailedError,
    RecordState,
    RejectionReason,
    StaleRecordError,
    StartThrottledError,
    StoredRecord,
    StoreUnavailableError,
)
from ingest_gate.ports import Clock, EventPublisher, IdempotencyStore, JobRunner


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class GateConfig:
    allowed_jobs: frozenset[str]
    # Longer than the Lambda timeout, so a live holder never loses its claim mid-flight.
    claim_ttl: timedelta = timedelta(seconds=120)
    # Do not call StartJobRun with less than this left on the claim: a taker could race us.
    start_margin: timedelta = timedelta(seconds=10)


class Gate:
    def __init__(
        self,
        *,
        store: IdempotencyStore,
        runner: JobRunner,
        publisher: EventPublisher,
        config: GateConfig,
        clock: Clock = utc_now,
    ) -> None:
        self._store = store
        self._runner = runner
        self._publisher = publisher
        self._config = config
        self._clock = clock

    def handle(self, request: JobRequest) -> GateResult:
        if request.job_name not in self._config.allowed_jobs:
            return self._reject(
                request, RejectionReason.UNKNOWN_JOB, "job is not on the allow-list"
            )
        # StartJobRun arguments override the job's own: a requester could point the job at
        # another bucket or topic. Checked before any claim, so the refusal leaves no trace.
        overridden = sorted(
            set(request.glue_arguments()) & self._runner.defined_arguments(request.job_name)
        )
        if overridden:
            raise DefinedArgumentError(request.job_name, overridden)
        now = self._clock()
        fresh = IdempotencyRecord(
            transaction_id=request.transaction_id,
            state=RecordState.IN_PROGRESS,
            request_hash=request.request_hash(),
            job_name=request.job_name,
            claim_expires_at=now + self._config.claim_ttl,
            attempt=1,
            correlation_id=request.correlation_id,
            updated_at=now,
        )
        try:
            claim = self._store.claim(fresh)
        except AlreadyClaimedError:
            return self._handle_existing(request)
        return self._run(request, claim, known_run_id=None)

    def _handle_existing(self, request: JobRequest) -> GateResult:
        existing = self._store.get(request.transaction_id)
        if existing is None:
            # Claimed a moment ago and gone now: nothing deletes records, so this is S3
            # telling us something odd; let SQS deliver again rather than guess.
            raise ClaimHeldError(request.transaction_id)
        record = existing.record
        if record.request_hash != request.request_hash():
            return self._reject(
                request,
                RejectionReason.CONFLICTING_PAYLOAD,
                "transaction id already used with a different job or arguments",
                existing_job_run_id=record.job_run_id,
            )
        if record.state is RecordState.COMPLETED:
            return GateResult(Outcome.DUPLICATE, job_run_id=record.job_run_id)
        now = self._clock()
        if not record.claim_expired(now):
            raise ClaimHeldError(request.transaction_id)
        return self._take_over(request, existing, now)

    def _take_over(self, request: JobRequest, existing: StoredRecord, now: datetime) -> GateResult:
        renewed = existing.record.renewed(
            now=now, ttl=self._config.claim_ttl, correlation_id=request.correlation_id
        )
        try:
            claim = self._store.replace(renewed, etag=existing.etag)
        except StaleRecordError as exc:
            raise ClaimHeldError(request.transaction_id) from exc
        known_run_id = existing.record.job_run_id or self._runner.find_run(
            request.job_name, request.transaction_id
        )
        return self._run(request, claim, known_run_id=known_run_id)

    def _run(
        self, request: JobRequest, claim: StoredRecord, *, known_run_id: str | None
    ) -> GateResult:
        arguments = request.glue_arguments()
        run_id = (
            known_run_id if known_run_id is not None else self._start(request, claim, arguments)
        )
        started = JobStarted(
            transaction_id=request.transaction_id,
            job_name=request.job_name,
            job_run_id=run_id,
            arguments=arguments,
            started_at=self._clock(),
            recovered=known_run_id is not None,
        )
        try:
            self._publisher.started(
                started, correlation_id=request.correlation_id, traceparent=request.traceparent
            )
        except PublishFailedError:
            # Keep the run id so the retry publishes it without a lookup, and let it retry now.
            self._release(claim, job_run_id=run_id)
            raise
        completed = self._complete(claim, run_id)
        outcome = Outcome.RECOVERED if started.recovered else Outcome.STARTED
        notes = () if completed else ("claim taken over before completion",)
        return GateResult(outcome, job_run_id=run_id, notes=notes)

    def _start(self, request: JobRequest, claim: StoredRecord, arguments: dict[str, str]) -> str:
        if self._clock() + self._config.start_margin >= claim.record.claim_expires_at:
            raise ClaimLostError(request.transaction_id)
        try:
            return self._runner.start(request.job_name, arguments)
        except (StartThrottledError, JobNotFoundError):
            # Glue said no: the run did not start, so the next delivery need not wait.
            self._release(claim, job_run_id=None)
            raise

    def _release(self, claim: StoredRecord, *, job_run_id: str | None) -> None:
        released = claim.record.released(now=self._clock(), job_run_id=job_run_id)
        # Best effort: if this write fails the claim still expires on its own, and the
        # takeover then looks the run up by its --transaction_id.
        with contextlib.suppress(StaleRecordError, StoreUnavailableError):
            self._store.replace(released, etag=claim.etag)

    def _complete(self, claim: StoredRecord, run_id: str) -> bool:
        try:
            self._store.replace(
                claim.record.completed(job_run_id=run_id, now=self._clock()), etag=claim.etag
            )
        except StaleRecordError:
            # Our claim expired and another attempt took over; it finds this run by its
            # --transaction_id and completes the record itself.
            return False
        return True

    def _reject(
        self,
        request: JobRequest,
        reason: RejectionReason,
        detail: str,
        *,
        existing_job_run_id: str | None = None,
    ) -> GateResult:
        event = JobRejected(
            transaction_id=request.transaction_id,
            job_name=request.job_name,
            reason=reason,
            detail=detail,
            rejected_at=self._clock(),
            existing_job_run_id=existing_job_run_id,
        )
        self._publisher.rejected(
            event, correlation_id=request.correlation_id, traceparent=request.traceparent
        )
        return GateResult(Outcome.REJECTED, job_run_id=existing_job_run_id, reason=reason)
