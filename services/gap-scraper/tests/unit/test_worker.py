"""The worker on fakes: values, no-data markers, quarantine, window splits, idempotence."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from gap_scraper.catalogue import load_catalogue
from gap_scraper.domain import (
    ItemStatus,
    SgsRow,
    TransientSourceError,
    UnknownSeriesError,
    WindowTooLargeError,
)
from gap_scraper.worker import WindowRefusedError, Worker
from gap_scraper_fakes import FakePublisher, FakeSource, FakeTable
from rocket_contracts.models.gapscraper.download_requested_v1 import (
    GapscraperDownloadRequestedV1,
)

NOW = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)


def request(start: date, end: date, **changes: object) -> GapscraperDownloadRequestedV1:
    fields: dict[str, object] = {
        "run_id": "run-1",
        "series_key": "CURRENCY#USD",
        "sgs_code": 1,
        "frequency": "daily",
        "start_date": start,
        "end_date": end,
        "missing_days": 1,
        "requested_at": NOW,
        **changes,
    }
    return GapscraperDownloadRequestedV1.model_validate(fields)


def rows_from(values: dict[str, str]) -> FakeSource:
    def answer(code: int, start: date, end: date) -> list[SgsRow]:
        return [
            SgsRow(date.fromisoformat(d).strftime("%d/%m/%Y"), v)
            for d, v in sorted(values.items())
            if start <= date.fromisoformat(d) <= end
        ]

    return FakeSource(answer)


def worker(source: FakeSource, table: FakeTable, publisher: FakePublisher) -> Worker:
    return Worker(load_catalogue(), source, table, publisher, clock=lambda: NOW)


WEEK = {  # Monday 3 .. Friday 7 March 2025; Carnival is on the 3rd and 4th
    "2025-03-05": "5.8012",
    "2025-03-06": "5.7901",
}


def test_values_are_written_exactly_and_announced() -> None:
    table, publisher = FakeTable(), FakePublisher()
    worker(rows_from(WEEK), table, publisher).handle(
        request(date(2025, 3, 3), date(2025, 3, 7)), correlation_id="c-1"
    )
    items = table.items
    assert items[("CURRENCY#USD", "2025-03-05")].value == Decimal("5.8012")
    assert items[("CURRENCY#USD", "2025-03-05")].value_text == "5.8012"
    # Friday 7 March had no value and is 13 days old (> 7): recorded as such.
    assert items[("CURRENCY#USD", "2025-03-07")].status is ItemStatus.NO_DATA
    assert ("CURRENCY#USD", "2025-03-03") not in items  # Carnival is no gap, so no marker
    ((event, correlation_id),) = publisher.events
    assert correlation_id == "c-1"
    assert (event.points_written, event.days_without_value, event.days_marked_no_data) == (2, 1, 1)
    assert (event.first_date, event.last_date) == (date(2025, 3, 5), date(2025, 3, 6))


def test_recent_days_without_value_stay_gaps() -> None:
    table, publisher = FakeTable(), FakePublisher()
    worker(rows_from({}), table, publisher).handle(
        request(date(2025, 3, 17), date(2025, 3, 19)), correlation_id="c-2"
    )
    assert table.items == {}
    event = publisher.events[0][0]
    assert (event.points_written, event.days_without_value, event.days_marked_no_data) == (0, 3, 0)
    assert event.first_date is None


def test_a_redelivered_request_writes_the_same_items() -> None:
    table, publisher = FakeTable(), FakePublisher()
    w = worker(rows_from(WEEK), table, publisher)
    w.handle(request(date(2025, 3, 3), date(2025, 3, 7)), correlation_id="c-3")
    first = dict(table.items)
    w.handle(request(date(2025, 3, 3), date(2025, 3, 7)), correlation_id="c-3")
    assert table.items == first
    assert table.writes[0] == table.writes[1]
    assert publisher.events[0][0].points_written == publisher.events[1][0].points_written


def test_a_refused_window_is_halved_until_it_is_served() -> None:
    source = rows_from(WEEK)
    source.errors = [WindowTooLargeError("406"), WindowTooLargeError("406")]
    table, publisher = FakeTable(), FakePublisher()
    outcome = worker(source, table, publisher).handle(
        request(date(2025, 3, 3), date(2025, 3, 7)), correlation_id="c-4"
    )
    assert source.calls == [
        (1, date(2025, 3, 3), date(2025, 3, 7)),
        (1, date(2025, 3, 3), date(2025, 3, 5)),
        (1, date(2025, 3, 3), date(2025, 3, 4)),
        (1, date(2025, 3, 5), date(2025, 3, 5)),
        (1, date(2025, 3, 6), date(2025, 3, 7)),
    ]
    assert outcome.source_calls == 5
    assert outcome.event.points_written == 2


def test_a_window_refused_down_to_one_day_is_permanent() -> None:
    source = rows_from({})
    source.errors = [WindowTooLargeError("406")]
    with pytest.raises(WindowRefusedError):
        worker(source, FakeTable(), FakePublisher()).handle(
            request(date(2025, 3, 5), date(2025, 3, 5)), correlation_id="c-5"
        )


@pytest.mark.parametrize("error", [UnknownSeriesError("404"), TransientSourceError("504")])
def test_source_errors_write_and_publish_nothing(error: Exception) -> None:
    source, table, publisher = rows_from(WEEK), FakeTable(), FakePublisher()
    source.errors = [error]
    with pytest.raises(type(error)):
        worker(source, table, publisher).handle(
            request(date(2025, 3, 3), date(2025, 3, 7)), correlation_id="c-6"
        )
    assert (table.writes, publisher.events) == ([], [])


def test_unreadable_rows_are_quarantined_not_coerced() -> None:
    source = rows_from({"2025-03-05": "5,80", "2025-03-06": "5.79"})
    table, publisher = FakeTable(), FakePublisher()
    outcome = worker(source, table, publisher).handle(
        request(date(2025, 3, 3), date(2025, 3, 7)), correlation_id="c-7"
    )
    bad = table.items[("CURRENCY#USD", "2025-03-05")]
    assert bad.status is ItemStatus.QUARANTINED
    assert bad.value is None
    assert "not a decimal" in (bad.reason or "")
    assert outcome.event.values_quarantined == 1
    assert outcome.event.points_written == 1


def test_a_crash_mid_write_is_repaired_by_the_redelivery() -> None:
    table, publisher = FakeTable(fail_after=1), FakePublisher()
    w = worker(rows_from(WEEK), table, publisher)
    with pytest.raises(RuntimeError):
        w.handle(request(date(2025, 3, 3), date(2025, 3, 7)), correlation_id="c-8")
    assert publisher.events == []
    table.fail_after = None
    w.handle(request(date(2025, 3, 3), date(2025, 3, 7)), correlation_id="c-8")
    assert len(table.items) == 3
    assert len(publisher.events) == 1


def test_a_long_window_that_times_out_is_halved() -> None:
    source = rows_from(WEEK)
    source.errors = [TransientSourceError("timed out", timed_out=True)]
    outcome = worker(source, FakeTable(), FakePublisher()).handle(
        request(date(2023, 3, 1), date(2025, 3, 7)), correlation_id="c-9"
    )
    assert source.calls == [
        (1, date(2023, 3, 1), date(2025, 3, 7)),
        (1, date(2023, 3, 1), date(2024, 3, 3)),
        (1, date(2024, 3, 4), date(2025, 3, 7)),
    ]
    assert outcome.event.points_written == 2


def test_a_short_window_that_times_out_fails_for_a_later_delivery() -> None:
    source = rows_from(WEEK)
    source.errors = [TransientSourceError("timed out", timed_out=True)]
    with pytest.raises(TransientSourceError):
        worker(source, FakeTable(), FakePublisher()).handle(
            request(date(2025, 3, 3), date(2025, 3, 7)), correlation_id="c-10"
        )
    assert len(source.calls) == 1
