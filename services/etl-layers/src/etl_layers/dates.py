"""Dates and timestamps as banks and spreadsheets write them, read exactly or not at all.

Accepted forms (per value): ISO `yyyy-MM-dd` (DuckDB's own cast, with a time for timestamps),
`yyyy/MM/dd` and `yyyy.MM.dd`, and the numeric day/month forms `dd/MM/yyyy`, `dd/MM/yy`,
`MM/dd/yyyy`, `MM/dd/yy` with `/`, `-` or `.` between the parts (one or two digits for the
day and month), a timestamp adding ` HH:MM[:SS[.ffffff]]` or `T...`.

Whether `05/01/2024` is 5 January or 1 May is decided once per file and column, from all its
values (`detect_orders`): a first part above 12 proves day-first, a second part above 12
proves month-first. A column that proves neither uses the dataset's declared `date_format`,
else day-first; a column that proves both cannot be read (the whole file is quarantined).

Two-digit years pivot: 00-69 are 20xx, 70-99 are 19xx. A date before the dataset's `min_date`
(1900-01-01 unless declared) fails `type:<col>`, so a misread year never reaches a partition.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import duckdb

from etl_layers.datasets import ColumnSpec, ColumnType, DatasetSpec, DateFormat
from etl_layers.readers import UnreadableFileError
from etl_layers.sql import lit, q

PIVOT = 70  # two-digit years below it are 20xx, the others 19xx
_NUMERIC = (
    r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?)?$"
)
_YEAR_FIRST = (
    r"^(\d{4})[./](\d{1,2})[./](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?)?$"
)
_PARTS = "['a', 'b', 'y', 'h', 'mi', 's', 'f']"


class DecidedBy(StrEnum):
    VALUES = "values"
    DECLARED = "declared"
    DEFAULT = "default"


@dataclass(frozen=True)
class DateOrder:
    """How one column's numeric dates are read in one file, and what decided it."""

    format: DateFormat
    decided_by: DecidedBy
    example: str | None = None

    def describe(self) -> dict[str, str | None]:
        return {"format": self.format.value, "decided_by": self.decided_by, "example": self.example}


def date_columns(spec: DatasetSpec) -> list[ColumnSpec]:
    return [c for c in spec.columns if c.type in (ColumnType.DATE, ColumnType.TIMESTAMP)]


def detect_orders(con: duckdb.DuckDBPyConnection, spec: DatasetSpec) -> dict[str, DateOrder]:
    """The day/month order of every date column of `raw_rows`, from all its values."""
    columns = date_columns(spec)
    if not columns:
        return {}
    parts = []
    for column in columns:
        v = f"trim({q(column.name)})"
        first = f"TRY_CAST(regexp_extract({v}, {lit(_NUMERIC)}, 1) AS INTEGER)"
        second = f"TRY_CAST(regexp_extract({v}, {lit(_NUMERIC)}, 2) AS INTEGER)"
        parts.append(f"min({v}) FILTER (WHERE {first} > 12), min({v}) FILTER (WHERE {second} > 12)")
    row = con.execute(f"SELECT {', '.join(parts)} FROM raw_rows").fetchall()[0]
    orders = {}
    for i, column in enumerate(columns):
        day_first, month_first = row[2 * i], row[2 * i + 1]
        orders[column.name] = _decide(column, spec, day_first, month_first)
    return orders


def _decide(
    column: ColumnSpec, spec: DatasetSpec, day_first: str | None, month_first: str | None
) -> DateOrder:
    if day_first is not None and month_first is not None:
        raise UnreadableFileError(
            f"column {column.name!r} mixes day-first dates (such as {day_first!r}) and "
            f"month-first dates (such as {month_first!r}): write all its dates in one order"
        )
    if day_first is not None:
        return DateOrder(DateFormat.DAY_FIRST, DecidedBy.VALUES, day_first)
    if month_first is not None:
        return DateOrder(DateFormat.MONTH_FIRST, DecidedBy.VALUES, month_first)
    if spec.date_format is not None:
        return DateOrder(spec.date_format, DecidedBy.DECLARED)
    return DateOrder(DateFormat.DAY_FIRST, DecidedBy.DEFAULT)


def _year(y: str) -> str:
    return (
        f"CASE WHEN length({y}) = 2 THEN {y}::INTEGER + "
        f"CASE WHEN {y}::INTEGER < {PIVOT} THEN 2000 ELSE 1900 END ELSE {y}::INTEGER END"
    )


def _from_parts(x: str, year: str, month: str, day: str, timestamp: bool) -> str:
    """ISO text built from the extracted parts, cast exactly (31/02 does not parse)."""
    date = f"printf('%04d-%02d-%02d', {_year(year)}, {month}::INTEGER, {day}::INTEGER)"
    if not timestamp:
        return f"TRY_CAST({date} AS DATE)"
    time = (
        f"CASE WHEN {x}.h = '' THEN '' ELSE printf(' %02d:%s:%s%s', {x}.h::INTEGER, {x}.mi, "
        f"CASE WHEN {x}.s = '' THEN '00' ELSE {x}.s END, {x}.f) END"
    )
    return f"TRY_CAST({date} || {time} AS TIMESTAMP)"


def extract_expr(v: str) -> tuple[str, str]:
    """The two part structs of `v` (numeric day/month form, year-first form)."""
    return (
        f"regexp_extract({v}, {lit(_NUMERIC)}, {_PARTS})",
        f"regexp_extract({v}, {lit(_YEAR_FIRST)}, {_PARTS})",
    )


def parse_expr(column: ColumnSpec, v: str, numeric: str, year_first: str, order: DateOrder) -> str:
    """SQL reading `v` (with its part structs `numeric`, `year_first`) as the column's type."""
    timestamp = column.type is ColumnType.TIMESTAMP
    if timestamp:
        iso = f"TRY_CAST(TRY_CAST({v} AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP)"
    else:
        iso = f"TRY_CAST({v} AS DATE)"
    day, month = ("a", "b") if order.format is DateFormat.DAY_FIRST else ("b", "a")
    n, y = numeric, year_first
    return (
        f"CASE WHEN regexp_matches({v}, '^\\d{{4}}-') THEN {iso} "
        # year-first: the groups a, b, y hold year, month, day
        f"WHEN {y}.y <> '' THEN {_from_parts(y, f'{y}.a', f'{y}.b', f'{y}.y', timestamp)} "
        f"WHEN {n}.y <> '' THEN "
        f"{_from_parts(n, f'{n}.y', f'{n}.{month}', f'{n}.{day}', timestamp)} END"
    )
