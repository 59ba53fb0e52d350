"""Numbers as statements write them: `R$`, a sign before, after or in parentheses (`+` for a
credit, U+2212 for a minus), and a decimal comma (1.234,56) or a decimal point (1,234.56),
decided once per file from all its values.

A value proves the decimal comma when no decimal-point file could write it (`1.234,56`, `2,50`,
`1.234.567`), and the decimal point likewise (`1,234.56`, `2.50`, `1,234,567`); `1.234` and
`1,234` prove nothing (a thousand in one style, a fraction in the other). The file is read in
the style more of its values prove, the point when none does. When values prove both styles
(two exports pasted into one file), the values of the other style fail `type:<col>` as any
unreadable number does, and so do the `1.234` / `1,234` values: they cannot be decided, and a
guess would be a thousand times off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from etl_layers.datasets import ColumnSpec, ColumnType, DatasetSpec
from etl_layers.sql import lit, q

_CURRENCY_AND_SPACES = r"(R|US)?\$|\s|\x{00A0}"
# A `+` before the digits, once the currency and spaces are gone: a credit as some banks
# write it (`+R$ 10,00`).
_PLUS = r"^\+(\d)"
# The minus sign spreadsheets and PDF conversions write (U+2212) is a minus.
_MINUS = "\u2212"
_SIGN = r"^[(-]|[)-]$"
# A sign as statements write it: `-1,00`, `1,00-` or `(1,00)`, once `R$`/`$` and spaces go.
_SIGNED = r"^(\([\d.,]+\)|-[\d.,]+|[\d.,]+-)$"
_COMMA_DECIMAL = r"^(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$"
_THOUSANDS_DOT_DECIMAL = r"^-?\d{1,3}(,\d{3})+(\.\d+)?$"
_PROVES_COMMA = r"^(\d{1,3}(\.\d{3})*,\d+|\d+,\d+|\d{1,3}(\.\d{3}){2,})$"
_PROVES_DOT = r"^(\d{1,3}(,\d{3})*\.\d+|\d+\.\d+|\d{1,3}(,\d{3}){2,})$"
AMBIGUOUS = r"^\d{1,3}[.,]\d{3}$"
_SIGNED_AMBIGUOUS = r"^[-+]?\d{1,3}\.\d{3}$"

COMMA_FORM = "1.234,56"
DOT_FORM = "1,234.56"


@dataclass(frozen=True)
class DecimalStyle:
    """How one file's numbers are read, and the values that decided it."""

    comma: bool = False
    example: str | None = None
    # A value proving the other style: set when the file writes both.
    other_example: str | None = None

    @property
    def form(self) -> str:
        return COMMA_FORM if self.comma else DOT_FORM

    @property
    def mixed(self) -> bool:
        return self.other_example is not None

    def describe(self) -> dict[str, str | None]:
        return {
            "format": self.form,
            "decided_by": "values" if self.example else "default",
            "example": self.example,
            "other_example": self.other_example,
        }


def numeric_columns(spec: DatasetSpec) -> list[ColumnSpec]:
    return [c for c in spec.columns if c.type in (ColumnType.DOUBLE, ColumnType.BIGINT)]


def cleaned(v: str) -> str:
    bare = f"regexp_replace(replace({v}, {lit(_MINUS)}, '-'), {lit(_CURRENCY_AND_SPACES)}, '', 'g')"
    return f"regexp_replace({bare}, {lit(_PLUS)}, '\\1')"


def unsigned(v: str) -> str:
    return f"regexp_replace({cleaned(v)}, {lit(_SIGN)}, '', 'g')"


def _kind_expr(text: str) -> str:
    """'comma' or 'dot' when the trimmed text `text` proves that style, else NULL.

    Text DuckDB casts as it is and that holds a `.` (`-12.50`) proves the point unless it is
    `1.234`; it is most values of most files, so only the rest goes through the regexes."""
    u = unsigned(text)
    return (
        f"CASE WHEN NOT (contains({text}, ',') OR contains({text}, '.')) THEN NULL "
        f"WHEN TRY_CAST({text} AS DOUBLE) IS NOT NULL THEN "
        f"CASE WHEN regexp_matches({text}, {lit(_SIGNED_AMBIGUOUS)}) THEN NULL ELSE 'dot' END "
        f"WHEN regexp_matches({u}, {lit(AMBIGUOUS)}) THEN NULL "
        f"WHEN regexp_matches({u}, {lit(_PROVES_COMMA)}) THEN 'comma' "
        f"WHEN regexp_matches({u}, {lit(_PROVES_DOT)}) THEN 'dot' END"
    )


def evidence_sql(spec: DatasetSpec) -> tuple[list[str], list[str]]:
    """Projections over `raw_rows` (each numeric column's text and the style it proves) and
    aggregates over them, two per column: how many values prove the decimal comma, and the
    point, with one of each."""
    projections, parts = [], []
    for column in numeric_columns(spec):
        v, kind = q("n__" + column.name), q("k__" + column.name)
        text = f"trim({q(column.name)})"
        projections.append(f"{text} AS {v}, {_kind_expr(text)} AS {kind}")
        for style in ("comma", "dot"):
            proves = f"{kind} = '{style}'"
            parts.append(
                f"{{'n': count(*) FILTER (WHERE {proves}), "
                f"'example': min({v}) FILTER (WHERE {proves})}}"
            )
    return projections, parts


def decide(values: Sequence[Any]) -> DecimalStyle:
    """The file's style from the values `evidence_sql` yields, over all numeric columns."""
    comma, dot = values[0::2], values[1::2]
    comma_n, dot_n = sum(v["n"] for v in comma), sum(v["n"] for v in dot)
    comma_example = next((v["example"] for v in comma if v["example"] is not None), None)
    dot_example = next((v["example"] for v in dot if v["example"] is not None), None)
    if comma_n > dot_n:
        return DecimalStyle(comma=True, example=comma_example, other_example=dot_example)
    return DecimalStyle(comma=False, example=dot_example, other_example=comma_example)


def _body(x: str, style: DecimalStyle) -> str:
    if style.comma:
        # Only 1.234,56 shapes: `1.5` in a decimal-comma file is no number, not 15.
        return (
            f"CASE WHEN regexp_matches({x}, {lit(_COMMA_DECIMAL)}) "
            f"THEN replace(replace({x}, '.', ''), ',', '.') END"
        )
    # Only text with a comma can hold a thousands separator: the rest skips the regex.
    return (
        f"CASE WHEN contains({x}, ',') AND regexp_matches({x}, {lit(_THOUSANDS_DOT_DECIMAL)}) "
        f"THEN replace({x}, ',', '') ELSE {x} END"
    )


def text_expr(v: str, style: DecimalStyle) -> str:
    """SQL turning the trimmed text `v` into a number's text DuckDB casts exactly (NULL when
    it is no number in `style`, or cannot be decided in a file of both styles)."""
    c, u = cleaned(v), unsigned(v)
    signed = (
        f"CASE WHEN regexp_matches({c}, {lit(_SIGNED)}) "
        f"THEN '-' || {_body(u, style)} ELSE {_body(c, style)} END"
    )
    if not style.mixed:
        return signed
    return f"CASE WHEN regexp_matches({u}, {lit(AMBIGUOUS)}) THEN NULL ELSE {signed} END"


def _whole(text: str) -> str:
    # DuckDB rounds '1.5' cast to BIGINT to 2: a fraction is no whole number, so it fails.
    exact = f"TRY_CAST({text} AS DECIMAL(38, 18))"
    return (
        f"CASE WHEN contains({text}, '.') THEN "
        f"CASE WHEN {exact} % 1 = 0 THEN TRY_CAST({exact} AS BIGINT) END "
        f"ELSE TRY_CAST({text} AS BIGINT) END"
    )


def parse_expr(v: str, style: DecimalStyle, sql_type: str) -> str:
    """SQL reading the trimmed text `v` as a number of `sql_type` (DOUBLE or BIGINT), NULL
    when it is none (for BIGINT, also when it has a fraction)."""
    text = text_expr(v, style)
    if sql_type == "BIGINT":
        exact, as_is = (
            _whole(text),
            f"CASE WHEN NOT contains({v}, '.') THEN TRY_CAST({v} AS BIGINT) END",
        )
    else:
        exact, as_is = f"TRY_CAST({text} AS {sql_type})", f"TRY_CAST({v} AS {sql_type})"
    if style.comma or style.mixed:
        return exact
    # In a decimal-point file, text DuckDB casts as it is (`-12.50`, `7`) reads the same as
    # through the cleaning above, which only changes text with `R$`, `,`, `(`, spaces or a
    # sign after the number, and none of those casts: COALESCE runs the regexes on the rest.
    return f"COALESCE({as_is}, {exact})"


def error_expr(column: ColumnSpec, v: str, p: str, style: DecimalStyle) -> str:
    """Why `v` did not parse as a number, naming the value and the form expected."""
    name = column.name
    separator = "comma" if style.comma else "point"
    expected = f" is not a number as {style.form} (decimal {separator}, as the file is read)"
    if column.type is ColumnType.BIGINT:
        expected = " is not a whole number"
    plain = (
        f"CASE WHEN {v} IS NOT NULL AND {p} IS NULL THEN "
        f"{lit(name + ' ')} || {v} || {lit(expected)} END"
    )
    if not style.mixed:
        return plain
    comma_example, dot_example = (
        (style.example, style.other_example)
        if style.comma
        else (style.other_example, style.example)
    )
    both = (
        f" could be read either way: the file writes numbers both as {DOT_FORM} "
        f"(such as {dot_example}) and as {COMMA_FORM} (such as {comma_example})"
    )
    return (
        f"CASE WHEN {v} IS NOT NULL AND {p} IS NULL AND regexp_matches({unsigned(v)}, "
        f"{lit(AMBIGUOUS)}) THEN {lit(name + ' ')} || {v} || {lit(both)} ELSE {plain} END"
    )
