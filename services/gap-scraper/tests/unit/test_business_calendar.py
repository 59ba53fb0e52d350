"""The bank business calendar: ANBIMA's national holidays, day by day, and the movable ones."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest
from gap_scraper.business_calendar import ExpectedDates, is_business_day, national_holidays
from gap_scraper.catalogue import Periodicity

ANBIMA = Path(__file__).parent / "data" / "anbima-holidays.txt"


def anbima_holidays() -> set[date]:
    """ANBIMA's holidays on weekdays (the list also has a few that fall on a weekend, such as
    Easter Sunday 2000, which change nothing for business days)."""
    lines = ANBIMA.read_text("utf-8").splitlines()
    days = {date.fromisoformat(line) for line in lines if line and not line.startswith("#")}
    return {day for day in days if day.weekday() < 5}


def test_holidays_are_anbimas_national_holidays_2000_to_2099() -> None:
    anbima = anbima_holidays()
    ours = {
        day for year in range(2000, 2100) for day in national_holidays(year) if day.weekday() < 5
    }
    assert sorted(ours ^ anbima) == []


def test_b3_calendar_agrees_on_every_national_holiday_2000_to_2030() -> None:
    # The other maintained source, read without our December rule: it must hold every ANBIMA
    # holiday, and differ only by the exchange's own closings (24 and last business day of Dec).
    years = range(2000, 2031)
    exchange = {d for d in holidays.financial_holidays("BVMF", years=years) if d.weekday() < 5}
    anbima = {d for d in anbima_holidays() if d.year in years}
    assert anbima <= exchange
    extra = sorted(exchange - anbima)
    assert extra, "B3 closes on 24 and 31 December since 2018"
    assert all(d.month == 12 and d.day in (24, 29, 30, 31) and d.year >= 2018 for d in extra)


@pytest.mark.parametrize(
    ("day", "what"),
    [
        (date(2025, 3, 3), "Carnival Monday"),
        (date(2025, 3, 4), "Carnival Tuesday"),
        (date(2025, 4, 18), "Good Friday"),
        (date(2025, 6, 19), "Corpus Christi"),
        (date(2024, 2, 12), "Carnival Monday, leap year"),
        (date(2024, 11, 20), "Black Awareness Day, national from 2024"),
        (date(2026, 4, 21), "Tiradentes"),
        (date(2026, 12, 25), "Christmas"),
        (date(2026, 1, 1), "New Year"),
    ],
)
def test_holidays_are_not_business_days(day: date, what: str) -> None:
    assert not is_business_day(day), what


@pytest.mark.parametrize(
    ("day", "what"),
    [
        (date(2023, 11, 20), "20 November before Lei 14.759"),
        (date(2024, 12, 24), "Christmas Eve: banks open, PTAX published"),
        (date(2024, 12, 31), "last day of the year: PTAX published"),
        (date(2025, 3, 5), "Ash Wednesday"),
        (date(2025, 4, 17), "Holy Thursday since 2000"),
    ],
)
def test_exchange_only_closings_and_half_days_are_business_days(day: date, what: str) -> None:
    assert is_business_day(day), what


def test_weekends_are_not_business_days() -> None:
    saturday = date(2026, 11, 28)
    assert not is_business_day(saturday)
    assert not is_business_day(saturday + timedelta(days=1))
    assert is_business_day(saturday + timedelta(days=2))


def test_expected_business_days_of_a_year_match_a_day_by_day_walk() -> None:
    expected = ExpectedDates().between(
        date(2024, 1, 1), date(2024, 12, 31), Periodicity.BUSINESS_DAILY
    )
    walked = [
        d.isoformat()
        for d in (date(2024, 1, 1) + timedelta(days=n) for n in range(366))
        if is_business_day(d)
    ]
    assert expected == walked
    assert len(expected) == 253  # 262 weekdays less 9 holidays on weekdays


def test_expected_dates_across_years_are_sliced_inclusive() -> None:
    dates = ExpectedDates()
    days = dates.between(date(2024, 12, 30), date(2025, 1, 3), Periodicity.BUSINESS_DAILY)
    assert days == ["2024-12-30", "2024-12-31", "2025-01-02", "2025-01-03"]
    months = dates.between(date(2024, 11, 15), date(2025, 2, 1), Periodicity.MONTHLY)
    assert months == ["2024-12-01", "2025-01-01", "2025-02-01"]
    assert dates.between(date(2025, 1, 2), date(2025, 1, 1), Periodicity.MONTHLY) == []
