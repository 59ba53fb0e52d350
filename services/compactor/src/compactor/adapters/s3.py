"""The landing and lake buckets through boto3; every SDK error becomes a StorageError."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from compactor.planning import LandingObject
from compactor.ports import ObjectChangedError, StorageError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# 412: the condition did not hold; 409: a concurrent conditional write to the same key won.
_LOST_RACE = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
# Parquet files go up in 16 MB parts, four at a time: bounded memory whatever the range size.
_TRANSFER = TransferConfig(
    multipart_threshold=16 * 1024 * 1024, multipart_chunksize=16 * 1024 * 1024, max_concurrency=4
)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def _calling(what: str, on_client_error: Callable[[str], None] | None = None) -> Iterator[None]:
    """Run an SDK call; its errors leave as StorageError naming `what`. `on_client_error` sees
    the error code first and may raise something more precise."""
    try:
        yield
    except ClientError as exc:
        if on_client_error is not None:
            on_client_error(_code(exc))
        raise StorageError(f"{what}: {_code(exc)}") from exc
    except (BotoCoreError, Boto3Error) as exc:
        raise StorageError(what) from exc


class _AnsweredNoError(Exception):
    """S3 said no in a way that is an answer, not a failure: no such key, or a conditional
    write whose condition did not hold."""


def _missing(code: str) -> None:
    if code in _MISSING:
        raise _AnsweredNoError


def _lost(code: str) -> None:
    if code in _LOST_RACE:
        raise _AnsweredNoError


class S3ObjectStore:
    def __init__(self, client: S3Client | None = None, *, pool_size: int = 64) -> None:
        # One connection per concurrent GET of a range; botocore's default pool holds 10.
        self._s3: S3Client = client or boto3.client(
            "s3", config=Config(max_pool_connections=pool_size, retries={"mode": "standard"})
        )

    def list_objects(self, bucket: str, prefix: str) -> Iterator[LandingObject]:
        with _calling(f"list s3://{bucket}/{prefix}"):
            pages = self._s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": 1000}
            )
            for page in pages:
                for item in page.get("Contents", []):
                    yield LandingObject(
                        item["Key"], item["Size"], item["ETag"].strip('"'), item["LastModified"]
                    )

    def get_bytes(self, bucket: str, key: str, *, etag: str | None = None) -> bytes:
        kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if etag:
            kwargs["IfMatch"] = f'"{etag}"'

        def changed(code: str) -> None:
            if code in ("PreconditionFailed", "412", *_MISSING):
                raise ObjectChangedError(f"s3://{bucket}/{key} changed since it was planned")

        with _calling(f"get s3://{bucket}/{key}", changed):
            return self._s3.get_object(**kwargs)["Body"].read()
        raise AssertionError("unreachable")  # pragma: no cover - for the type checker

    def put_bytes(self, bucket: str, key: str, data: bytes) -> None:
        with _calling(f"put s3://{bucket}/{key}"):
            self._s3.put_object(Bucket=bucket, Key=key, Body=data)

    def upload(self, path: Path, bucket: str, key: str) -> None:
        with _calling(f"upload s3://{bucket}/{key}"):
            self._s3.upload_file(str(path), bucket, key, Config=_TRANSFER)

    def download(self, bucket: str, key: str, dest: Path) -> None:
        with _calling(f"download s3://{bucket}/{key}"):
            self._s3.download_file(bucket, key, str(dest), Config=_TRANSFER)

    def size_of(self, bucket: str, key: str) -> int | None:
        try:
            with _calling(f"head s3://{bucket}/{key}", _missing):
                return int(self._s3.head_object(Bucket=bucket, Key=key)["ContentLength"])
        except _AnsweredNoError:
            return None
        raise AssertionError("unreachable")  # pragma: no cover

    def delete(self, bucket: str, key: str) -> None:
        with _calling(f"delete s3://{bucket}/{key}"):
            self._s3.delete_object(Bucket=bucket, Key=key)

    def tag(self, bucket: str, key: str, tags: dict[str, str]) -> bool:
        # PutObjectTagging replaces the whole set: read it first so other tags are kept, and
        # a retry that finds the tags already there writes nothing.
        try:
            with _calling(f"get tags of s3://{bucket}/{key}", _missing):
                found = self._s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
        except _AnsweredNoError:
            return False
        current = {t["Key"]: t["Value"] for t in found}
        if all(current.get(k) == v for k, v in tags.items()):
            return False
        merged = {**current, **tags}
        try:
            with _calling(f"tag s3://{bucket}/{key}", _missing):
                self._s3.put_object_tagging(
                    Bucket=bucket,
                    Key=key,
                    Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in merged.items()]},
                )
        except _AnsweredNoError:
            return False
        return True

    def read_json(self, bucket: str, key: str) -> tuple[dict[str, Any], str] | None:
        try:
            with _calling(f"get s3://{bucket}/{key}", _missing):
                response = self._s3.get_object(Bucket=bucket, Key=key)
                data = response["Body"].read()
        except _AnsweredNoError:
            return None
        body = json.loads(data) if data else {}
        return (body if isinstance(body, dict) else {}), response["ETag"].strip('"')

    def put_json(self, bucket: str, key: str, body: dict[str, Any]) -> None:
        with _calling(f"put s3://{bucket}/{key}"):
            self._s3.put_object(
                Bucket=bucket, Key=key, Body=_encode(body), ContentType="application/json"
            )

    def create_json(self, bucket: str, key: str, body: dict[str, Any]) -> bool:
        return self._put_if(bucket, key, body, IfNoneMatch="*")

    def replace_json(self, bucket: str, key: str, body: dict[str, Any], etag: str) -> bool:
        return self._put_if(bucket, key, body, IfMatch=f'"{etag}"')

    def _put_if(self, bucket: str, key: str, body: dict[str, Any], **condition: str) -> bool:
        try:
            with _calling(f"conditional put s3://{bucket}/{key}", _lost):
                self._s3.put_object(
                    Bucket=bucket,
                    Key=key,
                    Body=_encode(body),
                    ContentType="application/json",
                    **condition,  # type: ignore[arg-type]
                )
        except _AnsweredNoError:
            return False
        return True


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
