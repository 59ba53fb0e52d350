"""Conditional S3 writes through the emulator's HTTP endpoint decide one winner, as S3 does.

moto checks `If-None-Match` / `If-Match` and then writes, in two steps, on several server
threads; the emulator serializes those per bucket+key (rocket_infra.conditional_writes).
"""

from __future__ import annotations

import os
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from rocket_infra.conditional_writes import KeyLocks
from rocket_infra.emulator import Emulator

WRITERS = 32
BODY_BYTES = 1024 * 1024  # large enough that moto's check-then-write window is wide
UNIT_TRIALS = 5


@pytest.fixture(scope="module")
def bucket(emulator_server: Emulator) -> str:
    name = f"cond-{uuid.uuid4().hex[:8]}"
    _client(emulator_server.endpoint_url).create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def clients(emulator_server: Emulator) -> list[Any]:
    """One client per writer, made once: building 32 clients per trial would dwarf the race."""
    return [_client(emulator_server.endpoint_url) for _ in range(WRITERS)]


@pytest.fixture(scope="module")
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(WRITERS) as executor:
        yield executor


def _client(url: str) -> Any:
    """No SDK retries: a 412 stays a 412 and each writer sends exactly one request."""
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}, max_pool_connections=2),
    )


def _status(call: Callable[[], Any]) -> int:
    try:
        call()
    except ClientError as exc:
        status: int = exc.response["ResponseMetadata"]["HTTPStatusCode"]
        return status
    return 200


def _race(
    pool: ThreadPoolExecutor, clients: list[Any], bucket: str, key: str, condition: dict[str, str]
) -> Counter[int]:
    """All writers released at once, each with a body of its own (so each write changes the
    ETag); the answers by status. The object must hold the one winner's body."""
    prefix = os.urandom(BODY_BYTES)
    bodies = [prefix + str(i).encode() for i in range(len(clients))]
    start = threading.Barrier(len(clients))

    def one(i: int) -> int:
        start.wait()
        return _status(
            lambda: clients[i].put_object(Bucket=bucket, Key=key, Body=bodies[i], **condition)
        )

    statuses = list(pool.map(one, range(len(clients))))
    stored = clients[0].get_object(Bucket=bucket, Key=key)["Body"].read()
    assert [stored] == [bodies[i] for i, status in enumerate(statuses) if status == 200]
    return Counter(statuses)


def _create_only(
    pool: ThreadPoolExecutor, clients: list[Any], bucket: str, trials: int
) -> list[Counter[int]]:
    keys = [f"claims/{uuid.uuid4().hex}" for _ in range(trials)]
    return [_race(pool, clients, bucket, key, {"IfNoneMatch": "*"}) for key in keys]


def _compare_and_swap(
    pool: ThreadPoolExecutor, clients: list[Any], bucket: str, trials: int
) -> list[Counter[int]]:
    outcomes = []
    for _ in range(trials):
        key = f"pointers/{uuid.uuid4().hex}"
        etag = clients[0].put_object(Bucket=bucket, Key=key, Body=b"v0")["ETag"]
        outcomes.append(_race(pool, clients, bucket, key, {"IfMatch": etag}))
    return outcomes


ONE_WINNER = Counter({200: 1, 412: WRITERS - 1})


def test_create_only_writers_have_one_winner(
    pool: ThreadPoolExecutor, clients: list[Any], bucket: str
) -> None:
    assert _create_only(pool, clients, bucket, UNIT_TRIALS) == [ONE_WINNER] * UNIT_TRIALS


def test_compare_and_swap_writers_with_one_etag_have_one_winner(
    pool: ThreadPoolExecutor, clients: list[Any], bucket: str
) -> None:
    assert _compare_and_swap(pool, clients, bucket, UNIT_TRIALS) == [ONE_WINNER] * UNIT_TRIALS


def test_conditional_delete_with_a_stale_etag_keeps_the_new_object(
    clients: list[Any], bucket: str
) -> None:
    s3, key = clients[0], f"deletes/{uuid.uuid4().hex}"
    old = s3.put_object(Bucket=bucket, Key=key, Body=b"old")["ETag"]
    s3.put_object(Bucket=bucket, Key=key, Body=b"new")
    assert _status(lambda: s3.delete_object(Bucket=bucket, Key=key, IfMatch=old)) == 412
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"new"


def test_multipart_create_only_completions_have_one_winner(
    pool: ThreadPoolExecutor, clients: list[Any], bucket: str
) -> None:
    key = f"multipart/{uuid.uuid4().hex}"
    uploads = []
    for i, s3 in enumerate(clients[:8]):
        upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        part = s3.upload_part(
            Bucket=bucket, Key=key, UploadId=upload, PartNumber=1, Body=f"writer {i}".encode()
        )
        uploads.append((upload, part["ETag"]))
    start = threading.Barrier(len(uploads))

    def complete(i: int) -> int:
        upload, etag = uploads[i]
        start.wait()
        return _status(
            lambda: clients[i].complete_multipart_upload(
                Bucket=bucket,
                Key=key,
                UploadId=upload,
                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
                IfNoneMatch="*",
            )
        )

    statuses = list(pool.map(complete, range(len(uploads))))
    assert Counter(statuses) == Counter({200: 1, 412: len(uploads) - 1})
    winner = statuses.index(200)
    assert clients[0].get_object(Bucket=bucket, Key=key)["Body"].read() == (
        f"writer {winner}".encode()
    )


@pytest.mark.faults
@pytest.mark.parametrize("race", [_create_only, _compare_and_swap], ids=["create", "cas"])
def test_fifty_trials_each_have_one_winner(
    pool: ThreadPoolExecutor,
    clients: list[Any],
    bucket: str,
    race: Callable[[ThreadPoolExecutor, list[Any], str, int], list[Counter[int]]],
) -> None:
    assert race(pool, clients, bucket, 50) == [ONE_WINNER] * 50


def test_key_locks_are_dropped_once_no_one_holds_them() -> None:
    locks = KeyLocks()
    with locks.holding("bucket/a"), locks.holding("bucket/b"):
        assert len(locks) == 2
    assert len(locks) == 0
