"""The Brazilian bank business calendar, and the dates a series is expected to have.

Holidays come from the `holidays` package's B3 calendar (`financial_holidays("BVMF")`):
rule-based and maintained (Carnival Monday and Tuesday, Good Friday and Corpus Christi from
Easter; 20 November from 2024 by Lei 14.759; Holy Thursday until 1999). B3 also closes on
24 December and on the last business day of the year (since 2018), when banks open and the
SGS publishes values (PTAX included), so those two exchange-only closings are left out: no
national holiday falls in December but Christmas. The result is ANBIMA's list of national
holidays, which tests/unit/test_business_calendar.py checks day by day over 2000-2099.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, timedelta, timezone
from functools import cache
from threading import Lock
from typing import NamedTuple

import holidays

from gap_scraper.catalogue import Periodicity

_ONE_DAY = timedelta(days=1)
BRASILIA = timezone(timedelta(hours=-3), "BRT")
"""The SGS dates its values in Brasília time, UTC-3 all year since 2019 (no summer time)."""


@cache
def national_holidays(year: int) -> frozenset[date]:
    """Bank holidays of one year (national holidays; weekends are not listed)."""
    exchange = holidays.financial_holidays("BVMF", years=year)
    return frozenset(day for day in exchange if day.month != 12 or day.day == 25)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in national_holidays(day.year)


def _year_dates(year: int, periodicity: Periodicity) -> list[str]:
    if periodicity is Periodicity.MONTHLY:
        return [date(year, month, 1).isoformat() for month in range(1, 13)]
    closed = national_holidays(year)
    day, days = date(year, 1, 1), []
    while day.year == year:
        if day.weekday() < 5 and day not in closed:
            days.append(day.isoformat())
        day += _ONE_DAY
    return days


class Span(NamedTuple):
    """The expected dates of one range: in order, as a set, and each one's position."""

    days: list[str]
    members: frozenset[str]
    position: dict[str, int]


class ExpectedDates:
    """Expected dates as sorted ISO strings (the table's sort key), built once per year.

    Strings rather than `date`s because the sort keys read from the table are strings: gap
    detection is then a set difference with no parsing (BENCHMARKS.md). Series sharing a range
    (most share the run's last day and often their start) share one Span.
    """

    SPANS = 64

    def __init__(self) -> None:
        self._years: dict[tuple[int, Periodicity], list[str]] = {}
        self._spans: dict[tuple[date, date, Periodicity], Span] = {}
        self._lock = Lock()

    def span(self, start: date, end: date, periodicity: Periodicity) -> Span:
        key = (start, end, periodicity)
        found = self._spans.get(key)
        if found is None:
            days = self.between(start, end, periodicity)
            found = Span(days, frozenset(days), {day: i for i, day in enumerate(days)})
            with self._lock:
                if len(self._spans) >= self.SPANS:
                    self._spans.pop(next(iter(self._spans)))
                self._spans[key] = found
        return found

    def between(self, start: date, end: date, periodicity: Periodicity) -> list[str]:
        """Expected dates from `start` to `end`, both inclusive, in order."""
        if end < start:
            return []
        found: list[str] = []
        for year in range(start.year, end.year + 1):
            days = self._year(year, periodicity)
            lo = bisect_left(days, start.isoformat()) if year == start.year else 0
            hi = bisect_right(days, end.isoformat()) if year == end.year else len(days)
            found.extend(days[lo:hi])
        return found

    def _year(self, year: int, periodicity: Periodicity) -> list[str]:
        key = (year, periodicity)
        days = self._years.get(key)
        if days is None:
            with self._lock:
                days = self._years.setdefault(key, _year_dates(year, periodicity))
        return days


EXPECTED = ExpectedDates()
"""One process-wide cache: a warm Lambda computes each year's calendar once."""
