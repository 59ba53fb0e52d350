"""Glue Data Catalog: register partitions of the TRUSTED and DELIVERY tables."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import boto3
from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError

from etl_layers.ports import CatalogError, PartitionSpec

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient

BATCH = 100  # BatchCreatePartition accepts at most 100 partitions per call


class GlueCatalog:
    def __init__(self, client: GlueClient | None = None) -> None:
        self._glue: GlueClient = client or boto3.client("glue")

    def add_partitions(
        self, database: str, table: str, partitions: Sequence[PartitionSpec]
    ) -> None:
        """Create the partitions that do not exist yet (existing ones are left as they are)."""
        if not partitions:
            return
        try:
            descriptor = self._glue.get_table(DatabaseName=database, Name=table)["Table"].get(
                "StorageDescriptor", {}
            )
            for start in range(0, len(partitions), BATCH):
                inputs = [
                    _partition_input(descriptor, p) for p in partitions[start : start + BATCH]
                ]
                response = self._glue.batch_create_partition(
                    DatabaseName=database,
                    TableName=table,
                    PartitionInputList=inputs,  # type: ignore[arg-type]
                )
                failed = [
                    e
                    for e in response.get("Errors", [])
                    if e.get("ErrorDetail", {}).get("ErrorCode") != "AlreadyExistsException"
                ]
                if failed:
                    raise CatalogError(f"{database}.{table}: {failed[0].get('ErrorDetail')}")
        except (ClientError, BotoCoreError, Boto3Error) as exc:
            raise CatalogError(f"{database}.{table}: add partitions") from exc


def _partition_input(descriptor: Any, partition: PartitionSpec) -> dict[str, Any]:
    storage = copy.deepcopy(dict(descriptor))
    storage["Location"] = partition.location
    return {"Values": list(partition.values), "StorageDescriptor": storage}
