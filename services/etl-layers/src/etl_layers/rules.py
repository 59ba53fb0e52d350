"""Quality rules as SQL over `raw_rows`, generated from a dataset declaration.

Hard rules (the row goes to QUARANTINE with the rule's name):
  required:<col>   the value is empty
  type:<col>       the value does not parse as the declared type
  allowed:<col>    the value is not one of the declared values
Soft rules (the row is kept, flagged in `quality_flags`, and its score lowered):
  defaulted:<col>  the value was empty and the declared default was used
  negative:<col>   a value below zero where `not_negative` is declared
  future:<col>     a date/timestamp after the processing time where `not_future` is declared
  below_min:<col> / above_max:<col>
  outlier:<col>    more than `outlier_z` standard deviations from the file's mean

data_quality_score = completeness x (1 - flag_penalty x number of flags), floored at 0, where
completeness is the share of declared columns that had a value in the file.
"""

from __future__ import annotations

from collections.abc import Sequence

from etl_layers import dates, numbers
from etl_layers.datasets import ColumnSpec, ColumnType, DatasetSpec
from etl_layers.dates import DateOrder
from etl_layers.numbers import DecimalStyle
from etl_layers.sql import lit, q, trimmed_or_null

_SQL_TYPES = {
    ColumnType.STRING: "VARCHAR",
    ColumnType.BIGINT: "BIGINT",
    ColumnType.DOUBLE: "DOUBLE",
    ColumnType.DATE: "DATE",
    ColumnType.TIMESTAMP: "TIMESTAMP",
    ColumnType.BOOLEAN: "BOOLEAN",
}
_TRUE = "('true', '1', 'yes', 'y', 't', 'sim', 's')"
_FALSE = "('false', '0', 'no', 'n', 'f', 'nao', 'não')"


SCORE_DECIMALS = 4
"""Decimals data_quality_score and its daily mean are stored with."""


def sql_type(column: ColumnSpec) -> str:
    return _SQL_TYPES[column.type]


def _i(column: ColumnSpec) -> str:
    return q(f"i__{column.name}")


def _x(column: ColumnSpec, form: int) -> str:
    return q(f"x{form}__{column.name}")


def parse_expr(
    column: ColumnSpec, v: str, style: DecimalStyle, order: DateOrder | None = None
) -> str:
    """SQL parsing the trimmed text `v` as the column's type; NULL when it does not parse."""
    if column.type in (ColumnType.DATE, ColumnType.TIMESTAMP):
        assert order is not None
        return dates.parse_expr(column, v, _i(column), _x(column, 0), _x(column, 1), order)
    match column.type:
        case ColumnType.STRING:
            return v
        case ColumnType.BIGINT | ColumnType.DOUBLE:
            return numbers.parse_expr(_steps(column), style, sql_type(column))
        case ColumnType.DATE:
            return f"COALESCE(TRY_CAST({v} AS DATE), TRY_STRPTIME({v}, '%d/%m/%Y')::DATE)"
        case ColumnType.TIMESTAMP:
            return (
                f"COALESCE(TRY_CAST(TRY_CAST({v} AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP),"
                f" TRY_STRPTIME({v}, ['%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%d/%m/%Y']))"
            )
        case ColumnType.BOOLEAN:
            return (
                f"CASE WHEN lower({v}) IN {_TRUE} THEN true "
                f"WHEN lower({v}) IN {_FALSE} THEN false END"
            )
    raise AssertionError(column.type)  # pragma: no cover


def _v(column: ColumnSpec) -> str:
    return q("v__" + column.name)


def _steps(column: ColumnSpec) -> numbers.Steps:
    return numbers.Steps.of(_v(column), column.name)


def _p(column: ColumnSpec) -> str:
    return q("p__" + column.name)


def _floor(spec: DatasetSpec, column: ColumnSpec) -> str:
    floor = f"DATE {lit(spec.min_date.isoformat())}"
    return floor if column.type is ColumnType.DATE else f"{floor}::TIMESTAMP"


def hard_rule_exprs(column: ColumnSpec, spec: DatasetSpec) -> list[str]:
    v, p = _v(column), _p(column)
    rules = []
    if column in dates.date_columns(spec):
        rules.append(f"CASE WHEN {p} < {_floor(spec, column)} THEN 'type:{column.name}' END")
    if column.required:
        rules.append(f"CASE WHEN {v} IS NULL THEN 'required:{column.name}' END")
    if column.type is not ColumnType.STRING:
        rules.append(f"CASE WHEN {v} IS NOT NULL AND {p} IS NULL THEN 'type:{column.name}' END")
    if column.allowed is not None:
        values = ", ".join(lit(a) for a in column.allowed)
        value = f"COALESCE({p}, {lit(column.default)})" if column.default is not None else p
        rules.append(
            f"CASE WHEN {value} IS NOT NULL AND {value}::VARCHAR NOT IN ({values}) "
            f"THEN 'allowed:{column.name}' END"
        )
    return rules


def value_expr(column: ColumnSpec) -> str:
    if column.default is None:
        return _p(column)
    return f"COALESCE({_p(column)}, CAST({lit(column.default)} AS {sql_type(column)}))"


def soft_flag_exprs(column: ColumnSpec, now: str) -> list[str]:
    v, value, name = _v(column), value_expr(column), column.name
    flags = []
    if column.default is not None:
        flags.append(f"CASE WHEN {v} IS NULL THEN 'defaulted:{name}' END")
    if column.not_negative:
        flags.append(f"CASE WHEN {value} < 0 THEN 'negative:{name}' END")
    if column.not_future:
        bound = f"{now}::DATE" if column.type is ColumnType.DATE else now
        flags.append(f"CASE WHEN {value} > {bound} THEN 'future:{name}' END")
    if column.min is not None:
        flags.append(f"CASE WHEN {value} < {lit(column.min)} THEN 'below_min:{name}' END")
    if column.max is not None:
        flags.append(f"CASE WHEN {value} > {lit(column.max)} THEN 'above_max:{name}' END")
    return flags


def flag_list(exprs: list[str]) -> str:
    if not exprs:
        return "[]::VARCHAR[]"
    return f"list_filter([{', '.join(exprs)}], lambda x: x IS NOT NULL)"


def any_flag(exprs: list[str]) -> str:
    """SQL true where one of the flag expressions (each a name or NULL) names something."""
    return " OR ".join(f"({e}) IS NOT NULL" for e in exprs) or "false"


def flags_of(exprs: list[str]) -> str:
    """`flag_list` of what most rows pass: the list is built only for a row that fails one
    (building an empty list for every row was ~5% of staging)."""
    if not exprs:
        return flag_list(exprs)
    return f"CASE WHEN {any_flag(exprs)} THEN {flag_list(exprs)} ELSE []::VARCHAR[] END"


def error_exprs(spec: DatasetSpec, style: DecimalStyle, orders: dict[str, DateOrder]) -> list[str]:
    """Why each failed hard rule failed, naming the value and the format or values expected.
    Over `checked`: the rules that are not type rules are told by `failed_rules`."""
    exprs = []
    for column in spec.columns:
        v, p, name = _v(column), _p(column), column.name
        if column.required:
            exprs.append(
                f"CASE WHEN list_contains(failed_rules, {lit('required:' + name)}) "
                f"THEN {lit(name + ' is empty or missing')} END"
            )
        if column.allowed is not None:
            listed = ", ".join(column.allowed)
            value = f"COALESCE({v}, {lit(column.default)})" if column.default is not None else v
            exprs.append(
                f"CASE WHEN list_contains(failed_rules, {lit('allowed:' + name)}) "
                f"THEN {lit(name + ' ')} || {value} || {lit(' is not one of ' + listed)} END"
            )
        if column.type is ColumnType.STRING:
            continue
        if column.name in orders:
            form = orders[column.name].format.value
            kind, time = "date", ""
            if column.type is ColumnType.TIMESTAMP:
                kind, time = "timestamp", " HH:MM[:SS]"
            expected = (
                f"a {kind} as yyyy-MM-dd{time} or {form}{time} (yy: 00-{dates.PIVOT - 1} is "
                f"20yy, {dates.PIVOT}-99 is 19yy)"
            )
            exprs.append(
                f"CASE WHEN {p} < {_floor(spec, column)} THEN "
                f"{lit(name + ' ')} || {v} || {lit(' is before ' + spec.min_date.isoformat())} END"
            )
        elif column.type in (ColumnType.DOUBLE, ColumnType.BIGINT):
            exprs.append(numbers.error_expr(column, _steps(column), p, style, spec.currency))
            continue
        else:
            expected = f"a {column.type.value}"
        why = lit(" is not " + expected)
        if column.name in orders:
            why = _date_why(column, v, why)
        if column in zoned_columns(spec):
            problem = dates.wall_clock_problem(_w(column), spec.timezone)
            zone = spec.timezone
            why = (
                f"CASE WHEN {problem} = 'gap' THEN "
                f"{lit(f' does not exist in {zone}: its clocks skipped that time')} "
                f"WHEN {problem} = 'twice' THEN "
                f"{lit(f' happens twice in {zone}: its clocks went back over that time')} "
                f"ELSE {why} END"
            )
            why = f"{why} || CASE WHEN {problem} IS NOT NULL THEN {lit(_WRITE_OFFSET)} ELSE '' END"
        exprs.append(
            f"CASE WHEN {v} IS NOT NULL AND {p} IS NULL THEN {lit(name + ' ')} || {v} || {why} END"
        )
    return exprs


def _date_why(column: ColumnSpec, v: str, why: str) -> str:
    """`why` the date or timestamp `v` failed, where it is no form misread: a year of five
    digits (a Parquet DATE may hold one), a time of day in a date column."""
    why = (
        f"CASE WHEN regexp_matches({v}, '^[0-9]{{5,}}-') "
        f"THEN ' has a year past 9999' ELSE {why} END"
    )
    if column.type is ColumnType.DATE:
        why = f"CASE WHEN {dates.time_of_day_expr(v)} THEN {lit(_TIME_OF_DAY)} ELSE {why} END"
    return why


_WRITE_OFFSET = " (write its offset: 2024-11-03T01:30:00-04:00)"
_TIME_OF_DAY = (
    " has a time of day: a date column takes a date alone or at midnight "
    "(declare the column timestamp to keep its time)"
)


def staged_sql(
    spec: DatasetSpec,
    style: DecimalStyle,
    now: str,
    orders: dict[str, DateOrder] | None = None,
    typed: Sequence[str] = (),
) -> str:
    """SELECT over `raw_rows`: typed values, failed hard rules, soft flags, completeness,
    and what the layers need from a kept row: dates as ISO text (the partition column's
    as a DATE), computed here so the table is not copied again to add them.

    `now` is a SQL TIMESTAMP literal: the processing time, the bound of `future:` flags.
    `typed`: the numeric columns whose numbers `raw_rows` marks (`numbers.typed_column`).
    """
    orders = orders or {}
    parsed = ", ".join(
        [
            *(f"{trimmed_or_null(q(c.name))} AS {_v(c)}" for c in spec.columns),
            *(numbers.typed_column(name) for name in typed),
        ]
    )
    kinds = ", ".join(f"{dates.iso_expr(_v(c))} AS {_i(c)}" for c in dates.date_columns(spec))
    forms = ", ".join(
        f"{expr} AS {_x(c, i)}"
        for c in dates.date_columns(spec)
        for i, expr in enumerate(dates.extract_expr(_v(c), _i(c)))
    )
    # Each numeric column is read through three steps of its own (numbers.Steps).
    number_steps = [
        numbers.staging_steps(
            _steps(c),
            style,
            sql_type(c),
            spec.currency,
            numbers.typed_column(c.name) if c.name in typed else None,
        )
        for c in numbers.numeric_columns(spec)
    ]
    number_step = ["".join(", " + e for steps in number_steps for e in steps[i]) for i in range(3)]
    typed = ", ".join(
        f"{parse_expr(c, _v(c), style, orders.get(c.name))} AS {_p(c)}" for c in spec.columns
    )
    hard = [rule for c in spec.columns for rule in hard_rule_exprs(c, spec)]
    errors = error_exprs(spec, style, orders)
    soft = [flag for c in spec.columns for flag in soft_flag_exprs(c, now)]
    # The partition column stays a DATE (a TIMESTAMP's day is cast from it where needed): its
    # ISO text and the partition's path are made for the rows written and the distinct days,
    # not for every row staged; the table is narrower for it.
    values = ", ".join(
        f"strftime({value_expr(c)}, '%Y-%m-%d') AS {q(c.name)}"
        if c.type is ColumnType.DATE and c.name != spec.partition_column
        else f"{value_expr(c)} AS {q(c.name)}"
        for c in spec.columns
    )
    present = " + ".join(f"({_v(c)} IS NOT NULL)::INTEGER" for c in spec.columns)
    raw_record = ", ".join(f"{lit(c.name)}: {_v(c)}" for c in spec.columns)
    return f"""
        WITH texts AS (SELECT {parsed} FROM raw_rows),
             kinds AS (SELECT *{", " + kinds if kinds else ""}{number_step[0]} FROM texts),
             forms AS (SELECT *{", " + forms if forms else ""}{number_step[1]} FROM kinds),
             numbers AS (SELECT *{number_step[2]} FROM forms),
             parsed AS (SELECT *, {typed} FROM numbers),
             utc AS ({_utc_sql(spec)}),
             finite AS ({_finite_sql(spec)}),
             checked AS (SELECT *, {flags_of(hard)} AS failed_rules FROM finite)
        SELECT {values},
               failed_rules,
               {flags_of(soft)} AS flags,
               ({present}) / {len(spec.columns)}.0 AS completeness,
               CASE WHEN len(failed_rules) > 0 THEN to_json({{{raw_record}}})::VARCHAR END
                   AS raw_record,
               CASE WHEN len(failed_rules) > 0 THEN
                   NULLIF(array_to_string({flag_list(errors)}, '; '), '') END AS error
        FROM checked
    """


def zoned_columns(spec: DatasetSpec) -> list[ColumnSpec]:
    """The timestamp columns whose wall-clock times are read in a zone other than UTC."""
    if spec.timezone == "UTC":
        return []
    return [c for c in spec.columns if c.type is ColumnType.TIMESTAMP]


def _w(column: ColumnSpec) -> str:
    return q(f"w__{column.name}")


def _utc_sql(spec: DatasetSpec) -> str:
    """`parsed` with each timestamp written without an offset taken as a wall-clock time in
    the dataset's zone and made the UTC time of the instant it names (NULL where it names
    none or two); that wall-clock time is kept as `w__<col>`, which the reason reads."""
    zoned = zoned_columns(spec)
    if not zoned:
        return "SELECT * FROM parsed"
    replaced, walls = [], []
    for column in zoned:
        p, wall = _p(column), dates.is_wall_clock(_v(column), _i(column))
        problem = dates.wall_clock_problem(p, spec.timezone)
        replaced.append(
            f"CASE WHEN NOT {wall} THEN {p} WHEN {problem} IS NULL THEN "
            f"{dates.wall_clock_in_utc(p, spec.timezone)} END AS {p}"
        )
        walls.append(f"CASE WHEN {wall} THEN {p} END AS {_w(column)}")
    return f"SELECT * REPLACE ({', '.join(replaced)}), {', '.join(walls)} FROM parsed"


def _finite_sql(spec: DatasetSpec) -> str:
    """`utc` with each double that is not finite made NULL: DuckDB casts `inf`, `nan`,
    `-Infinity` and `1e400` (past a double's range) to infinities and NaN, which no amount
    is, so they fail `type:<col>` like any text that is no number."""
    doubles = [c for c in spec.columns if c.type is ColumnType.DOUBLE]
    if not doubles:
        return "SELECT * FROM utc"
    kept = ", ".join(f"CASE WHEN isfinite({_p(c)}) THEN {_p(c)} END AS {_p(c)}" for c in doubles)
    return f"SELECT * REPLACE ({kept}) FROM utc"


def outlier_columns(spec: DatasetSpec) -> list[ColumnSpec]:
    return [
        c for c in spec.columns if c.outliers and c.type in (ColumnType.DOUBLE, ColumnType.BIGINT)
    ]


def outlier_stats_sql(spec: DatasetSpec) -> str | None:
    columns = outlier_columns(spec)
    if not columns:
        return None
    stats = ", ".join(
        f"avg({q(c.name)}), stddev_pop({q(c.name)}), count({q(c.name)})" for c in columns
    )
    return f"SELECT {stats} FROM staged WHERE len(failed_rules) = 0"


MIN_ROWS_FOR_OUTLIERS = 10


def outlier_flag_exprs(
    spec: DatasetSpec, stats: tuple[float | int | None, ...] | None
) -> list[str]:
    """Flags for values beyond outlier_z standard deviations of the file's mean."""
    if stats is None:
        return []
    flags = []
    for i, column in enumerate(outlier_columns(spec)):
        mean, stddev, count = stats[3 * i], stats[3 * i + 1], stats[3 * i + 2]
        if mean is None or not stddev or (count or 0) < MIN_ROWS_FOR_OUTLIERS:
            continue
        bound = spec.outlier_z * float(stddev)
        flags.append(
            f"CASE WHEN abs({q(column.name)} - {float(mean)!r}) > {bound!r} "
            f"THEN 'outlier:{column.name}' END"
        )
    return flags


def score_expr(spec: DatasetSpec, flag_count: str) -> str:
    # Stored rounded to what it means (0.72, not 0.7200000000000001): binary floating point
    # would otherwise leak into Parquet, Athena results and every average of the score.
    penalty = f"completeness * (1.0 - {spec.flag_penalty!r} * ({flag_count}))"
    return f"round(greatest(0.0, {penalty}), {SCORE_DECIMALS})"


def amount_category_expr(spec: DatasetSpec) -> str:
    measure = q(spec.measure)
    whens = " ".join(
        f"WHEN {measure} < {band.below!r} THEN {lit(band.name)}"
        for band in spec.amount_bands
        if band.below is not None
    )
    return f"CASE {whens} ELSE {lit(spec.amount_bands[-1].name)} END"
