"""Idempotency records as S3 objects, moved only by conditional writes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import TypeAdapter

from ingest_gate.domain import (
    AlreadyClaimedError,
    IdempotencyRecord,
    StaleRecordError,
    StoredRecord,
    StoreUnavailableError,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_RECORD = TypeAdapter(IdempotencyRecord)
# 412: the precondition did not hold. 409: another conditional write to the key is in flight.
_CONFLICT_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"})


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3IdempotencyStore:
    def __init__(self, *, bucket: str, prefix: str, client: S3Client | None = None) -> None:
        self._bucket = bucket
        self._prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self._client: S3Client = client or boto3.client("s3")

    def key(self, transaction_id: str) -> str:
        return f"{self._prefix}{transaction_id}.json"

    def claim(self, record: IdempotencyRecord) -> StoredRecord:
        try:
            etag = self._put(record, IfNoneMatch="*")
        except ClientError as exc:
            if _code(exc) in _CONFLICT_CODES:
                raise AlreadyClaimedError(record.transaction_id) from exc
            raise StoreUnavailableError(_code(exc)) from exc
        except BotoCoreError as exc:
            raise StoreUnavailableError(type(exc).__name__) from exc
        return StoredRecord(record, etag)

    def replace(self, record: IdempotencyRecord, *, etag: str) -> StoredRecord:
        try:
            new_etag = self._put(record, IfMatch=etag)
        except ClientError as exc:
            if _code(exc) in _CONFLICT_CODES:
                raise StaleRecordError(record.transaction_id) from exc
            raise StoreUnavailableError(_code(exc)) from exc
        except BotoCoreError as exc:
            raise StoreUnavailableError(type(exc).__name__) from exc
        return StoredRecord(record, new_etag)

    def get(self, transaction_id: str) -> StoredRecord | None:
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=self.key(transaction_id))
            body = response["Body"].read()
        except ClientError as exc:
            if _code(exc) in {"NoSuchKey", "404"}:
                return None
            raise StoreUnavailableError(_code(exc)) from exc
        except BotoCoreError as exc:
            raise StoreUnavailableError(type(exc).__name__) from exc
        return StoredRecord(_RECORD.validate_json(body), response["ETag"])

    def _put(self, record: IdempotencyRecord, **condition: Any) -> str:
        response = self._client.put_object(
            Bucket=self._bucket,
            Key=self.key(record.transaction_id),
            Body=_RECORD.dump_json(record),
            ContentType="application/json",
            **condition,
        )
        return response["ETag"]
