"""Dates and timestamps as banks and spreadsheets write them, read exactly or not at all.

Accepted forms (per value): ISO `yyyy-MM-dd` (DuckDB's own cast, with a time for timestamps;
a date column takes a time only if it is midnight, as exports write dates),
`yyyy/MM/dd` and `yyyy.MM.dd`, and the numeric day/month forms `dd/MM/yyyy`, `dd/MM/yy`,
`MM/dd/yyyy`, `MM/dd/yy` with `/`, `-` or `.` between the parts (one or two digits for the
day and month), a timestamp adding ` HH:MM[:SS[.ffffff]]` (optionally ` AM`/` PM`) or
`T...`. An ISO timestamp's
offset must be at most 23:59, and a fraction's digits past the sixth zeros: the value is
otherwise not read as another instant but fails `type:<col>`.

Whether `05/01/2024` is 5 January or 1 May is decided once per file and column, from all its
values (`evidence_sql`, `decide_orders`): a first part above 12 proves day-first, a second
part above 12 proves month-first. A column that proves neither uses the dataset's declared
`date_format`, else day-first; a column that proves both cannot be read (the whole file is
quarantined).

A timestamp without an offset is a wall-clock time in the dataset's `timezone` (UTC unless
declared) and is stored as the UTC instant it names; one that names no instant there (the
hour skipped when clocks go forward) or two (the hour repeated when they go back) fails
`type:<col>` saying so: which instant was meant cannot be known.

Two-digit years pivot: 00-69 are 20xx, 70-99 are 19xx. A date before the dataset's `min_date`
(1900-01-01 unless declared) fails `type:<col>`, so a misread year never reaches a partition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from etl_layers.datasets import ColumnSpec, ColumnType, DatasetSpec, DateFormat
from etl_layers.readers import UnreadableFileError
from etl_layers.sql import lit, q

PIVOT = 70  # two-digit years below it are 20xx, the others 19xx
# A time: HH:MM[:SS[.ffffff]], on a 12-hour clock with AM/PM as US spreadsheets write it.
_TIME = r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?(?:\s?([AaPp][Mm]))?)?$"
_NUMERIC = r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})" + _TIME
_YEAR_FIRST = r"^(\d{4})[./](\d{1,2})[./](\d{1,2})" + _TIME
_PARTS = "['a', 'b', 'y', 'h', 'mi', 's', 'f', 'p']"
# What DuckDB's ISO timestamp cast takes but reads as another instant: an offset past 23:59
# after a time (+25:00, -00:99), and a fraction with a digit that is not 0 past the sixth
# (microseconds are kept, the rest would be cut).
_NOT_AN_INSTANT = (
    r":\d{2}(\.\d*)?\s*[+-]((2[4-9]|[3-9]\d)(:?\d{2})?|\d{2}:?[6-9]\d)$|\.\d{6}\d*[1-9]"
)
# An ISO timestamp with neither an offset nor a zone: a wall-clock time.
_WALL_CLOCK_ISO = r"\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d*)?)?)?"
# A date column takes a date alone or at midnight, as spreadsheets and JSON exports write one
# (`2024-01-05 00:00:00`, `2024-01-05T00:00:00.000Z`, `1/5/2024 12:00 AM`): another time of
# day would be dropped, and with an offset the day itself is in doubt.
_HAS_TIME = r"[ T]\d{1,2}:\d{2}"
_MIDNIGHT = (
    r"[ T](?:0?0:00(?::00(?:\.0*)?)?|12:00(?::00(?:\.0*)?)?\s?[Aa][Mm])"
    r"(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?$"
)
# The parts that decide a column's order, with the separator (only `-` leaves the year's
# place open: Brazilian, US and European exports write short dates with `/` or `.`).
# Its first group, the whole match, is the trimmed value a decision names as its example, so
# the trimmed text is made only for the values that are not ISO.
_EVIDENCE = r"^((\d{1,2})([./-])(\d{1,2})[./-](\d{4}|\d{2})(?:[ T].*)?)$"


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


def _e(column: ColumnSpec) -> str:
    return q("e__" + column.name)


def evidence_sql(spec: DatasetSpec) -> tuple[list[str], list[str], list[str]]:
    """Over `raw_rows`: projections (each date column's parts and trimmed text, extracted once),
    the parts as numbers and lengths (over the projections, so each is cast once, not once per
    aggregate that reads it: ~0.7 of 3.8 CPU s a column at 10 M rows), and aggregates over
    both, five per column: a value proving day-first, month-first, year-first, year-last, and
    a `-` date whose year could be first or last (NULL when there is none)."""
    projections, steps, parts = [], [], []
    for column in date_columns(spec):
        e = _e(column)
        # An ISO date proves nothing about the others: only the rest is trimmed and goes
        # through the regex (a value starting with four digits matches it in no case, so the
        # check needs no trim).
        projections.append(
            f"CASE WHEN NOT {iso_expr(q(column.name))} THEN regexp_extract("
            f"trim({q(column.name)}), {lit(_EVIDENCE)}, ['v', 'a', 'sep', 'b', 'y']) END AS {e}"
        )
        v = q("v__" + column.name)
        a, b, y, la, ly, sep = (
            q(f"{p}__{column.name}") for p in ("da", "db", "dy", "la", "ly", "sep")
        )
        steps.append(
            ", ".join(
                [
                    *(
                        f"TRY_CAST(NULLIF({e}.{p}, '') AS INTEGER) AS {n}"
                        for p, n in (("a", a), ("b", b), ("y", y))
                    ),
                    f"length({e}.a) AS {la}",
                    f"length({e}.y) AS {ly}",
                    f"{e}.sep AS {sep}",
                    f"{e}.v AS {v}",
                ]
            )
        )
        short = f"({la} = 2 AND {ly} = 2)"
        parts += [
            f"min({v}) FILTER (WHERE {a} > 12)",
            f"min({v}) FILTER (WHERE {b} > 12)",
            f"min({v}) FILTER (WHERE {short} AND ({a} > 31 OR {a} = 0))",
            f"min({v}) FILTER (WHERE {la} = 1 OR {ly} = 4 OR ({ly} = 2 AND ({y} > 31 OR {y} = 0)))",
            f"min({v}) FILTER (WHERE {short} AND {sep} = '-')",
        ]
    return projections, steps, parts


EVIDENCE_PER_COLUMN = 5


def decide_orders(spec: DatasetSpec, values: Sequence[Any]) -> dict[str, DateOrder]:
    """The order of every date column, from the values `evidence_sql` yields."""
    orders = {}
    n = EVIDENCE_PER_COLUMN
    for i, column in enumerate(date_columns(spec)):
        orders[column.name] = _decide(column, spec, *values[n * i : n * (i + 1)])
    return orders


def _refuse_both(name: str, one: tuple[str, str | None], other: tuple[str, str | None]) -> None:
    (kind, example), (other_kind, other_example) = one, other
    if example is not None and other_example is not None:
        raise UnreadableFileError(
            f"column {name!r} mixes {kind} dates (such as {example!r}) and {other_kind} "
            f"dates (such as {other_example!r}): write all its dates in one order"
        )


def _decide(
    column: ColumnSpec,
    spec: DatasetSpec,
    day_first: str | None,
    month_first: str | None,
    year_first: str | None,
    year_last: str | None,
    either: str | None,
) -> DateOrder:
    name = column.name
    _refuse_both(name, ("year-first", year_first), ("year-last", year_last))
    if year_first is not None:
        return DateOrder(DateFormat.YEAR_FIRST, DecidedBy.VALUES, year_first)
    if year_last is None and either is not None:
        if spec.date_format is not None:
            return DateOrder(spec.date_format, DecidedBy.DECLARED)
        raise UnreadableFileError(
            f"column {name!r} has dates such as {either!r} that read as yy-MM-dd or as "
            "dd-MM-yy, and none of its dates decides which: write four-digit years, or "
            "declare the dataset's date_format"
        )
    _refuse_both(name, ("day-first", day_first), ("month-first", month_first))
    if day_first is not None:
        return DateOrder(DateFormat.DAY_FIRST, DecidedBy.VALUES, day_first)
    if month_first is not None:
        return DateOrder(DateFormat.MONTH_FIRST, DecidedBy.VALUES, month_first)
    if spec.date_format is not None and spec.date_format is not DateFormat.YEAR_FIRST:
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
    # 12 AM is hour 0, 12 PM hour 12; an hour past 12 or of 0 with AM/PM is no time (NULL).
    hour = (
        f"CASE WHEN {x}.p = '' THEN {x}.h::INTEGER "
        f"WHEN {x}.h::INTEGER BETWEEN 1 AND 12 THEN {x}.h::INTEGER % 12 "
        f"+ CASE WHEN upper({x}.p) = 'PM' THEN 12 ELSE 0 END END"
    )
    time = (
        f"CASE WHEN {x}.h = '' THEN '' ELSE printf(' %02d:%s:%s%s', {hour}, {x}.mi, "
        f"CASE WHEN {x}.s = '' THEN '00' ELSE {x}.s END, {x}.f) END"
    )
    return f"TRY_CAST({date} || {time} AS TIMESTAMP)"


def iso_expr(v: str) -> str:
    """Whether `v` starts as an ISO date does (DuckDB's own cast reads those)."""
    # GLOB's [0-9] is the regex's \d (ASCII digits: test_sql.py), at a third of its cost.
    return f"{v} GLOB '[0-9][0-9][0-9][0-9]-*'"


def extract_expr(v: str, iso: str) -> tuple[str, str]:
    """The two part structs of `v` (numeric day/month form, year-first form), only extracted
    when `v` is not ISO (`iso`, from `iso_expr`): most files are ISO, and the regexes are the
    costly part of reading a date. The year-first form's regex only runs where the fifth
    character can end its year (a third of the cost of running it on every numeric date)."""
    return (
        f"CASE WHEN NOT {iso} THEN regexp_extract({v}, {lit(_NUMERIC)}, {_PARTS}) END",
        f"CASE WHEN NOT {iso} AND {v}[5] IN ('.', '/') THEN "
        f"regexp_extract({v}, {lit(_YEAR_FIRST)}, {_PARTS}) END",
    )


def time_of_day_expr(v: str) -> str:
    """Whether the text `v` holds a time of day other than midnight, which a date column
    does not take."""
    # An ISO date alone is ten characters, a numeric one at most that: only longer values
    # can hold a time, and only they are matched.
    return (
        f"(length({v}) > 10 AND regexp_matches({v}, {lit(_HAS_TIME)}) "
        f"AND NOT regexp_matches({v}, {lit(_MIDNIGHT)}))"
    )


def parse_expr(
    column: ColumnSpec, v: str, iso_flag: str, numeric: str, year_first: str, order: DateOrder
) -> str:
    """SQL reading `v` (with its ISO flag and part structs `numeric`, `year_first`) as the
    column's type."""
    timestamp = column.type is ColumnType.TIMESTAMP
    if timestamp:
        iso = (
            f"CASE WHEN NOT regexp_matches({v}, {lit(_NOT_AN_INSTANT)}) THEN "
            f"TRY_CAST(TRY_CAST({v} AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP) END"
        )
    else:
        iso = f"TRY_CAST({v} AS DATE)"
    day, month = ("a", "b") if order.format is DateFormat.DAY_FIRST else ("b", "a")
    n, y = numeric, year_first
    if order.format is DateFormat.YEAR_FIRST:
        # yy-MM-dd: the groups a, b, y of the numeric form hold year, month, day.
        numeric_date = _from_parts(n, f"{n}.a", f"{n}.b", f"{n}.y", timestamp)
    else:
        numeric_date = _from_parts(n, f"{n}.y", f"{n}.{month}", f"{n}.{day}", timestamp)
    # A date column's value with a time of day is no date (NULL: it fails `type:<col>`).
    refused = "" if timestamp else f"WHEN {time_of_day_expr(v)} THEN NULL "
    return (
        f"CASE {refused}WHEN {iso_flag} THEN {iso} "
        # year-first: the groups a, b, y hold year, month, day
        f"WHEN {y}.y <> '' THEN {_from_parts(y, f'{y}.a', f'{y}.b', f'{y}.y', timestamp)} "
        f"WHEN {n}.y <> '' THEN {numeric_date} END"
    )


def is_wall_clock(v: str, iso_flag: str) -> str:
    """Whether the text `v` (ISO or not, `iso_flag`) is a time without an offset or a zone."""
    return f"(NOT {iso_flag} OR regexp_full_match({v}, {lit(_WALL_CLOCK_ISO)}))"


def _offset(zone: str, wall: str) -> str:
    """The zone's offset (an interval) at the wall-clock time `wall`."""
    return f"({wall} - timezone('UTC', timezone({zone}, {wall})))"


def wall_clock_problem(t: str, timezone: str) -> str:
    """NULL where the wall-clock time `t` names one instant in `timezone`; 'gap' where it
    names none (the clocks skipped it), 'twice' where it names two (the clocks went back).

    Around a change the offsets a day before and a day after differ; `t` names an instant
    for each of them whose wall-clock time there is `t`. (ICU would pick one quietly.)"""
    zone = lit(timezone)
    before = _offset(zone, f"({t} - INTERVAL 1 DAY)")
    after = _offset(zone, f"({t} + INTERVAL 1 DAY)")

    def names(offset: str) -> str:
        return f"timezone({zone}, timezone('UTC', {t} - {offset})) = {t}"

    return (
        f"CASE WHEN timezone({zone}, timezone({zone}, {t})) <> {t} THEN 'gap' "
        f"WHEN {before} <> {after} AND {names(before)} AND {names(after)} THEN 'twice' END"
    )


def wall_clock_in_utc(t: str, timezone: str) -> str:
    """The wall-clock time `t` in `timezone` as the UTC time of the instant it names."""
    return f"timezone('UTC', timezone({lit(timezone)}, {t}))"
