"""Gap detection: expected dates minus present ones, as contiguous API-sized streams."""

from __future__ import annotations

from datetime import date

import pytest
from gap_scraper.business_calendar import ExpectedDates, Span
from gap_scraper.catalogue import Periodicity, Series
from gap_scraper.domain import Stream
from gap_scraper.gaps import last_expected_day, missing_runs, plan, window_limit

USD = Series(
    info_type="CURRENCY#USD",
    source="BCB_SGS",
    sgs_code=1,
    periodicity=Periodicity.BUSINESS_DAILY,
    start_date=date(2025, 1, 2),
    no_data_after_days=7,
)
IPCA = Series(
    info_type="INDEX#IPCA",
    source="BCB_SGS",
    sgs_code=433,
    periodicity=Periodicity.MONTHLY,
    start_date=date(2024, 1, 1),
    no_data_after_days=75,
)
TODAY = date(2025, 3, 14)  # a Friday; the last expected day is Thursday 13 March


def business_days(start: date, end: date) -> list[str]:
    return ExpectedDates().between(start, end, Periodicity.BUSINESS_DAILY)


def test_a_complete_series_has_no_gap() -> None:
    present = set(business_days(USD.start_date, date(2025, 3, 13)))
    assert plan(USD, present, today=TODAY) == []


def test_an_empty_series_is_one_stream_from_its_start() -> None:
    streams = plan(USD, set(), today=TODAY)
    expected = business_days(USD.start_date, date(2025, 3, 13))
    assert streams == [Stream(date(2025, 1, 2), date(2025, 3, 13), len(expected))]


def test_one_missing_day_is_a_one_day_stream() -> None:
    present = set(business_days(USD.start_date, date(2025, 3, 13))) - {"2025-02-11"}
    assert plan(USD, present, today=TODAY) == [Stream(date(2025, 2, 11), date(2025, 2, 11), 1)]


def test_weekends_and_carnival_inside_a_hole_keep_it_one_stream() -> None:
    # Friday 28 Feb .. Thursday 6 Mar 2025: the weekend and Carnival Monday and Tuesday are
    # no gaps, so the four missing business days are one API call.
    present = set(business_days(USD.start_date, date(2025, 3, 13)))
    present -= {"2025-02-28", "2025-03-05", "2025-03-06"}
    assert plan(USD, present, today=TODAY) == [Stream(date(2025, 2, 28), date(2025, 3, 6), 3)]


def test_separate_holes_are_separate_streams_in_order() -> None:
    present = set(business_days(USD.start_date, date(2025, 3, 13)))
    present -= {"2025-01-10", "2025-01-13", "2025-02-20", "2025-03-13"}
    assert plan(USD, present, today=TODAY) == [
        Stream(date(2025, 1, 10), date(2025, 1, 13), 2),
        Stream(date(2025, 2, 20), date(2025, 2, 20), 1),
        Stream(date(2025, 3, 13), date(2025, 3, 13), 1),
    ]


def test_today_is_no_gap_yet_and_neither_are_holidays_or_weekends() -> None:
    assert last_expected_day(Periodicity.BUSINESS_DAILY, TODAY) == date(2025, 3, 13)
    present = set(business_days(USD.start_date, date(2025, 3, 14)))
    assert plan(USD, present, today=date(2025, 3, 17)) == []  # Monday: only the weekend since


def test_a_series_starting_in_the_future_has_no_gap() -> None:
    later = USD.model_copy(update={"start_date": date(2025, 6, 2)})
    assert plan(later, set(), today=TODAY) == []


def test_an_earliest_date_cuts_the_backfill() -> None:
    streams = plan(USD, set(), today=TODAY, earliest=date(2025, 3, 10))
    assert streams == [Stream(date(2025, 3, 10), date(2025, 3, 13), 4)]


def test_a_long_hole_is_cut_below_the_ten_year_window() -> None:
    old = USD.model_copy(update={"start_date": date(1999, 1, 4)})
    streams = plan(old, set(), today=date(2025, 1, 1))
    assert [(s.start, s.end) for s in streams] == [
        (date(1999, 1, 4), date(2009, 1, 2)),  # the last business day before 2009-01-04
        (date(2009, 1, 5), date(2019, 1, 4)),
        (date(2019, 1, 7), date(2024, 12, 31)),
    ]
    for stream in streams:
        assert stream.end <= window_limit(stream.start)
    assert sum(s.missing for s in streams) == len(
        business_days(date(1999, 1, 4), date(2024, 12, 31))
    )


def test_the_window_limit_is_one_day_short_of_ten_years() -> None:
    assert window_limit(date(2015, 3, 2)) == date(2025, 3, 1)
    assert window_limit(date(2016, 2, 29)) == date(2026, 2, 28)


def test_monthly_series_expect_the_first_of_every_ended_month() -> None:
    assert last_expected_day(Periodicity.MONTHLY, TODAY) == date(2025, 2, 1)
    present = {f"2024-{m:02d}-01" for m in range(1, 13)} - {"2024-05-01"}
    assert plan(IPCA, present, today=TODAY) == [
        Stream(date(2024, 5, 1), date(2024, 5, 1), 1),
        Stream(date(2025, 1, 1), date(2025, 2, 1), 2),
    ]


@pytest.mark.parametrize(
    ("present", "runs"),
    [
        ("abcdef", []),
        ("", [(0, 5)]),
        ("a cd f", [(1, 1), (4, 4)]),
        (" bcde ", [(0, 0), (5, 5)]),
    ],
)
def test_missing_runs_group_consecutive_expected_dates(
    present: str, runs: list[tuple[int, int]]
) -> None:
    days = list("abcdef")
    span = Span(days, frozenset(days), {d: i for i, d in enumerate(days)})
    assert missing_runs(span, set(present) - {" "}) == runs
