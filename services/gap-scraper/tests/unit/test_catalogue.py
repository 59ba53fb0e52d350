"""The catalogue is data, checked when read."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from gap_scraper.catalogue import Periodicity, load_catalogue
from gap_scraper.domain import CatalogueError


def test_the_packaged_catalogue_has_the_sgs_series() -> None:
    catalogue = load_catalogue()
    codes = {s.info_type: (s.sgs_code, s.periodicity) for s in catalogue.series}
    assert codes == {
        "CURRENCY#USD": (1, Periodicity.BUSINESS_DAILY),
        "CURRENCY#EUR": (21619, Periodicity.BUSINESS_DAILY),
        "RATE#SELIC": (11, Periodicity.BUSINESS_DAILY),
        "RATE#CDI": (12, Periodicity.BUSINESS_DAILY),
        "INDEX#IPCA": (433, Periodicity.MONTHLY),
    }
    assert catalogue.get("CURRENCY#EUR").start_date == date(1999, 1, 4)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "series: [{info_type: 'usd', source: BCB_SGS, sgs_code: 1, periodicity: monthly,"
            " start_date: 2020-01-01, no_data_after_days: 7}]",
            "info_type",
        ),
        (
            "series: [{info_type: 'A#B', source: BCB_SGS, sgs_code: 1, periodicity: monthly,"
            " start_date: 2020-01-02, no_data_after_days: 7}]",
            "first day of a month",
        ),
        (
            "series: [{info_type: 'A#B', source: BCB_SGS, sgs_code: 1, periodicity: weekly,"
            " start_date: 2020-01-01, no_data_after_days: 7}]",
            "periodicity",
        ),
        (
            "series: [{info_type: 'A#B', source: BCB_SGS, sgs_code: 1, periodicity: monthly,"
            " start_date: 2020-01-01, no_data_after_days: 7}, {info_type: 'A#C', source: BCB_SGS,"
            " sgs_code: 1, periodicity: monthly, start_date: 2020-01-01, no_data_after_days: 7}]",
            "sgs_code listed twice: 1",
        ),
        ("series: [", "catalogue.yaml"),
    ],
)
def test_a_malformed_catalogue_says_what_is_wrong(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "catalogue.yaml"
    path.write_text(text)
    with pytest.raises(CatalogueError, match=problem):
        load_catalogue(path)
