"""The S3 idempotency store against moto: conditional writes do what the gate relies on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from ingest_gate.adapters.s3_store import S3IdempotencyStore
from ingest_gate.domain import (
    AlreadyClaimedError,
    IdempotencyRecord,
    RecordState,
    StaleRecordError,
    StoreUnavailableError,
)
from moto import mock_aws

BUCKET = "rocket-test-ingest-gate-idempotency"
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        serialize_put_object(client)
        yield client


def serialize_put_object(client: Any) -> None:
    """In-process moto checks If-None-Match / If-Match and then writes, with no lock between, so
    two racing claims can both win; real S3 decides each conditional PutObject atomically. One
    PutObject at a time (botocore emits after-call before it raises a 412) keeps the race tests
    about the store, not about moto."""
    lock = threading.Lock()

    def acquire(**_: Any) -> None:
        lock.acquire()

    def release(**_: Any) -> None:
        lock.release()

    client.meta.events.register("before-call.s3.PutObject", acquire)
    client.meta.events.register("after-call.s3.PutObject", release)


def record(transaction_id: str = "tx-1", *, correlation_id: str = "c-1") -> IdempotencyRecord:
    return IdempotencyRecord(
        transaction_id=transaction_id,
        state=RecordState.IN_PROGRESS,
        request_hash="ab" * 32,
        job_name="job",
        claim_expires_at=NOW + timedelta(seconds=120),
        attempt=1,
        correlation_id=correlation_id,
        updated_at=NOW,
    )


def test_claim_writes_the_record_under_the_prefix_and_reads_back(s3: Any) -> None:
    store = S3IdempotencyStore(bucket=BUCKET, prefix="idempotency", client=s3)

    claimed = store.claim(record("tx:2026-11-22.1"))
    read = store.get("tx:2026-11-22.1")

    assert read == claimed
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == ["idempotency/tx:2026-11-22.1.json"]


def test_missing_record_reads_as_none(s3: Any) -> None:
    assert S3IdempotencyStore(bucket=BUCKET, prefix="idempotency/", client=s3).get("nope") is None


def test_second_claim_of_the_same_id_fails(s3: Any) -> None:
    store = S3IdempotencyStore(bucket=BUCKET, prefix="idempotency/", client=s3)
    store.claim(record())

    with pytest.raises(AlreadyClaimedError):
        store.claim(record(correlation_id="c-2"))
    stored = store.get("tx-1")
    assert stored is not None
    assert stored.record.correlation_id == "c-1"


def test_replace_moves_state_only_from_the_etag_it_read(s3: Any) -> None:
    store = S3IdempotencyStore(bucket=BUCKET, prefix="idempotency/", client=s3)
    claimed = store.claim(record())

    completed = store.replace(
        claimed.record.completed(job_run_id="jr_1", now=NOW), etag=claimed.etag
    )
    with pytest.raises(StaleRecordError):  # a writer holding the old ETag loses
        store.replace(replace(claimed.record, attempt=2), etag=claimed.etag)

    stored = store.get("tx-1")
    assert stored == completed
    assert stored is not None
    assert (stored.record.state, stored.record.job_run_id) == (RecordState.COMPLETED, "jr_1")


def test_replace_of_a_missing_record_is_stale(s3: Any) -> None:
    store = S3IdempotencyStore(bucket=BUCKET, prefix="idempotency/", client=s3)
    with pytest.raises(StaleRecordError):
        store.replace(record(), etag='"0123"')


def test_missing_bucket_is_a_store_failure_not_a_claim_result(s3: Any) -> None:
    store = S3IdempotencyStore(bucket="no-such-bucket", prefix="idempotency/", client=s3)
    with pytest.raises(StoreUnavailableError):
        store.claim(record())
    with pytest.raises(StoreUnavailableError):
        store.get("tx-1")


@pytest.mark.parametrize("trial", range(10))
def test_two_threads_claiming_the_same_id_exactly_one_wins(s3: Any, trial: int) -> None:
    store = S3IdempotencyStore(bucket=BUCKET, prefix="idempotency/", client=s3)
    barrier = threading.Barrier(2)
    winners: list[str] = []
    losers: list[str] = []

    def claim(name: str) -> None:
        barrier.wait()
        try:
            store.claim(record(f"tx-race-{trial}", correlation_id=name))
            winners.append(name)
        except AlreadyClaimedError:
            losers.append(name)

    threads = [threading.Thread(target=claim, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(winners) == 1
    assert len(losers) == 1
    stored = store.get(f"tx-race-{trial}")
    assert stored is not None
    assert stored.record.correlation_id == winners[0]


def test_sixteen_concurrent_claims_one_winner(s3: Any) -> None:
    store = S3IdempotencyStore(bucket=BUCKET, prefix="idempotency/", client=s3)
    barrier = threading.Barrier(16)
    won: list[int] = []

    def claim(n: int) -> None:
        barrier.wait()
        try:
            store.claim(record("tx-herd", correlation_id=str(n)))
            won.append(n)
        except AlreadyClaimedError:
            pass

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(won) == 1
