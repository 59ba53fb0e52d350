"""Gap detection: which expected dates of a series are missing, as API-sized contiguous runs."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Container, Sequence
from datetime import date, timedelta

from gap_scraper.business_calendar import EXPECTED, ExpectedDates
from gap_scraper.catalogue import Periodicity, Series
from gap_scraper.domain import Stream

WINDOW_YEARS = 10
"""The SGS API answers at most ten years of a daily series per call (HTTP 406 beyond)."""


def window_limit(start: date, years: int = WINDOW_YEARS) -> date:
    """The last day one call starting at `start` may ask for: one day short of `years` on."""
    try:
        return start.replace(year=start.year + years) - timedelta(days=1)
    except ValueError:  # 29 February has no twin `years` on
        return start.replace(year=start.year + years, day=28)


def last_expected_day(periodicity: Periodicity, today: date) -> date:
    """The latest date a run may expect a value for.

    A business-daily value is published during its day, so today is left for the next run; a
    monthly value exists only once its month has ended, so the current month is not a gap.
    """
    if periodicity is Periodicity.MONTHLY:
        previous = today.replace(day=1) - timedelta(days=1)
        return previous.replace(day=1)
    return today - timedelta(days=1)


def first_expected_day(series: Series, earliest: date | None) -> date:
    """The series' start, or `earliest` when that is later (a backfill horizon)."""
    start = series.start_date if earliest is None else max(series.start_date, earliest)
    if series.periodicity is Periodicity.MONTHLY and start.day != 1:
        return (start.replace(day=1) + timedelta(days=32)).replace(day=1)
    return start


def missing_runs(expected: Sequence[str], present: Container[str]) -> list[tuple[int, int]]:
    """Index ranges (inclusive) of `expected` absent from `present`: consecutive expected dates
    are one run, since the weekends and holidays between them are no gaps."""
    missing = [i for i, day in enumerate(expected) if day not in present]
    runs: list[tuple[int, int]] = []
    if not missing:
        return runs
    first = last = missing[0]
    for index in missing[1:]:
        if index != last + 1:
            runs.append((first, last))
            first = index
        last = index
    runs.append((first, last))
    return runs


def split_run(expected: Sequence[str], first: int, last: int) -> list[Stream]:
    """One run of missing expected dates as streams none of which exceeds the API's window."""
    streams: list[Stream] = []
    while first <= last:
        start = date.fromisoformat(expected[first])
        limit = window_limit(start).isoformat()
        end = min(last, bisect_right(expected, limit, first, last + 1) - 1)
        streams.append(Stream(start, date.fromisoformat(expected[end]), end - first + 1))
        first = end + 1
    return streams


def plan(
    series: Series,
    present: Container[str],
    *,
    today: date,
    earliest: date | None = None,
    expected: ExpectedDates = EXPECTED,
) -> list[Stream]:
    """The download streams that would make `series` complete, given the dates `present`."""
    start = first_expected_day(series, earliest)
    end = last_expected_day(series.periodicity, today)
    days = expected.between(start, end, series.periodicity)
    streams: list[Stream] = []
    for first, last in missing_runs(days, present):
        streams.extend(split_run(days, first, last))
    return streams
