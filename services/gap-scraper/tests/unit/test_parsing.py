"""Reading SGS rows exactly: dd/MM/yyyy dates, decimal strings, nothing coerced."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from gap_scraper.domain import ItemStatus, SgsRow
from gap_scraper.parsing import RowError, parse_day, parse_value, read_answer

START, END = date(2025, 3, 3), date(2025, 3, 7)


def test_values_are_exact_decimals_with_their_text() -> None:
    assert parse_value("5.1234") == (Decimal("5.1234"), "5.1234")
    assert parse_value("-0.10") == (Decimal("-0.10"), "-0.10")
    assert parse_value("0.0000001") == (Decimal("0.0000001"), "0.0000001")  # no 1E-7
    assert parse_value("12") == (Decimal(12), "12")


@pytest.mark.parametrize(
    ("valor", "why"),
    [
        ("5,1234", "not a decimal"),
        ("", "not a decimal"),
        ("1e3", "not a decimal"),
        ("NaN", "not a decimal"),
        (" 5.1", "not a decimal"),
        ("+5.1", "not a decimal"),
        (5.1234, "float, not a decimal string"),
        (None, "NoneType"),
        ("1" * 39, "more than 38"),
    ],
)
def test_values_that_cannot_be_read_exactly_are_refused(valor: object, why: str) -> None:
    with pytest.raises(RowError, match=why):
        parse_value(valor)


def test_dates_are_day_month_year() -> None:
    assert parse_day("03/02/2025") == date(2025, 2, 3)
    for bad in ("2025-02-03", "3/2/2025", "31/02/2025", "03/02/25", 20250203):
        with pytest.raises(RowError):
            parse_day(bad)


def test_an_answer_becomes_values_quarantined_and_undated_rows() -> None:
    rows = [
        SgsRow("03/03/2025", "5.80"),
        SgsRow("04/03/2025", "5,81"),
        SgsRow("05/03/2025", "5.82"),
        SgsRow("05/03/2025", "5.82"),  # the same row twice is one value
        SgsRow("06/03/2025", "5.83"),
        SgsRow("06/03/2025", "5.84"),  # two values for a day: neither is trusted
        SgsRow("2025-03-07", "5.85"),
    ]
    answer = read_answer("CURRENCY#USD", rows, START, END)
    assert {d: i.value for d, i in answer.values.items()} == {
        date(2025, 3, 3): Decimal("5.80"),
        date(2025, 3, 5): Decimal("5.82"),
    }
    assert {d: i.reason for d, i in answer.quarantined.items()} == {
        date(2025, 3, 4): "valor is not a decimal written with digits and '.'",
        date(2025, 3, 6): "two different values for the day",
    }
    assert all(i.status is ItemStatus.QUARANTINED for i in answer.quarantined.values())
    assert answer.quarantined[date(2025, 3, 4)].raw == "data='04/03/2025' valor='5,81'"
    assert answer.undated == [("data='2025-03-07' valor='5.85'", "data is not dd/MM/yyyy")]


def test_rows_outside_the_range_are_dropped() -> None:
    # For a period without data the API answers with the last value before it.
    rows = [SgsRow("28/02/2025", "5.79"), SgsRow("10/03/2025", "5.90")]
    answer = read_answer("CURRENCY#USD", rows, START, END)
    assert answer.values == {}
    assert answer.outside_range == 2
