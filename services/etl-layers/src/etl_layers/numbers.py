"""Numbers as statements write them: the dataset's currency signs (`R$`), a sign before, after
or in parentheses (`+` for a credit, U+2212 for a minus, a `D`/`C` letter after), and a
decimal comma (1.234,56) or a decimal point (1,234.56), decided once per file from all its
values.

A value proves the decimal comma when no decimal-point file could write it (`1.234,56`, `2,50`,
`1.234.567`), and the decimal point likewise (`1,234.56`, `2.50`, `1,234,567`); `1.234` and
`1,234` prove nothing (a thousand in one style, a fraction in the other). The file is read in
the style more of its values prove. When values prove both styles (two exports pasted into one
file), the values of the other style fail `type:<col>` as any unreadable number does, and so do
the `1.234` / `1,234` values: they cannot be decided, and a guess would be a thousand times
off. When no value of a file proves either, its text is read in the dataset's declared
`decimal`; a dataset declaring none reads it with the point, and its `1.234` / `1,234` values
fail, saying that no number of the file decides them (a statement of whole reais, `R$ 1.234`,
would otherwise be read as 1.234).

Only text is read in a style. A JSON number, a workbook's number cell and a Parquet number
column are numbers, written with a point (`5.899` is 5.899): they are read as they are and
prove no style, and a file of nothing else is read with the point, whatever the dataset
declares. A reader marks them, value by value, in a boolean column of `raw_rows`
(`typed_column`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from etl_layers.datasets import ColumnSpec, ColumnType, DatasetSpec, DecimalSeparator
from etl_layers.sql import lit, q

_SPACES = r"\s|\x{00A0}"
# A currency sign as written beside a number: `R$`, `US$`, `$`, `€`, `£`, `¥`.
_CURRENCY_SIGN = r"[A-Za-z]*\$|[€£¥]"
# A `+` before the digits, once the currency and spaces are gone: a credit as some banks
# write it (`+R$ 10,00`).
_PLUS = r"^\+(\d)"
# A debit or credit letter after the amount, once spaces are gone, as Banco do Brasil's
# statements write it (`1.234,56 D`, `50,00 C`): D is a minus after the number, C no sign.
_DEBIT = (r"^([\d.,]+)D$", "\\1-")
_CREDIT = (r"^([\d.,]+)C$", "\\1")
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

_PAST_BIGINT = (
    " is past a bigint's range (-9223372036854775808 to 9223372036854775807): "
    "declare the column a double or a string"
)
# A spreadsheet writes a long number it has rounded to a few digits as `1.23457E+15`.
_EXPONENT = r"^[-+]?[0-9.,]+[eE][-+]?[0-9]+$"
_SCIENTIFIC = (
    " is in scientific notation, as a spreadsheet writes a long number it has rounded: "
    "export the column as text"
)
COMMA_FORM = "1.234,56"
DOT_FORM = "1,234.56"


@dataclass(frozen=True)
class DecimalStyle:
    """How one file's numbers are read, and the values that decided it."""

    comma: bool = False
    example: str | None = None
    # A value proving the other style: set when the file writes both.
    other_example: str | None = None
    # No value proves either style and the dataset declares none: `1.234` and `1,234` fail.
    undecided: bool = False
    # No value proves either style and the dataset's `decimal` is used.
    declared: bool = False

    @property
    def form(self) -> str:
        return COMMA_FORM if self.comma else DOT_FORM

    @property
    def mixed(self) -> bool:
        return self.other_example is not None

    @property
    def refuses_ambiguous(self) -> bool:
        """Whether `1.234` / `1,234` fail: the file writes both styles, or none it decides."""
        return self.mixed or self.undecided

    def describe(self) -> dict[str, str | None]:
        decided_by = "values" if self.example else "declared" if self.declared else "default"
        return {
            "format": self.form,
            "decided_by": decided_by,
            "example": self.example,
            "other_example": self.other_example,
        }


def numeric_columns(spec: DatasetSpec) -> list[ColumnSpec]:
    return [c for c in spec.columns if c.type in (ColumnType.DOUBLE, ColumnType.BIGINT)]


def typed_name(name: str) -> str:
    """The name of the `raw_rows` column saying the value of `name` is a number, not text."""
    return f"typed__{name}"


def typed_column(name: str) -> str:
    """`typed_name` quoted, as SQL reads it."""
    return q(typed_name(name))


def _signs(currency: Sequence[str]) -> str:
    """A regex matching the dataset's currency signs, the longest first (`R$` before `$`)."""
    return "|".join(re.escape(sign) for sign in sorted(currency, key=len, reverse=True))


def cleaned(v: str, currency: Sequence[str]) -> str:
    """`v` without the dataset's currency signs, spaces and a credit's `+`, with U+2212 as
    `-`. Another currency's sign stays, so its amount is no number here."""
    removed = "|".join(p for p in (_signs(currency), _SPACES) if p)
    bare = f"regexp_replace(replace({v}, {lit(_MINUS)}, '-'), {lit(removed)}, '', 'g')"
    for pattern, replacement in (_DEBIT, _CREDIT):
        bare = f"regexp_replace({bare}, {lit(pattern)}, {lit(replacement)})"
    return f"regexp_replace({bare}, {lit(_PLUS)}, '\\1')"


def unsigned(v: str, currency: Sequence[str]) -> str:
    return f"regexp_replace({cleaned(v, currency)}, {lit(_SIGN)}, '', 'g')"


def _kind_expr(text: str, u: str) -> str:
    """'comma' or 'dot' when the trimmed text `text` proves that style, else NULL; `u` is its
    unsigned text, made only where DuckDB cannot cast `text` as it is (NULL elsewhere).

    Text DuckDB casts as it is and that holds a `.` (`-12.50`) proves the point unless it is
    `1.234`; it is most values of most files, so only the rest goes through the regexes."""
    return (
        f"CASE WHEN {text} IS NULL OR NOT (contains({text}, ',') OR contains({text}, '.')) "
        "THEN NULL "
        f"WHEN {u} IS NULL THEN "
        f"CASE WHEN regexp_matches({text}, {lit(_SIGNED_AMBIGUOUS)}) THEN NULL ELSE 'dot' END "
        f"WHEN regexp_matches({u}, {lit(AMBIGUOUS)}) THEN NULL "
        f"WHEN regexp_matches({u}, {lit(_PROVES_COMMA)}) THEN 'comma' "
        f"WHEN regexp_matches({u}, {lit(_PROVES_DOT)}) THEN 'dot' END"
    )


def evidence_sql(
    spec: DatasetSpec, typed: Sequence[str] = ()
) -> tuple[list[str], list[str], list[str], list[str]]:
    """Over `raw_rows`: projections (each numeric column's text, and that text trimmed where
    it holds a `,` or `.`), its unsigned text where that does not cast as it is, the style each
    value proves, and aggregates over them, two per column: how many values prove the decimal
    comma, and the point, with one of each, and how many values are text. The values of the
    columns in `typed` that are numbers are no text: they prove nothing.

    Four steps, so the regexes run once per value, and only on values that need them: an
    expression used twice in one step is computed for every row, whatever CASE it is in. Only
    a text with a separator can prove a style (the trim keeps both), so only those are
    trimmed: most values of an integer column are not."""
    projections, unsigned_texts, kinds, parts = [], [], [], []
    for column in numeric_columns(spec):
        r, v, u, kind = (q(f"{prefix}__{column.name}") for prefix in ("r", "n", "u", "k"))
        raw = q(column.name)
        if column.name in typed:
            raw = f"CASE WHEN NOT {typed_column(column.name)} THEN {raw} END"
        projections.append(
            f"{raw} AS {r}, "
            f"CASE WHEN contains({raw}, ',') OR contains({raw}, '.') THEN trim({raw}) END AS {v}"
        )
        unsigned_texts.append(
            f"CASE WHEN TRY_CAST({v} AS DOUBLE) IS NULL THEN {unsigned(v, spec.currency)} END "
            f"AS {u}"
        )
        kinds.append(f"{_kind_expr(v, u)} AS {kind}")
        for style in ("comma", "dot"):
            proves = f"{kind} = '{style}'"
            parts.append(
                f"{{'n': count(*) FILTER (WHERE {proves}), "
                f"'example': min({v}) FILTER (WHERE {proves}), 'texts': count({r})}}"
            )
    return projections, unsigned_texts, kinds, parts


def decide(
    values: Sequence[Any], declared: DecimalSeparator | None = None, *, text: bool = True
) -> DecimalStyle:
    """The file's style from the values `evidence_sql` yields, over all numeric columns; the
    dataset's `declared` separator when none proves either. `text`: the file's numbers can be
    text (a CSV file's always are); a file whose numbers are all numbers (JSON numbers, number
    cells) has no text to read in a style, so it is read with the point."""
    comma, dot = values[0::2], values[1::2]
    comma_n, dot_n = sum(v["n"] for v in comma), sum(v["n"] for v in dot)
    text = text or any(v["texts"] for v in comma)
    if comma_n == dot_n == 0:
        if declared is None or not text:
            return DecimalStyle(undecided=text)
        return DecimalStyle(comma=declared is DecimalSeparator.COMMA, declared=True)
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


@dataclass(frozen=True)
class Steps:
    """The columns one numeric column's text `v` is read through, each made in a step of the
    staging of its own (`staging_steps`): `fast`, the value DuckDB casts from the text as it
    is; `cleaned`, the text as `cleaned()` leaves it, made only where `fast` is NULL;
    `unsigned`, that without its sign; `text`, the number's text DuckDB casts exactly.

    An expression used twice in one step is computed for every row, whatever CASE it is in:
    as columns of earlier steps, the regexes run once per value, on the values that need them.
    """

    v: str
    fast: str
    cleaned: str
    unsigned: str
    text: str

    @classmethod
    def of(cls, v: str, name: str) -> Steps:
        fast, cleaned_, unsigned_, text = (q(f"{p}__{name}") for p in ("f", "c", "u", "t"))
        return cls(v, fast, cleaned_, unsigned_, text)


# DuckDB's casts read more than statements write: `0x10` and `0b101` as 16 and 5, `1_000` as
# 1000, `1e-3` as the bigint 0, `+-212` as -212. A bigint's text is digits (and a `.000...`
# fraction); no number's text holds an underscore or two signs.
_BIGINT_TEXT = r"-?[0-9]+(\.[0-9]*)?"
_PLAIN_BIGINT = r"[+-]?[0-9]+"


def _plain_cast(v: str, sql_type: str) -> str:
    # The cast also reads `+-212` as -212: two signs are no number either.
    return (
        f"CASE WHEN NOT (contains({v}, '_') OR contains({v}, '+-')) "
        f"THEN TRY_CAST({v} AS {sql_type}) END"
    )


def _as_is(v: str, sql_type: str) -> str:
    if sql_type == "BIGINT":
        plain = f"regexp_full_match({v}, {lit(_PLAIN_BIGINT)})"
        return f"CASE WHEN {plain} THEN TRY_CAST({v} AS BIGINT) END"
    return _plain_cast(v, sql_type)


def _has_fast_path(style: DecimalStyle) -> bool:
    # In a decimal-point file, text DuckDB casts as it is (`-12.50`, `7`) reads the same as
    # through the cleaning, which only changes text with `R$`, `,`, `(`, spaces or a sign
    # after the number, and none of those casts: only the rest is cleaned.
    return not (style.comma or style.refuses_ambiguous)


def staging_steps(
    steps: Steps,
    style: DecimalStyle,
    sql_type: str,
    currency: Sequence[str],
    typed: str | None = None,
) -> list[list[str]]:
    """The projections of each step, in order, that make `steps`' columns. `typed`, when
    given, is the column saying a value is a number: its text is read as it is, in no style."""
    text = text_expr(steps.cleaned, steps.unsigned, style)
    if typed is not None:
        text = f"CASE WHEN {typed} THEN {steps.v} ELSE {text} END"
    if _has_fast_path(style):
        as_is = _as_is(steps.v, sql_type)
        first = [
            f"{as_is} AS {steps.fast}",
            f"CASE WHEN {as_is} IS NULL THEN {cleaned(steps.v, currency)} END AS {steps.cleaned}",
        ]
    else:
        bare = cleaned(steps.v, currency)
        first = [
            f"NULL::{sql_type} AS {steps.fast}",
            f"{bare if typed is None else f'CASE WHEN NOT {typed} THEN {bare} END'} "
            f"AS {steps.cleaned}",
        ]
    return [
        first,
        [f"regexp_replace({steps.cleaned}, {lit(_SIGN)}, '', 'g') AS {steps.unsigned}"],
        [f"{text} AS {steps.text}"],
    ]


def text_expr(c: str, u: str, style: DecimalStyle) -> str:
    """SQL turning cleaned text `c` (and `u`, it unsigned) into a number's text DuckDB casts
    exactly (NULL when it is no number in `style`, or cannot be decided in a file of both
    styles)."""
    signed = (
        f"CASE WHEN regexp_matches({c}, {lit(_SIGNED)}) "
        f"THEN '-' || {_body(u, style)} ELSE {_body(c, style)} END"
    )
    if not style.refuses_ambiguous:
        return signed
    return f"CASE WHEN regexp_matches({u}, {lit(AMBIGUOUS)}) THEN NULL ELSE {signed} END"


def _whole(text: str) -> str:
    # DuckDB rounds '1.5' cast to BIGINT to 2: a fraction is no whole number, so it fails.
    exact = f"TRY_CAST({text} AS DECIMAL(38, 18))"
    return (
        f"CASE WHEN NOT regexp_full_match({text}, {lit(_BIGINT_TEXT)}) THEN NULL "
        f"WHEN contains({text}, '.') THEN "
        f"CASE WHEN {exact} % 1 = 0 THEN TRY_CAST({exact} AS BIGINT) END "
        f"ELSE TRY_CAST({text} AS BIGINT) END"
    )


def parse_expr(steps: Steps, style: DecimalStyle, sql_type: str) -> str:
    """SQL reading the column of `steps` as a number of `sql_type` (DOUBLE or BIGINT), NULL
    when it is none (for BIGINT, also when it has a fraction)."""
    exact = _whole(steps.text) if sql_type == "BIGINT" else _plain_cast(steps.text, sql_type)
    if not _has_fast_path(style):
        return exact
    return f"COALESCE({steps.fast}, {exact})"


def error_expr(
    column: ColumnSpec, steps: Steps, p: str, style: DecimalStyle, currency: Sequence[str]
) -> str:
    """Why the text did not parse as a number, naming the value and the form expected (or
    the currency, when it is another's)."""
    v = steps.v
    name = column.name
    failed = f"{v} IS NOT NULL AND {p} IS NULL"
    sign = f"regexp_extract({v}, {lit(_CURRENCY_SIGN)})"
    declared = f"it reads {', '.join(currency)}" if currency else "it declares none"
    # Failures whose cause is known beyond the form: another currency, a bigint's range.
    known = (
        f"WHEN {failed} AND {sign} NOT IN ({', '.join([lit(''), *map(lit, currency)])}) THEN "
        f"{lit(name + ' ')} || {v} || "
        f"{lit(f' is in a currency the dataset does not declare ({declared})')} "
    )
    separator = "comma" if style.comma else "point"
    expected = f" is not a number as {style.form} (decimal {separator}, as the file is read)"
    if column.type is ColumnType.BIGINT:
        expected = " is not a whole number"
        # A whole number can still fail: past what a bigint holds (9,223,372,036,854,775,807).
        number = f"TRY_CAST({steps.text} AS DOUBLE)"
        known += (
            f"WHEN {failed} AND regexp_matches({v}, {lit(_EXPONENT)}) THEN "
            f"{lit(name + ' ')} || {v} || {lit(_SCIENTIFIC)} "
            f"WHEN {failed} AND {number} % 1 = 0 AND abs({number}) >= 9.2e18 THEN "
            f"{lit(name + ' ')} || {v} || {lit(_PAST_BIGINT)} "
        )
    plain = f"CASE {known}WHEN {failed} THEN {lit(name + ' ')} || {v} || {lit(expected)} END"
    if not style.refuses_ambiguous:
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
    if style.undecided:
        both = (
            f" could be read either way ({COMMA_FORM} or {DOT_FORM}), and no number of the "
            "file decides which: declare the dataset's decimal (comma or point)"
        )
    return (
        f"CASE {known}WHEN {failed} AND regexp_matches({steps.unsigned}, "
        f"{lit(AMBIGUOUS)}) THEN {lit(name + ' ')} || {v} || {lit(both)} ELSE {plain} END"
    )
