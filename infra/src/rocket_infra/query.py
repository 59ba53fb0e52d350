"""`rocket query "<SQL>"`: DuckDB over the running platform's lake, with Athena's table names.

Every table in the emulator's Glue catalog becomes a view ``<database>.<table>`` over its S3
location: Hive partitions read from the key layout, partition columns typed as the catalog
declares them, the catalog's columns and no others (as Athena shows a table). DuckDB's httpfs
extension would have to be downloaded at run time (no installable package matches the DuckDB
in use), so the objects are read with boto3 from the emulator into a scratch directory that
lives as long as the connection, and DuckDB's built-in Parquet/JSON/CSV readers read them there.
Tables that a service registers later work the same way, with no code of theirs.

A table may also answer to other names: the catalog parameter ``rocket.also_known_as`` lists
them (``database.table``, comma-separated). etl-layers uses it so the source document's Athena
queries, written against ``etl_pipeline.trusted_data``, run unchanged; ``--alias`` adds more
for one run.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from rocket_infra import table as text_table

FORMATS = ("table", "csv", "json")

_HIVE_TO_DUCKDB = {
    "string": "VARCHAR",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "integer": "INTEGER",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "binary": "BLOB",
}
_DECIMAL = re.compile(r"^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$")
ALSO_KNOWN_AS = "rocket.also_known_as"


class QueryError(ValueError):
    """A query that cannot run as asked; the message says why."""


def duckdb_type(hive_type: str) -> str:
    """The DuckDB type of a Glue/Hive column type; complex types are read as VARCHAR."""
    lowered = hive_type.strip().lower()
    decimal = _DECIMAL.match(lowered)
    if decimal:
        return f"DECIMAL({decimal[1]},{decimal[2]})"
    return _HIVE_TO_DUCKDB.get(lowered.split("(", 1)[0], "VARCHAR")


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class CatalogTable:
    """A Glue table as the query needs it."""

    database: str
    name: str
    location: str
    columns: tuple[tuple[str, str], ...]
    partition_keys: tuple[tuple[str, str], ...]
    file_format: str  # parquet, json or csv
    also_known_as: tuple[str, ...] = ()

    @property
    def bucket_and_prefix(self) -> tuple[str, str]:
        if not self.location.startswith("s3://"):
            raise QueryError(f"{self.database}.{self.name}: location {self.location} is not S3")
        bucket, _, prefix = self.location[len("s3://") :].partition("/")
        return bucket, prefix if not prefix or prefix.endswith("/") else prefix + "/"


def _file_format(table: Mapping[str, Any]) -> str:
    storage = table.get("StorageDescriptor", {})
    hints = " ".join(
        [
            str(table.get("Parameters", {}).get("classification", "")),
            str(storage.get("InputFormat", "")),
            str(storage.get("SerdeInfo", {}).get("SerializationLibrary", "")),
        ]
    ).lower()
    if "parquet" in hints:
        return "parquet"
    if "json" in hints:
        return "json"
    return "csv"


def _other_names(table: Mapping[str, Any]) -> tuple[str, ...]:
    declared = str(table.get("Parameters", {}).get(ALSO_KNOWN_AS, ""))
    names = tuple(name.strip() for name in declared.split(",") if name.strip())
    for name in names:
        if name.count(".") != 1:
            raise QueryError(f"{table['Name']}: {ALSO_KNOWN_AS} {name!r} is not DATABASE.TABLE")
    return names


def catalog_tables(glue: Any) -> list[CatalogTable]:
    """Every table of every database in the Glue catalog that has an S3 location."""
    found: list[CatalogTable] = []
    for page in glue.get_paginator("get_databases").paginate():
        for database in page["DatabaseList"]:
            tables = glue.get_paginator("get_tables").paginate(DatabaseName=database["Name"])
            for table_page in tables:
                for table in table_page["TableList"]:
                    storage = table.get("StorageDescriptor", {})
                    if not str(storage.get("Location", "")).startswith("s3://"):
                        continue
                    found.append(
                        CatalogTable(
                            database=database["Name"],
                            name=table["Name"],
                            location=storage["Location"],
                            columns=tuple((c["Name"], c["Type"]) for c in storage["Columns"]),
                            partition_keys=tuple(
                                (k["Name"], k["Type"]) for k in table.get("PartitionKeys", [])
                            ),
                            file_format=_file_format(table),
                            also_known_as=_other_names(table),
                        )
                    )
    return sorted(found, key=lambda t: (t.database, t.name))


def _hidden(relative_key: str) -> bool:
    # Athena skips objects whose name (or folder) starts with _ or . (manifests, locks, markers).
    return any(part.startswith(("_", ".")) for part in relative_key.split("/"))


def mirror(s3: Any, table: CatalogTable, into: Path) -> int:
    """Copy the table's data objects under ``into`` (same relative keys); how many."""
    bucket, prefix = table.bucket_and_prefix
    copied = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            relative = item["Key"][len(prefix) :]
            if not relative or relative.endswith("/") or _hidden(relative):
                continue
            target = into / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, item["Key"], str(target))
            copied += 1
    return copied


def _reader(table: CatalogTable, root: Path) -> str:
    files = literal(f"{root.as_posix()}/**/*")
    hive = "{" + ", ".join(f"{literal(n)}: {duckdb_type(t)}" for n, t in table.partition_keys) + "}"
    options = "hive_partitioning = true, union_by_name = true"
    if table.partition_keys:
        options += f", hive_types = {hive}"
    if table.file_format == "parquet":
        return f"read_parquet({files}, {options})"
    if table.file_format == "json":
        return f"read_json_auto({files}, {options})"
    return f"read_csv_auto({files}, {options})"


def _view_sql(con: duckdb.DuckDBPyConnection, table: CatalogTable, root: Path | None) -> str:
    declared = [*table.columns, *table.partition_keys]
    if root is None:  # no data yet: the declared shape, no rows
        columns = ", ".join(f"CAST(NULL AS {duckdb_type(t)}) AS {quoted(n)}" for n, t in declared)
        return f"SELECT {columns} WHERE false"
    source = _reader(table, root)
    present = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    columns = ", ".join(
        quoted(n) if n in present else f"CAST(NULL AS {duckdb_type(t)}) AS {quoted(n)}"
        for n, t in declared
    )
    return f"SELECT {columns} FROM {source}"


def create_view(
    con: duckdb.DuckDBPyConnection, name: str, table: CatalogTable, root: Path | None
) -> None:
    """The view ``name`` (``database.view``) over ``table``'s files under ``root``."""
    database, _, view = name.rpartition(".")
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {quoted(database)}")
    con.execute(
        f"CREATE OR REPLACE VIEW {quoted(database)}.{quoted(view)} AS {_view_sql(con, table, root)}"
    )


def parse_aliases(values: Sequence[str]) -> dict[str, str]:
    """``NAME=DATABASE.TABLE`` pairs: the catalog table also answers to NAME (``db.table``)."""
    aliases: dict[str, str] = {}
    for value in values:
        alias, sep, target = value.partition("=")
        if not sep or alias.count(".") != 1 or target.count(".") != 1:
            raise QueryError(f"--alias {value!r}: expected DATABASE.TABLE=DATABASE.TABLE")
        aliases[alias] = target
    return aliases


@contextlib.contextmanager
def lake(
    glue: Any, s3: Any, aliases: Mapping[str, str] | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection with one view per catalog table, per name a table is also known by,
    and per alias."""
    tables = {f"{t.database}.{t.name}": t for t in catalog_tables(glue)}
    declared = {other: name for name, t in tables.items() for other in t.also_known_as}
    aliases = {**declared, **(aliases or {})}
    missing = sorted(set(aliases.values()) - set(tables))
    if missing:
        raise QueryError(f"--alias names tables the catalog does not have: {', '.join(missing)}")
    # Nothing is downloaded at run time: DuckDB may not fetch an extension behind our back.
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    with tempfile.TemporaryDirectory(prefix="rocket-query-") as scratch:
        try:
            roots: dict[str, Path | None] = {}
            for name, table in tables.items():
                root = Path(scratch) / table.database / table.name
                roots[name] = root if mirror(s3, table, root) else None
                create_view(con, name, table, roots[name])
            for alias, target in aliases.items():
                create_view(con, alias, tables[target], roots[target])
            yield con
        finally:
            con.close()


@dataclass(frozen=True)
class Result:
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


def run(con: duckdb.DuckDBPyConnection, sql: str) -> Result:
    try:
        cursor = con.execute(sql)
    except duckdb.Error as exc:
        raise QueryError(str(exc).splitlines()[0]) from exc
    columns = tuple(d[0] for d in cursor.description or ())
    return Result(columns, tuple(tuple(row) for row in cursor.fetchall()))


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def render(result: Result, output_format: str) -> str:
    """The result as an aligned table, CSV with a header, or one JSON object per row."""
    if output_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows(["" if v is None else v for v in row] for row in result.rows)
        return buffer.getvalue().rstrip("\n")
    if output_format == "json":
        return "\n".join(
            json.dumps(dict(zip(result.columns, row, strict=True)), default=str)
            for row in result.rows
        )
    rows = [[_cell(v) for v in row] for row in result.rows]
    footer = f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''})"
    return f"{text_table.render(result.columns, rows)}\n{footer}"
