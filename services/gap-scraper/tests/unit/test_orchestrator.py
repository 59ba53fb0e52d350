"""The orchestrator: one Query per series, one request per stream, sent ten at a time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from gap_scraper.business_calendar import ExpectedDates
from gap_scraper.catalogue import Catalogue, Periodicity, load_catalogue
from gap_scraper.domain import StoreError
from gap_scraper.orchestrator import Orchestrator, SeriesUnreadableError
from gap_scraper.ports import PresentDates
from gap_scraper_fakes import FakeQueue, FakeTable

NOW = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)  # 06:00 in Brasília, a Friday


def orchestrator(
    table: FakeTable, queue: FakeQueue, catalogue: Catalogue | None = None
) -> Orchestrator:
    return Orchestrator(
        catalogue=catalogue or load_catalogue(),
        table=table,
        queue=queue,
        earliest=date(2024, 3, 1),
    )


def fill(table: FakeTable, catalogue: Catalogue) -> None:
    for series in catalogue.series:
        table.seed(
            series.info_type,
            ExpectedDates().between(date(2024, 3, 1), date(2025, 3, 13), series.periodicity),
        )


def test_an_empty_table_asks_for_every_series_from_the_horizon() -> None:
    table, queue = FakeTable(), FakeQueue()
    summary = orchestrator(table, queue).run(run_id="run-1", now=NOW)
    assert [q[0] for q in table.queries] == [s.info_type for s in load_catalogue().series]
    by_series = {r.series_key: r for r in queue.requests}
    usd = by_series["CURRENCY#USD"]
    assert (usd.start_date, usd.end_date, usd.frequency) == (
        date(2024, 3, 1),
        date(2025, 3, 13),
        "daily",
    )
    ipca = by_series["INDEX#IPCA"]
    assert (ipca.start_date, ipca.end_date, ipca.frequency) == (
        date(2024, 3, 1),
        date(2025, 2, 1),
        "monthly",
    )
    assert ipca.missing_days == 12
    assert {r.run_id for r in queue.requests} == {"run-1"}
    assert summary.requests == 5


def test_requests_go_in_batches_of_ten() -> None:
    catalogue = load_catalogue()
    table, queue = FakeTable(), FakeQueue()
    fill(table, catalogue)
    # 23 one-day holes in USD: 23 streams, three SendMessageBatch calls (10, 10, 3).
    holes = ExpectedDates().between(
        date(2024, 4, 1), date(2024, 12, 31), Periodicity.BUSINESS_DAILY
    )
    for day in holes[::8][:23]:
        del table.items[("CURRENCY#USD", day)]
    summary = orchestrator(table, queue, catalogue).run(run_id="run-2", now=NOW)
    assert [len(b) for b in queue.batches] == [10, 10, 3]
    assert summary.batches == 3
    assert [r.start_date.isoformat() for r in queue.requests] == holes[::8][:23]


def test_a_complete_table_sends_nothing() -> None:
    catalogue = load_catalogue()
    table, queue = FakeTable(), FakeQueue()
    fill(table, catalogue)
    summary = orchestrator(table, queue, catalogue).run(run_id="run-3", now=NOW)
    assert queue.batches == []
    assert summary.requests == 0
    assert len(table.queries) == len(catalogue.series)


class FailingFor(FakeTable):
    def __init__(self, info_type: str) -> None:
        super().__init__()
        self.failing = info_type

    def present_dates(self, info_type: str, since: date) -> PresentDates:
        if info_type == self.failing:
            raise StoreError("query RATE#SELIC: ProvisionedThroughputExceededException")
        return super().present_dates(info_type, since)


def test_a_series_that_cannot_be_read_does_not_hold_up_the_others() -> None:
    queue = FakeQueue()
    with pytest.raises(SeriesUnreadableError, match="RATE#SELIC") as raised:
        orchestrator(FailingFor("RATE#SELIC"), queue).run(run_id="run-4", now=NOW)
    assert "RATE#SELIC" not in {r.series_key for r in queue.requests}
    assert len(queue.requests) == 4
    assert list(raised.value.summary.failed) == ["RATE#SELIC"]
