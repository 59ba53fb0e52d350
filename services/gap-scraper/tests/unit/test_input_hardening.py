"""The worker's queue at its edge: a series key that could escape its DynamoDB partition or S3
name, JSON two readers would read differently, a body larger than the bus carries: each goes to
the DLQ as a contract violation with the exact problem, and the valid request beside it is
written."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from gap_scraper.catalogue import load_catalogue
from gap_scraper.consumer import Consumer
from gap_scraper.domain import SgsRow
from gap_scraper.handlers.worker import handler as worker_handler
from gap_scraper.worker import Worker
from gap_scraper_fakes import (
    FakeLambdaContext,
    FakePublisher,
    FakeQuarantine,
    FakeSource,
    FakeTable,
)
from rocket_contracts.bus import MAX_MESSAGE_BYTES
from rocket_contracts.models.gapscraper.download_requested_v1 import (
    GapscraperDownloadRequestedV1,
)
from rocket_contracts.testing import sqs_record, sqs_record_for

NOW = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)
PATTERN = "'^[A-Z][A-Z0-9_]{0,31}#[A-Z0-9_]{1,64}$'"


def _answer(code: int, start: date, end: date) -> list[SgsRow]:
    return [SgsRow("05/03/2025", "5.80"), SgsRow("06/03/2025", "5.79")]


def _good() -> dict[str, Any]:
    return sqs_record_for(
        GapscraperDownloadRequestedV1(
            run_id="run-1",
            series_key="CURRENCY#USD",
            sgs_code=1,
            frequency="daily",
            start_date=date(2025, 3, 5),
            end_date=date(2025, 3, 6),
            missing_days=2,
            requested_at=NOW,
        )
    )


def _with_series_key(good: dict[str, Any], series_key: str) -> dict[str, Any]:
    envelope = json.loads(good["body"])
    envelope["data"]["series_key"] = series_key
    return sqs_record(json.dumps(envelope))


def test_hostile_requests_go_to_the_dlq_with_the_problem_and_the_valid_one_is_written() -> None:
    table, quarantine, publisher = FakeTable(), FakeQuarantine(), FakePublisher()
    worker = Worker(load_catalogue(), FakeSource(_answer), table, publisher, clock=lambda: NOW)
    good = _good()
    keys = ["../../etc", "/CURRENCY#USD", "CURRENCY#../USD", "CURRENCY#USD\n", "CURRENCY#US\x00"]
    keys += ["CURRENCY#USD\u202e", "CURRENCY#" + "X" * 10_000]
    oversized = json.loads(good["body"])
    oversized["padding"] = "x" * MAX_MESSAGE_BYTES
    hostile = [
        *(_with_series_key(good, key) for key in keys),
        sqs_record(good["body"][:-1] + ',"type":"gapscraper.series.updated.v1"}'),
        sqs_record(good["body"][:-1] + ',"x":' + "[" * 40 + "]" * 40 + "}"),
        sqs_record(json.dumps(oversized)),
    ]

    response = worker_handler(
        {"Records": [*hostile, good]}, FakeLambdaContext(), consumer=Consumer(worker, quarantine)
    )

    assert response == {"batchItemFailures": []}
    details = [(reason, detail) for _body, reason, detail in quarantine.messages]
    assert [reason for reason, _ in details] == ["contract_violation"] * len(hostile)
    assert [detail for _, detail in details[: len(keys)]] == [
        f"$.data.series_key: {key!r} does not match {PATTERN}" for key in keys
    ]
    assert [detail for _, detail in details[len(keys) :]] == [
        "$: duplicate key 'type'",
        "$: nested more than 32 levels deep",
        f"$: {len(json.dumps(oversized))} bytes; at most {MAX_MESSAGE_BYTES}",
    ]
    assert {info_type for info_type, _day in table.items} == {"CURRENCY#USD"}
    assert len(publisher.events) == 1
