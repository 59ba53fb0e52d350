"""Every branch of the claim/complete state machine, with in-memory fakes."""

from __future__ import annotations

import threading

import pytest
from ingest_gate.domain import (
    ClaimHeldError,
    ClaimLostError,
    GlueUnavailableError,
    JobNotFoundError,
    JobRequest,
    Outcome,
    PublishFailedError,
    RecordState,
    RejectionReason,
    RetryLaterError,
    StartThrottledError,
)
from ingest_gate_fakes import JOB, SimulatedCrash, World, make_request

CLAIM_TTL = 120


def test_new_request_starts_one_run_and_completes_the_record(world: World) -> None:
    result = world.gate().handle(make_request("tx-1", arguments={"dataset": "sales"}))

    assert result.outcome is Outcome.STARTED
    assert world.glue.runs == [
        (JOB, {"--dataset": "sales", "--transaction_id": "tx-1"}, result.job_run_id)
    ]
    record = world.store.record("tx-1")
    assert record.state is RecordState.COMPLETED
    assert record.job_run_id == result.job_run_id
    [(event, correlation_id)] = world.publisher.started_events
    assert (event.transaction_id, event.job_run_id, event.recovered) == (
        "tx-1",
        result.job_run_id,
        False,
    )
    assert event.arguments == {"--dataset": "sales", "--transaction_id": "tx-1"}
    assert correlation_id == "corr-1"


def test_duplicate_of_a_completed_request_starts_nothing(world: World) -> None:
    first = world.gate().handle(make_request("tx-1"))
    again = world.gate().handle(make_request("tx-1", correlation_id="corr-2"))

    assert again.outcome is Outcome.DUPLICATE
    assert again.job_run_id == first.job_run_id
    assert len(world.glue.runs) == 1
    assert len(world.publisher.started_events) == 1


def test_same_payload_from_another_producer_or_time_is_a_duplicate(world: World) -> None:
    world.gate().handle(make_request("tx-1", requested_by="airflow"))
    again = world.gate().handle(make_request("tx-1", requested_by="a-person"))

    assert again.outcome is Outcome.DUPLICATE
    assert len(world.glue.runs) == 1


def test_unknown_job_is_rejected_and_leaves_no_record(world: World) -> None:
    result = world.gate().handle(make_request("tx-1", job_name="drop-everything"))

    assert (result.outcome, result.reason) == (Outcome.REJECTED, RejectionReason.UNKNOWN_JOB)
    assert world.glue.runs == []
    assert world.store.records == {}
    [(event, correlation_id)] = world.publisher.rejected_events
    assert (event.reason, event.job_name, correlation_id) == (
        RejectionReason.UNKNOWN_JOB,
        "drop-everything",
        "corr-1",
    )


@pytest.mark.parametrize(
    "conflicting",
    [
        make_request("tx-1", arguments={"dataset": "other"}),
        make_request("tx-1", arguments={}),
        make_request("tx-1", job_name="other-job"),
    ],
)
def test_same_id_with_another_payload_is_rejected_never_run(
    world: World, conflicting: JobRequest
) -> None:
    first = world.gate().handle(make_request("tx-1"))

    result = world.gate().handle(conflicting)

    assert (result.outcome, result.reason) == (
        Outcome.REJECTED,
        RejectionReason.CONFLICTING_PAYLOAD,
    )
    assert len(world.glue.runs) == 1
    [(event, _)] = world.publisher.rejected_events
    assert event.existing_job_run_id == first.job_run_id
    assert world.store.record("tx-1").state is RecordState.COMPLETED


def test_conflict_is_rejected_even_while_the_first_is_in_progress(world: World) -> None:
    world.glue.fail_with.append(SimulatedCrash("before StartJobRun"))
    with pytest.raises(SimulatedCrash):
        world.gate().handle(make_request("tx-1"))

    result = world.gate().handle(make_request("tx-1", arguments={"dataset": "other"}))

    assert result.reason is RejectionReason.CONFLICTING_PAYLOAD
    assert world.glue.runs == []


def test_live_claim_of_another_attempt_fails_the_record_for_a_retry(world: World) -> None:
    world.glue.fail_with.append(SimulatedCrash("holder still working"))
    with pytest.raises(SimulatedCrash):
        world.gate().handle(make_request("tx-1"))

    world.clock.advance(CLAIM_TTL - 1)
    with pytest.raises(ClaimHeldError) as raised:
        world.gate().handle(make_request("tx-1"))

    assert isinstance(raised.value, RetryLaterError)
    assert world.glue.runs == []
    assert world.publisher.started_events == []


def test_crash_between_claim_and_start_is_taken_over_after_the_claim_expires(world: World) -> None:
    world.glue.fail_with.append(SimulatedCrash("between claim and StartJobRun"))
    with pytest.raises(SimulatedCrash):
        world.gate().handle(make_request("tx-1"))
    assert world.store.record("tx-1").state is RecordState.IN_PROGRESS

    world.clock.advance(CLAIM_TTL)
    result = world.gate().handle(make_request("tx-1", correlation_id="corr-retry"))

    assert result.outcome is Outcome.STARTED
    assert world.glue.lookups == 1  # looked for a run before starting one
    assert world.glue.runs_for("tx-1") == [result.job_run_id]
    record = world.store.record("tx-1")
    assert (record.state, record.job_run_id, record.attempt) == (
        RecordState.COMPLETED,
        result.job_run_id,
        2,
    )


def test_crash_between_start_and_completion_adopts_the_run_instead_of_a_second(
    world: World,
) -> None:
    world.glue.crash_after_start = True
    with pytest.raises(SimulatedCrash):
        world.gate().handle(make_request("tx-1"))
    [first_run] = world.glue.runs_for("tx-1")
    assert world.store.record("tx-1").state is RecordState.IN_PROGRESS  # never COMPLETED blind

    world.clock.advance(CLAIM_TTL)
    result = world.gate().handle(make_request("tx-1"))

    assert (result.outcome, result.job_run_id) == (Outcome.RECOVERED, first_run)
    assert world.glue.runs_for("tx-1") == [first_run]
    assert world.store.record("tx-1").job_run_id == first_run
    [(event, _)] = world.publisher.started_events
    assert (event.job_run_id, event.recovered) == (first_run, True)


def test_crash_after_publishing_before_completion_publishes_again_but_runs_once(
    world: World,
) -> None:
    def crash_on_completion(record: object) -> None:
        if getattr(record, "state", None) is RecordState.COMPLETED:
            world.store.before_replace = None
            raise SimulatedCrash("between publish and the COMPLETED write")

    world.store.before_replace = crash_on_completion
    with pytest.raises(SimulatedCrash):
        world.gate().handle(make_request("tx-1"))

    world.clock.advance(CLAIM_TTL)
    result = world.gate().handle(make_request("tx-1"))

    assert result.outcome is Outcome.RECOVERED
    assert len(world.glue.runs) == 1
    # At least once: the started event is never lost, and may repeat for the same run.
    assert [e.job_run_id for e, _ in world.publisher.started_events] == [result.job_run_id] * 2
    assert world.store.record("tx-1").state is RecordState.COMPLETED


def test_duplicate_after_a_crash_and_recovery_is_a_plain_duplicate(world: World) -> None:
    world.glue.crash_after_start = True
    with pytest.raises(SimulatedCrash):
        world.gate().handle(make_request("tx-1"))
    world.clock.advance(CLAIM_TTL)
    world.gate().handle(make_request("tx-1"))

    again = world.gate().handle(make_request("tx-1"))

    assert again.outcome is Outcome.DUPLICATE
    assert len(world.glue.runs) == 1


@pytest.mark.parametrize(
    "refusal", [StartThrottledError("ThrottlingException"), JobNotFoundError(JOB)]
)
def test_glue_refusal_fails_the_record_releases_the_claim_and_completes_nothing(
    world: World, refusal: Exception
) -> None:
    world.glue.fail_with.append(refusal)
    with pytest.raises(type(refusal)):
        world.gate().handle(make_request("tx-1"))

    record = world.store.record("tx-1")
    assert (record.state, record.job_run_id) == (RecordState.IN_PROGRESS, None)
    assert record.claim_expired(world.clock.now)  # the retry need not wait for the claim
    assert world.publisher.started_events == []

    result = world.gate().handle(make_request("tx-1"))  # redelivered, Glue accepts now

    assert result.outcome is Outcome.STARTED
    assert len(world.glue.runs) == 1


def test_throttling_is_retryable(world: World) -> None:
    world.glue.fail_with.append(StartThrottledError("ConcurrentRunsExceededException"))
    with pytest.raises(RetryLaterError):
        world.gate().handle(make_request("tx-1"))


def test_ambiguous_glue_failure_keeps_the_claim_so_the_run_is_looked_up_later(
    world: World,
) -> None:
    world.glue.fail_with.append(GlueUnavailableError("ReadTimeoutError"))
    with pytest.raises(GlueUnavailableError):
        world.gate().handle(make_request("tx-1"))
    with pytest.raises(ClaimHeldError):
        world.gate().handle(make_request("tx-1"))

    world.clock.advance(CLAIM_TTL)
    result = world.gate().handle(make_request("tx-1"))

    assert result.outcome is Outcome.STARTED
    assert world.glue.lookups == 1


def test_publish_failure_keeps_the_run_id_so_the_retry_adopts_it(world: World) -> None:
    world.publisher.fail_with.append(PublishFailedError("InternalError"))
    with pytest.raises(PublishFailedError):
        world.gate().handle(make_request("tx-1"))
    [run] = world.glue.runs_for("tx-1")
    record = world.store.record("tx-1")
    assert (record.state, record.job_run_id) == (RecordState.IN_PROGRESS, run)

    result = world.gate().handle(make_request("tx-1"))  # no wait: the claim was released

    assert (result.outcome, result.job_run_id) == (Outcome.RECOVERED, run)
    assert world.glue.lookups == 0
    assert len(world.glue.runs) == 1
    assert world.store.record("tx-1").state is RecordState.COMPLETED


def test_no_start_when_the_claim_ran_out_before_glue_was_called(world: World) -> None:
    world.store.after_claim = lambda _record: world.clock.advance(CLAIM_TTL - 5)  # slow write

    with pytest.raises(ClaimLostError):
        world.gate().handle(make_request("tx-1"))

    assert world.glue.runs == []


def test_completion_after_a_takeover_still_reports_the_started_run(world: World) -> None:
    def taken_over(record: object) -> None:
        if getattr(record, "state", None) is RecordState.COMPLETED:
            world.store.before_replace = None
            stored = world.store.get("tx-1")
            assert stored is not None
            world.store.replace(stored.record, etag=stored.etag)  # another attempt's write

    world.store.before_replace = taken_over
    result = world.gate().handle(make_request("tx-1"))

    assert result.outcome is Outcome.STARTED
    assert result.notes == ("claim taken over before completion",)
    assert len(world.publisher.started_events) == 1


def test_two_takers_of_an_expired_claim_start_one_run(world: World) -> None:
    world.glue.fail_with.append(SimulatedCrash("holder died"))
    with pytest.raises(SimulatedCrash):
        world.gate().handle(make_request("tx-1"))
    world.clock.advance(CLAIM_TTL)
    stale = world.store.get("tx-1")
    assert stale is not None

    world.gate().handle(make_request("tx-1"))  # the first taker wins and completes
    # The second taker read the expired claim before the first one's write.
    second = world.gate()
    with pytest.raises(ClaimHeldError):
        second._take_over(make_request("tx-1"), stale, world.clock.now)

    assert len(world.glue.runs) == 1


def test_concurrent_duplicates_start_exactly_one_run(world: World) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(16)

    def deliver() -> None:
        barrier.wait()
        try:
            outcomes.append(world.gate().handle(make_request("tx-1")).outcome.value)
        except ClaimHeldError:
            outcomes.append("RETRY")

    threads = [threading.Thread(target=deliver) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("STARTED") == 1
    assert set(outcomes) <= {"STARTED", "DUPLICATE", "RETRY"}
    # SQS delivers the deferred ones again: all are duplicates now.
    retried = [world.gate().handle(make_request("tx-1")) for _ in range(outcomes.count("RETRY"))]
    assert all(r.outcome is Outcome.DUPLICATE for r in retried)
    assert len(world.glue.runs) == 1
    assert len(world.publisher.started_events) == 1
