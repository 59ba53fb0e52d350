"""What the pipeline needs from the outside world, as small protocols, and the errors they raise."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from rocket_contracts.models.etl.delivery_published_v1 import EtlDeliveryPublishedV1


class EtlError(Exception):
    """Base of the service's own errors."""


class StorageError(EtlError):
    """An object store call failed (retryable: the record is failed and redelivered)."""


class ObjectChangedError(StorageError):
    """The RAW object no longer has the ETag/version of the event (a newer write replaced it)."""


class PartitionBusyError(StorageError):
    """Another run held a partition's lock for the whole wait (retryable: redelivered later)."""


class CatalogError(EtlError):
    """A Glue catalog call failed."""


class PublishError(EtlError):
    """The event could not be put on the shared topic."""


@dataclass(frozen=True)
class PartitionSpec:
    """One catalog partition: its values in partition-key order and its s3:// location."""

    values: tuple[str, ...]
    location: str


@dataclass(frozen=True)
class ListedObject:
    key: str
    etag: str
    size: int


class ObjectStore(Protocol):
    def download(
        self, bucket: str, key: str, dest: Path, *, etag: str | None, version_id: str | None
    ) -> None: ...

    def upload(self, path: Path, bucket: str, key: str) -> None: ...

    def put_json(self, bucket: str, key: str, body: dict[str, Any]) -> None: ...

    def copy(
        self,
        src_bucket: str,
        src_key: str,
        dest_bucket: str,
        dest_key: str,
        *,
        version_id: str | None,
    ) -> None: ...

    def exists(self, bucket: str, key: str) -> bool: ...

    def create_json(self, bucket: str, key: str, body: dict[str, Any]) -> bool:
        """Write `body` only if `key` does not exist (If-None-Match: *); False if it does."""
        ...

    def replace_json(self, bucket: str, key: str, body: dict[str, Any], etag: str) -> bool:
        """Write `body` only if `key` still has `etag` (If-Match); False if it changed."""
        ...

    def read_json(self, bucket: str, key: str) -> tuple[dict[str, Any], str] | None:
        """The object's JSON body and ETag, or None if there is no such key."""
        ...

    def delete(self, bucket: str, key: str) -> None: ...

    def list_keys(self, bucket: str, prefix: str) -> list[str]: ...

    def list_objects(self, bucket: str, prefix: str) -> list[ListedObject]: ...


class Catalog(Protocol):
    def add_partitions(
        self, database: str, table: str, partitions: Sequence[PartitionSpec]
    ) -> None: ...


class Publisher(Protocol):
    def publish(
        self, event: EtlDeliveryPublishedV1, *, correlation_id: str, subject: str
    ) -> None: ...
