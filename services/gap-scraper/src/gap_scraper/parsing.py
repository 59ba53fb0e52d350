"""Read an SGS answer exactly: `data` as dd/MM/yyyy, `valor` as a decimal string, never coerced.

A row that cannot be read exactly is quarantined with its reason: a dated row becomes a
QUARANTINED item (its day is then no gap, and an operator sees it in the table), an undated row
is reported only. Rows outside the asked range are dropped: for a period without data the API
can answer with the last value before it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from gap_scraper.domain import ItemStatus, SeriesItem, SgsRow

_DATE = re.compile(r"(\d{2})/(\d{2})/(\d{4})")
_DECIMAL = re.compile(r"-?\d+(?:\.\d+)?")
MAX_DIGITS = 38
"""DynamoDB numbers keep at most 38 significant digits; more would be rounded or refused."""


class RowError(ValueError):
    """Why one row cannot be read exactly."""


def parse_day(text: object) -> date:
    if not isinstance(text, str):
        raise RowError(f"data is {type(text).__name__}, not a dd/MM/yyyy string")
    match = _DATE.fullmatch(text)
    if match is None:
        raise RowError("data is not dd/MM/yyyy")
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise RowError(f"data is not a calendar day: {exc}") from exc


def parse_value(text: object) -> tuple[Decimal, str]:
    """The exact decimal and its canonical text (no exponent), as stored in the table."""
    if not isinstance(text, str):
        # A JSON number has already been through a binary float: it is not exact any more.
        raise RowError(f"valor is {type(text).__name__}, not a decimal string")
    if _DECIMAL.fullmatch(text) is None:
        raise RowError("valor is not a decimal written with digits and '.'")
    value = Decimal(text)
    # Counted by hand: normalize() would round to the context's 28 digits first.
    significant = "".join(map(str, value.as_tuple().digits)).strip("0")
    if len(significant) > MAX_DIGITS:
        raise RowError(f"valor has more than {MAX_DIGITS} significant digits")
    return value, format(value, "f")


@dataclass
class Answer:
    """An SGS answer read for one range: values and quarantined rows by day."""

    values: dict[date, SeriesItem] = field(default_factory=dict)
    quarantined: dict[date, SeriesItem] = field(default_factory=dict)
    undated: list[tuple[str, str]] = field(default_factory=list)  # (raw row, reason)
    outside_range: int = 0

    def _quarantine(self, info_type: str, day: date, raw: str, reason: str) -> None:
        self.values.pop(day, None)
        self.quarantined[day] = SeriesItem(
            info_type, day, ItemStatus.QUARANTINED, reason=reason, raw=raw
        )


def _raw(row: SgsRow) -> str:
    return f"data={row.data!r} valor={row.valor!r}"[:400]


def read_answer(info_type: str, rows: Iterable[SgsRow], start: date, end: date) -> Answer:
    answer = Answer()
    for row in rows:
        try:
            day = parse_day(row.data)
        except RowError as exc:
            answer.undated.append((_raw(row), str(exc)))
            continue
        if not start <= day <= end:
            answer.outside_range += 1
            continue
        if day in answer.quarantined:
            continue
        try:
            value, text = parse_value(row.valor)
        except RowError as exc:
            answer._quarantine(info_type, day, _raw(row), str(exc))
            continue
        seen = answer.values.get(day)
        if seen is not None and seen.value != value:
            answer._quarantine(info_type, day, _raw(row), "two different values for the day")
            continue
        answer.values[day] = SeriesItem(
            info_type, day, ItemStatus.VALUE, value=value, value_text=text
        )
    return answer
