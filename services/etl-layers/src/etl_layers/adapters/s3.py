"""S3 object store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from etl_layers.ports import ListedObject, ObjectChangedError, StorageError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CHUNK_BYTES = 1024 * 1024
# 412: the condition did not hold; 409: a concurrent conditional write to the same key won.
LOST_RACE = ("PreconditionFailed", "412", "ConditionalRequestConflict", "409", "NoSuchKey")
# Few, modest parts: upload memory stays small whatever the file size.
TRANSFER = TransferConfig(multipart_threshold=64 * 1024 * 1024, max_concurrency=2)


class S3ObjectStore:
    def __init__(self, client: S3Client | None = None) -> None:
        self._s3: S3Client = client or boto3.client("s3")

    def download(
        self, bucket: str, key: str, dest: Path, *, etag: str | None, version_id: str | None
    ) -> None:
        """Stream the object to `dest` in 1 MB chunks, pinned to the event's version or ETag."""
        kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        elif etag:
            kwargs["IfMatch"] = f'"{etag}"'
        try:
            response = self._s3.get_object(**kwargs)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with dest.open("wb") as handle:
                for chunk in response["Body"].iter_chunks(CHUNK_BYTES):
                    handle.write(chunk)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("PreconditionFailed", "412", "NoSuchKey", "NoSuchVersion"):
                raise ObjectChangedError(f"s3://{bucket}/{key}: {code}") from exc
            raise StorageError(f"get s3://{bucket}/{key}: {code}") from exc
        except (BotoCoreError, Boto3Error) as exc:
            raise StorageError(f"get s3://{bucket}/{key}") from exc

    def upload(self, path: Path, bucket: str, key: str) -> None:
        try:
            self._s3.upload_file(str(path), bucket, key, Config=TRANSFER)
        except (ClientError, BotoCoreError, Boto3Error) as exc:
            raise StorageError(f"put s3://{bucket}/{key}") from exc

    def put_json(self, bucket: str, key: str, body: dict[str, Any]) -> None:
        data = json.dumps(body, sort_keys=True, default=str).encode()
        try:
            self._s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/json")
        except (ClientError, BotoCoreError, Boto3Error) as exc:
            raise StorageError(f"put s3://{bucket}/{key}") from exc

    def copy(
        self,
        src_bucket: str,
        src_key: str,
        dest_bucket: str,
        dest_key: str,
        *,
        version_id: str | None,
    ) -> None:
        source: dict[str, str] = {"Bucket": src_bucket, "Key": src_key}
        if version_id:
            source["VersionId"] = version_id
        try:
            self._s3.copy(source, dest_bucket, dest_key, Config=TRANSFER)  # type: ignore[arg-type]
        except (ClientError, BotoCoreError, Boto3Error) as exc:
            raise StorageError(f"copy s3://{src_bucket}/{src_key}") from exc

    def exists(self, bucket: str, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StorageError(f"head s3://{bucket}/{key}") from exc
        except (BotoCoreError, Boto3Error) as exc:
            raise StorageError(f"head s3://{bucket}/{key}") from exc
        return True

    def create_json(self, bucket: str, key: str, body: dict[str, Any]) -> bool:
        return self._put_if(bucket, key, body, IfNoneMatch="*")

    def replace_json(self, bucket: str, key: str, body: dict[str, Any], etag: str) -> bool:
        return self._put_if(bucket, key, body, IfMatch=f'"{etag}"')

    def _put_if(self, bucket: str, key: str, body: dict[str, Any], **condition: Any) -> bool:
        data = json.dumps(body, sort_keys=True).encode()
        try:
            self._s3.put_object(
                Bucket=bucket, Key=key, Body=data, ContentType="application/json", **condition
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in LOST_RACE:
                return False
            raise StorageError(f"conditional put s3://{bucket}/{key}") from exc
        except (BotoCoreError, Boto3Error) as exc:
            raise StorageError(f"conditional put s3://{bucket}/{key}") from exc
        return True

    def read_json(self, bucket: str, key: str) -> tuple[dict[str, Any], str] | None:
        try:
            response = self._s3.get_object(Bucket=bucket, Key=key)
            data = response["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise StorageError(f"get s3://{bucket}/{key}") from exc
        except (BotoCoreError, Boto3Error) as exc:
            raise StorageError(f"get s3://{bucket}/{key}") from exc
        try:
            body = json.loads(data)
        except ValueError:  # not ours to read; the caller decides what an empty body means
            body = {}
        return (body if isinstance(body, dict) else {}), response["ETag"].strip('"')

    def delete(self, bucket: str, key: str) -> None:
        try:
            self._s3.delete_object(Bucket=bucket, Key=key)
        except (ClientError, BotoCoreError, Boto3Error) as exc:
            raise StorageError(f"delete s3://{bucket}/{key}") from exc

    def list_keys(self, bucket: str, prefix: str) -> list[str]:
        return [listed.key for listed in self.list_objects(bucket, prefix)]

    def list_objects(self, bucket: str, prefix: str) -> list[ListedObject]:
        listed: list[ListedObject] = []
        try:
            for page in self._s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix
            ):
                listed.extend(
                    ListedObject(item["Key"], item["ETag"].strip('"'), item["Size"])
                    for item in page.get("Contents", [])
                )
        except (ClientError, BotoCoreError, Boto3Error) as exc:
            raise StorageError(f"list s3://{bucket}/{prefix}") from exc
        return listed
