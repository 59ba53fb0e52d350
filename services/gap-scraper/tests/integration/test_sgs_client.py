"""The SGS client against the local SGS stand-in: what is retried, how often, and how long."""

from __future__ import annotations

from datetime import date

import pytest
import requests
from gap_scraper.adapters.sgs import SgsClient
from gap_scraper.domain import (
    PermanentSourceError,
    TransientSourceError,
    UnknownSeriesError,
    WindowTooLargeError,
)
from gap_scraper_aws import Sgs

START, END = date(2026, 11, 2), date(2026, 11, 13)


def client(sgs: Sgs, sleeps: list[float], **options: float) -> SgsClient:
    return SgsClient(sgs.url, sleep=sleeps.append, **options)  # type: ignore[arg-type]


def test_an_answer_is_rows_of_the_asked_range(sgs: Sgs) -> None:
    rows = client(sgs, []).fetch(1, START, END)
    days = [r.data for r in rows]
    assert days[0] == "03/11/2026"  # 2 November (Finados) is a holiday
    assert "20/11/2026" not in days
    assert all(isinstance(r.valor, str) for r in rows)


@pytest.mark.parametrize("kind", ["500", "503", "504", "html", "xml"])
def test_transient_answers_are_retried_with_backoff(sgs: Sgs, kind: str) -> None:
    sgs.fault(kind=kind, count=2)
    sleeps: list[float] = []
    sgs_client = client(sgs, sleeps)
    assert sgs_client.fetch(1, START, END)
    assert sgs_client.http_calls == 3
    assert len(sleeps) == 2
    assert sgs.calls()[f"1:fault-{kind}"] == 2


def test_a_429_waits_at_least_its_retry_after(sgs: Sgs) -> None:
    sgs.fault(kind="429", count=1, retry_after=7)
    sleeps: list[float] = []
    assert client(sgs, sleeps, backoff_seconds=0.01).fetch(1, START, END)
    assert sleeps == [7.0]


def test_a_timeout_is_retried(sgs: Sgs) -> None:
    sgs.fault(kind="timeout", count=1, delay_seconds=1.0)
    sleeps: list[float] = []
    sgs_client = client(sgs, sleeps, read_timeout=0.2)
    assert sgs_client.fetch(1, START, END)
    assert sgs_client.http_calls == 2


def test_a_timeout_twice_is_not_tried_a_third_time(sgs: Sgs) -> None:
    sgs.fault(kind="timeout", count=3, delay_seconds=1.0)
    sgs_client = client(sgs, [], read_timeout=0.2)
    with pytest.raises(TransientSourceError) as raised:
        sgs_client.fetch(1, START, END)
    assert raised.value.timed_out
    assert sgs_client.http_calls == 2


def test_retries_end_with_the_last_error(sgs: Sgs) -> None:
    sgs.fault(kind="504")
    sgs_client = client(sgs, [], attempts=3)
    with pytest.raises(TransientSourceError, match="HTTP 504"):
        sgs_client.fetch(1, START, END)
    assert sgs_client.http_calls == 3


def test_a_window_over_ten_years_is_refused_and_not_retried(sgs: Sgs) -> None:
    sgs_client = client(sgs, [])
    with pytest.raises(WindowTooLargeError):
        sgs_client.fetch(1, date(2000, 1, 3), date(2012, 1, 2))
    assert sgs_client.http_calls == 1


def test_an_unknown_series_is_not_retried(sgs: Sgs) -> None:
    sgs_client = client(sgs, [])
    with pytest.raises(UnknownSeriesError):
        sgs_client.fetch(424242, START, END)
    assert sgs_client.http_calls == 1


def test_an_empty_range_answers_the_value_before_it(sgs: Sgs) -> None:
    # The real API's quirk, which the worker clips away.
    rows = client(sgs, []).fetch(1, date(2026, 11, 14), date(2026, 11, 15))  # a weekend
    assert [r.data for r in rows] == ["13/11/2026"]


def test_the_stand_in_caps_ultimos_at_20(sgs: Sgs) -> None:
    over = requests.get(f"{sgs.url}/dados/serie/bcdata.sgs.1/dados/ultimos/21", timeout=5)
    assert over.status_code == 400
    assert "20" in over.json()["erro"]["detail"]
    last = requests.get(f"{sgs.url}/dados/serie/bcdata.sgs.1/dados/ultimos/5", timeout=5)
    assert len(last.json()) == 5


def test_another_4xx_is_permanent(sgs: Sgs) -> None:
    class BadRequest(requests.Session):
        def get(self, url: str | bytes, **kwargs: object) -> requests.Response:  # type: ignore[override]
            return super().get(url, params={"dataInicial": "x"}, timeout=5)

    with pytest.raises(PermanentSourceError, match="HTTP 400"):
        SgsClient(sgs.url, session=BadRequest()).fetch(1, START, END)
