"""Gap detection: which expected dates of a series are missing, as API-sized contiguous runs."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from datetime import date, timedelta

from gap_scraper.business_calendar import EXPECTED, ExpectedDates, Span
from gap_scraper.catalogue import Periodicity, Series
from gap_scraper.domain import Stream

WINDOW_YEARS = 10
"""The SGS API answers at most ten years of a daily series per call (HTTP 406 beyond)."""


SHORT_RUN = 119
"""Fewer expected dates than this never span ten years (120 months; ~2,500 business days)."""


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


def missing_runs(span: Span, present: AbstractSet[str]) -> list[tuple[int, int]]:
    """Index ranges (inclusive) of the span's dates absent from `present`: consecutive expected
    dates are one run, since the weekends and holidays between them are no gaps. The set
    difference runs in C; Python only sees the missing dates."""
    missing = sorted(span.position[day] for day in span.members.difference(present))
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


def _ten_years_on(iso_day: str) -> str:
    # On ISO strings: "2016-02-29" gives "2026-02-29", which sorts right after 28 February.
    return f"{int(iso_day[:4]) + WINDOW_YEARS:04d}{iso_day[4:]}"


def split_run(expected: Sequence[str], first: int, last: int) -> list[Stream]:
    """One run of missing expected dates as streams none of which reaches ten years (the end
    stays before the start's date ten years on, i.e. at most `window_limit`)."""
    streams: list[Stream] = []
    while first <= last:
        end = bisect_left(expected, _ten_years_on(expected[first]), first, last + 1) - 1
        start_day = date.fromisoformat(expected[first])
        end_day = start_day if end == first else date.fromisoformat(expected[end])
        streams.append(Stream(start_day, end_day, end - first + 1))
        first = end + 1
    return streams


def plan(
    series: Series,
    present: AbstractSet[str],
    *,
    today: date,
    earliest: date | None = None,
    expected: ExpectedDates = EXPECTED,
) -> list[Stream]:
    """The download streams that would make `series` complete, given the dates `present`."""
    start = first_expected_day(series, earliest)
    end = last_expected_day(series.periodicity, today)
    span = expected.span(start, end, series.periodicity)
    days, streams = span.days, []
    for first, last in missing_runs(span, present):
        if last - first < SHORT_RUN:
            # Most runs are a day or a few: no window to check, one stream, few objects.
            day = date.fromisoformat(days[first])
            streams.append(
                Stream(
                    day, day if first == last else date.fromisoformat(days[last]), last - first + 1
                )
            )
        else:
            streams.extend(split_run(days, first, last))
    return streams
