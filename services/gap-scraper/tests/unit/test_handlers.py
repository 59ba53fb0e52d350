"""The handlers: partial batch responses, quarantine with reasons, the orchestrator's summary."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from gap_scraper.catalogue import load_catalogue
from gap_scraper.consumer import Consumer
from gap_scraper.domain import SgsRow, TransientSourceError, UnknownSeriesError
from gap_scraper.handlers.orchestrator import handler as orchestrator_handler
from gap_scraper.handlers.worker import handler as worker_handler
from gap_scraper.orchestrator import Orchestrator
from gap_scraper.worker import Worker
from gap_scraper_fakes import (
    FakeDeferrer,
    FakeLambdaContext,
    FakePublisher,
    FakeQuarantine,
    FakeQueue,
    FakeSource,
    FakeTable,
)
from rocket_contracts.models.gapscraper.download_requested_v1 import (
    GapscraperDownloadRequestedV1,
)
from rocket_contracts.testing import sqs_record, sqs_record_for

EVENTS = Path(__file__).parents[1] / "events"
NOW = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)


def request(code: int = 1, key: str = "CURRENCY#USD") -> GapscraperDownloadRequestedV1:
    return GapscraperDownloadRequestedV1(
        run_id="run-1",
        series_key=key,
        sgs_code=code,
        frequency="daily",
        start_date=date(2025, 3, 5),
        end_date=date(2025, 3, 6),
        missing_days=2,
        requested_at=NOW,
    )


def answer(code: int, start: date, end: date) -> list[SgsRow]:
    return [SgsRow("05/03/2025", "5.80"), SgsRow("06/03/2025", "5.79")]


def consumer(source: FakeSource) -> tuple[Consumer, FakeTable, FakeQuarantine, FakePublisher]:
    table, quarantine, publisher = FakeTable(), FakeQuarantine(), FakePublisher()
    worker = Worker(load_catalogue(), source, table, publisher, clock=lambda: NOW)
    return Consumer(worker, quarantine), table, quarantine, publisher


def event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def test_a_sample_event_as_aws_sends_it_is_handled() -> None:
    sample = json.loads((EVENTS / "sqs_download_requests.json").read_text())
    handle, table, _quarantine, publisher = consumer(FakeSource(answer))
    response = worker_handler(sample, FakeLambdaContext(), consumer=handle)
    assert response == {"batchItemFailures": []}
    assert len(table.items) == 2
    assert [e.series_key for e, _ in publisher.events] == ["CURRENCY#USD"]
    assert publisher.events[0][1] == "gaps-20251120T090000Z-0a1b2c3d"


def test_a_transient_failure_fails_only_its_record() -> None:
    source = FakeSource(answer, errors=[TransientSourceError("HTTP 504")])
    handle, _table, quarantine, publisher = consumer(source)
    first, second = sqs_record_for(request()), sqs_record_for(request(21619, "CURRENCY#EUR"))
    response = worker_handler(event(first, second), FakeLambdaContext(), consumer=handle)
    assert response == {"batchItemFailures": [{"itemIdentifier": first["messageId"]}]}
    assert [e.series_key for e, _ in publisher.events] == ["CURRENCY#EUR"]
    assert quarantine.messages == []


def test_a_transient_failure_comes_back_sooner_each_time_but_not_before_backoff() -> None:
    deferrer = FakeDeferrer()
    source = FakeSource(answer, errors=[TransientSourceError("HTTP 504")] * 3)
    handle, *_ = consumer(source)
    handle = Consumer(handle.worker, handle.quarantine, deferrer, retry_base_seconds=30)
    for count in (1, 2, 6):
        record = sqs_record_for(request())
        record["attributes"]["ApproximateReceiveCount"] = str(count)
        worker_handler(event(record), FakeLambdaContext(), consumer=handle)
    assert [seconds for _, seconds in deferrer.deferred] == [30, 60, 900]


def test_an_unknown_series_goes_to_the_dlq_with_its_reason() -> None:
    source = FakeSource(answer, errors=[UnknownSeriesError("HTTP 404: no such series")])
    handle, table, quarantine, _publisher = consumer(source)
    record = sqs_record_for(request(99999, "CURRENCY#XYZ"))
    response = worker_handler(event(record), FakeLambdaContext(), consumer=handle)
    assert response == {"batchItemFailures": []}
    ((body, reason, detail),) = quarantine.messages
    assert (body, reason) == (record["body"], "unknown_series")
    assert "404" in detail
    assert table.writes == []


def test_a_message_breaking_the_contract_is_quarantined_and_the_rest_goes_on() -> None:
    handle, _table, quarantine, publisher = consumer(FakeSource(answer))
    bad = sqs_record("not json", message_attributes={"type": "gapscraper.download.requested.v1"})
    good = sqs_record_for(request())
    response = worker_handler(event(bad, good), FakeLambdaContext(), consumer=handle)
    assert response == {"batchItemFailures": []}
    assert [(b, r) for b, r, _ in quarantine.messages] == [("not json", "contract_violation")]
    assert len(publisher.events) == 1


def test_undated_rows_are_kept_in_the_dlq_for_a_person() -> None:
    def with_bad_row(code: int, start: date, end: date) -> list[SgsRow]:
        return [*answer(code, start, end), SgsRow("2025-03-06", "5.79")]

    handle, _table, quarantine, publisher = consumer(FakeSource(with_bad_row))
    worker_handler(event(sqs_record_for(request())), FakeLambdaContext(), consumer=handle)
    ((body, reason, _),) = quarantine.messages
    assert reason == "rows_unreadable"
    assert json.loads(body)["rows"] == [
        {"row": "data='2025-03-06' valor='5.79'", "reason": "data is not dd/MM/yyyy"}
    ]
    assert publisher.events[0][0].values_quarantined == 1


def test_the_orchestrator_handler_runs_once_and_reports() -> None:
    queue = FakeQueue()
    orchestrator = Orchestrator(load_catalogue(), FakeTable(), queue, earliest=date(2025, 3, 1))
    scheduled = {"source": "aws.events", "detail-type": "Scheduled Event", "time": "x"}
    summary = orchestrator_handler(
        scheduled, FakeLambdaContext(), orchestrator=orchestrator, clock=lambda: NOW
    )
    assert summary["requests"] == 4 == len(queue.requests)  # IPCA: no month ended since
    assert summary["run_id"].startswith("gaps-20250320T120000Z-")
    assert {r.run_id for r in queue.requests} == {summary["run_id"]}
