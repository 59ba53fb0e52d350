"""The Glue Data Catalog: one table per domain, partitioned by `dt`, Parquet files."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import boto3
from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError

from compactor.ports import CatalogError
from compactor.schema import Column

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient

PARTITION_KEY = "dt"


def _storage(columns: Sequence[Column], location: str) -> dict[str, Any]:
    return {
        "Columns": [{"Name": c.name, "Type": c.type} for c in columns],
        "Location": location,
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {
            "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
        },
        "Compressed": True,
    }


def _is(exc: ClientError, code: str) -> bool:
    return exc.response.get("Error", {}).get("Code") == code


class GlueCatalog:
    def __init__(self, client: GlueClient | None = None) -> None:
        self._glue: GlueClient = client or boto3.client("glue")

    def table_columns(self, database: str, table: str) -> list[Column] | None:
        try:
            found = self._glue.get_table(DatabaseName=database, Name=table)["Table"]
        except ClientError as exc:
            if _is(exc, "EntityNotFoundException"):
                return None
            raise CatalogError(f"get table {database}.{table}") from exc
        except (BotoCoreError, Boto3Error) as exc:
            raise CatalogError(f"get table {database}.{table}") from exc
        columns = found.get("StorageDescriptor", {}).get("Columns", [])
        return [Column(c["Name"], c.get("Type", "string")) for c in columns]

    def put_table(
        self, database: str, table: str, columns: Sequence[Column], location: str
    ) -> None:
        table_input: Any = {
            "Name": table,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"classification": "parquet", "parquet.compression": "ZSTD"},
            "PartitionKeys": [{"Name": PARTITION_KEY, "Type": "string"}],
            "StorageDescriptor": _storage(columns, location),
        }
        try:
            try:
                self._glue.create_table(DatabaseName=database, TableInput=table_input)
            except ClientError as exc:
                if not _is(exc, "AlreadyExistsException"):
                    raise
                self._glue.update_table(DatabaseName=database, TableInput=table_input)
        except (ClientError, BotoCoreError, Boto3Error) as exc:
            raise CatalogError(f"put table {database}.{table}") from exc

    def put_partition(
        self, database: str, table: str, day: str, columns: Sequence[Column], location: str
    ) -> None:
        partition: Any = {"Values": [day], "StorageDescriptor": _storage(columns, location)}
        try:
            try:
                self._glue.create_partition(
                    DatabaseName=database, TableName=table, PartitionInput=partition
                )
            except ClientError as exc:
                if not _is(exc, "AlreadyExistsException"):
                    raise
                self._glue.update_partition(
                    DatabaseName=database,
                    TableName=table,
                    PartitionValueList=[day],
                    PartitionInput=partition,
                )
        except (ClientError, BotoCoreError, Boto3Error) as exc:
            raise CatalogError(f"put partition {database}.{table} dt={day}") from exc
