"""One range's screened lines into one zstd Parquet file, with DuckDB, parsed once.

The screened lines of a whole range are one newline-delimited file, so DuckDB infers the
types once over every record (`sample_size=-1`: a field that appears only late in the range
is not lost), widens integers to doubles where both occur and leaves a field null where a
record lacks it. Declared fields are cast to their declared type (their values were checked
while screening, so the cast cannot fail or coerce).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from compactor.domains import FieldSpec, FieldType
from compactor.ducktypes import DuckType, Schema, parse, render

_DUCKDB_TYPES: dict[FieldType, str] = {
    FieldType.STRING: "VARCHAR",
    FieldType.BIGINT: "BIGINT",
    FieldType.DOUBLE: "DOUBLE",
    FieldType.BOOLEAN: "BOOLEAN",
    FieldType.TIMESTAMP: "TIMESTAMPTZ",
    FieldType.DATE: "DATE",
}
# Declared objects and arrays keep the nested type inferred over the range (struct, list):
# screening checked they are objects and arrays; their insides may drift.
# Row groups of ~128k rows: large enough for column statistics to skip, small enough to write
# in bounded memory.
ROW_GROUP_ROWS = 131072
# A column null in every record has no type (NULL); JSON holds values DuckDB could not unify.
_UNTYPED = ("NULL", "JSON")


@dataclass(frozen=True)
class EngineLimits:
    memory_limit: str = "1GB"
    threads: int = 2


@dataclass(frozen=True)
class CompactedFile:
    path: Path
    rows: int
    # The columns as DuckDB reads them back from the file (DESCRIBE's type text).
    columns: tuple[tuple[str, str], ...]

    @property
    def names(self) -> set[str]:
        return {name for name, _ in self.columns}

    @property
    def schema(self) -> tuple[tuple[str, DuckType], ...]:
        return tuple((name, parse(kind)) for name, kind in self.columns)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _select_list(described: Sequence[tuple[str, str]], fields: tuple[FieldSpec, ...]) -> str:
    declared = {f.name: _DUCKDB_TYPES[f.type] for f in fields if f.type in _DUCKDB_TYPES}
    parts: list[str] = []
    for name, kind in described:
        target = declared.get(name)
        if target is None and kind.strip('"') in _UNTYPED:
            target = "VARCHAR"
        parts.append(
            f"CAST({_quote(name)} AS {target}) AS {_quote(name)}" if target else _quote(name)
        )
    seen = {name for name, _ in described}
    # A declared optional field no record of the range has still gets its column.
    for spec in fields:
        if spec.name not in seen:
            kind = declared.get(spec.name, "VARCHAR")
            parts.append(f"CAST(NULL AS {kind}) AS {_quote(spec.name)}")
    return ", ".join(parts)


def _connect(work_dir: Path, limits: EngineLimits | None) -> duckdb.DuckDBPyConnection:
    limits = limits or EngineLimits()
    return duckdb.connect(
        config={
            "memory_limit": limits.memory_limit,
            "threads": limits.threads,
            "temp_directory": str(work_dir / "duckdb-spill"),
            "preserve_insertion_order": True,
        }
    )


def _written(
    con: duckdb.DuckDBPyConnection, dest: Path, untyped: frozenset[str] = frozenset()
) -> CompactedFile:
    """The file as written; a column null in every record (`untyped`) is reported as NULL,
    so another range's type for it wins when the day's schema is unified."""
    parquet = f"read_parquet({_literal(str(dest))})"
    described = con.execute(f"DESCRIBE SELECT * FROM {parquet}").fetchall()
    counted = con.execute(f"SELECT count(*) FROM {parquet}").fetchone()
    rows = int(counted[0]) if counted else 0
    columns = tuple((str(r[0]), '"NULL"' if str(r[0]) in untyped else str(r[1])) for r in described)
    return CompactedFile(dest, rows, columns)


def compact(
    lines_file: Path,
    dest: Path,
    fields: tuple[FieldSpec, ...],
    *,
    work_dir: Path,
    limits: EngineLimits | None = None,
) -> CompactedFile:
    """Parse `lines_file` (non-empty, screened NDJSON) and write it to `dest` as Parquet."""
    con = _connect(work_dir, limits)
    try:
        source = (
            f"read_json({_literal(str(lines_file))}, format='newline_delimited', "
            "sample_size=-1, maximum_object_size=16777216)"
        )
        described = [
            (str(r[0]), str(r[1])) for r in con.sql(f"DESCRIBE SELECT * FROM {source}").fetchall()
        ]
        select = _select_list(described, fields)
        # The types are known now: the second read parses without detecting them again.
        typed = ", ".join(
            f"{_literal(name)}: {_literal('VARCHAR' if kind.strip(chr(34)) == 'NULL' else kind)}"
            for name, kind in described
        )
        source = (
            f"read_json({_literal(str(lines_file))}, format='newline_delimited', "
            f"maximum_object_size=16777216, columns={{{typed}}})"
        )
        con.execute(
            f"COPY (SELECT {select} FROM {source}) TO {_literal(str(dest))} "
            f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS})"
        )
        declared = {f.name for f in fields}
        untyped = frozenset(
            name for name, kind in described if kind.strip('"') == "NULL" and name not in declared
        )
        return _written(con, dest, untyped)
    finally:
        con.close()


def conform(
    src: Path,
    dest: Path,
    schema: Schema,
    *,
    work_dir: Path,
    limits: EngineLimits | None = None,
) -> CompactedFile:
    """Rewrite `src` with the day's unified `schema`: casts that only widen (struct fields
    added by name), nulls for the columns it lacks."""
    con = _connect(work_dir, limits)
    try:
        source = f"read_parquet({_literal(str(src))})"
        present = {str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        select = ", ".join(
            f"CAST({_quote(n) if n in present else 'NULL'} AS {render(kind)}) AS {_quote(n)}"
            for n, kind in schema
        )
        con.execute(
            f"COPY (SELECT {select} FROM {source}) TO {_literal(str(dest))} "
            f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS})"
        )
        return _written(con, dest)
    finally:
        con.close()
