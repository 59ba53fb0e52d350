"""The content bucket: snapshots (content-addressed, stored once), quarantined records and
parked messages. Versioning keeps every overwrite of a key."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from asset_events.domain import Quarantined, StoreUnavailableError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Another writer stored the same key first (IfNoneMatch): the same bytes, by construction.
_ALREADY_STORED = {"PreconditionFailed", "ConditionalRequestConflict", "412"}


class S3ContentStore:
    def __init__(self, *, bucket: str, client: S3Client | None = None) -> None:
        self._bucket = bucket
        self._client: S3Client = client or boto3.client("s3")

    def _uri(self, key: str) -> str:
        return f"s3://{self._bucket}/{key}"

    def put_content(self, asset_id: str, content_hash: str, content: bytes) -> str:
        key = f"assets/{asset_id}/{content_hash}.json"
        try:
            self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=content,
                ContentType="application/json",
                IfNoneMatch="*",
            )
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) not in _ALREADY_STORED:
                raise StoreUnavailableError(str(exc.response.get("Error", {}).get("Code"))) from exc
        except BotoCoreError as exc:
            raise StoreUnavailableError(type(exc).__name__) from exc
        return self._uri(key)

    def _put(self, key: str, body: bytes) -> str:
        try:
            self._client.put_object(
                Bucket=self._bucket, Key=key, Body=body, ContentType="application/json"
            )
        except ClientError as exc:
            raise StoreUnavailableError(str(exc.response.get("Error", {}).get("Code"))) from exc
        except BotoCoreError as exc:
            raise StoreUnavailableError(type(exc).__name__) from exc
        return self._uri(key)

    def quarantine(self, item: Quarantined) -> str:
        document = {
            "reason": item.reason,
            "errors": list(item.errors),
            "detail": item.detail,
            "data": item.body.decode("utf-8", "replace"),
        }
        body = json.dumps(document, sort_keys=True, indent=2).encode("utf-8")
        return self._put(f"quarantine/{item.key}.json", body)

    def keep_withheld(self, agent: str, run_id: str, document: bytes) -> str:
        return self._put(f"withheld/{agent}/{run_id}.json", document)

    def park(self, key: str, document: bytes) -> str:
        return self._put(key, document)
