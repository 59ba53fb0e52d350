"""Orchestrator and worker together, on moto and the SGS stand-in: a backfill through a flaky
API fills every gap exactly once, with the exact number of HTTP and BatchWriteItem calls, and
duplicates (twice, concurrently, after a crash) change nothing."""

from __future__ import annotations

import math
import random
import threading
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import pytest
from gap_scraper.adapters.bus import BusPublisher
from gap_scraper.adapters.queues import SqsQuarantine, SqsRequestQueue
from gap_scraper.adapters.sgs import SgsClient
from gap_scraper.adapters.table import DynamoSeriesTable
from gap_scraper.catalogue import load_catalogue
from gap_scraper.consumer import Consumer
from gap_scraper.domain import ItemStatus, SeriesItem
from gap_scraper.handlers.worker import handler
from gap_scraper.orchestrator import Orchestrator
from gap_scraper.standins.sgs import complete_table
from gap_scraper.worker import Worker
from gap_scraper_aws import TABLE, TODAY, Aws, Sgs
from gap_scraper_fakes import FakeLambdaContext
from rocket_contracts.testing import sqs_record

NOW = datetime(TODAY.year, TODAY.month, TODAY.day, 12, 0, tzinfo=UTC)
EARLIEST = date(2024, 1, 1)


def orchestrator(aws: Aws) -> Orchestrator:
    return Orchestrator(
        catalogue=load_catalogue(),
        table=DynamoSeriesTable(TABLE, client=aws.dynamodb),
        queue=SqsRequestQueue(aws.work_queue_url, client=aws.sqs),
        earliest=EARLIEST,
    )


def consumer(aws: Aws, sgs: Sgs) -> tuple[Consumer, SgsClient]:
    source = SgsClient(sgs.url, sleep=lambda _: None, attempts=8)
    worker = Worker(
        catalogue=load_catalogue(),
        source=source,
        table=DynamoSeriesTable(TABLE, client=aws.dynamodb, sleep=lambda _: None),
        publisher=BusPublisher(aws.topic_arn, client=aws.sns),
        clock=lambda: NOW,
    )
    return Consumer(worker, SqsQuarantine(aws.dlq_url, client=aws.sqs)), source


def drain(aws: Aws) -> list[dict[str, Any]]:
    records = []
    while True:
        got = aws.sqs.receive_message(
            QueueUrl=aws.work_queue_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not got:
            return records
        for m in got:
            aws.sqs.delete_message(QueueUrl=aws.work_queue_url, ReceiptHandle=m["ReceiptHandle"])
            attributes = {k: v["StringValue"] for k, v in m.get("MessageAttributes", {}).items()}
            records.append(sqs_record(m["Body"], message_attributes=attributes))


def expected_table(aws: Aws) -> dict[str, dict[str, str]]:
    return complete_table(EARLIEST, TODAY)


def table_contents(aws: Aws) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for series in load_catalogue().series:
        for day, item in aws.items(series.info_type).items():
            shown = item["value"]["N"] if "value" in item else item["status"]["S"]
            found.setdefault(series.info_type, {})[day] = shown
    return found


def prefill_with_holes(aws: Aws, share: float, seed: int) -> int:
    """Write the expected table less a random `share` of its days; the number of holes."""
    rng = random.Random(seed)
    holes, items = 0, []
    for info_type, days in expected_table(aws).items():
        for day, shown in days.items():
            if rng.random() < share:
                holes += 1
                continue
            status = ItemStatus.NO_DATA if shown == "NO_DATA" else ItemStatus.VALUE
            text = None if shown == "NO_DATA" else shown
            items.append(SeriesItem(info_type, date.fromisoformat(day), status, value_text=text))
    DynamoSeriesTable(TABLE, client=aws.dynamodb).write(items)
    aws.batch_writes.clear()
    return holes


def test_a_flaky_api_still_fills_every_gap_exactly_once(aws: Aws, sgs: Sgs) -> None:
    holes = prefill_with_holes(aws, share=0.05, seed=3)
    sgs.fault(kind="504", rate=0.3, seed=11)
    summary = orchestrator(aws).run(run_id="run-1", now=NOW)
    records = drain(aws)
    assert len(records) == summary.requests > 100
    assert sum(s.missing for s in summary.series) == holes
    handle, source = consumer(aws, sgs)
    failures = []
    for first in range(0, len(records), 10):
        batch = {"Records": records[first : first + 10]}
        failures += handler(batch, FakeLambdaContext(), consumer=handle)["batchItemFailures"]
    assert failures == []
    assert table_contents(aws) == expected_table(aws)

    # Exactly one good HTTP answer per request, plus one call per injected failure.
    calls = sgs.calls()
    faults = sum(n for k, n in calls.items() if k.endswith(":fault-504"))
    assert 0.2 < faults / calls["total"] < 0.4
    assert source.http_calls == calls["total"] == len(records) + faults
    # Nothing written twice: one BatchWriteItem per 25 items of each answer, each item once.
    events = aws.events()
    assert len(events) == len(records)
    per_request = [e["data"]["points_written"] + e["data"]["days_marked_no_data"] for e in events]
    assert len(aws.batch_writes) == sum(math.ceil(n / 25) for n in per_request)
    assert sum(aws.batch_writes) == holes
    assert {e["correlationid"] for e in events} == {"run-1"}

    # A second run finds nothing to ask for.
    assert orchestrator(aws).run(run_id="run-2", now=NOW).requests == 0
    assert drain(aws) == []


def test_an_empty_table_is_backfilled_in_one_request_per_series(aws: Aws, sgs: Sgs) -> None:
    summary = orchestrator(aws).run(run_id="run-1", now=NOW)
    records = drain(aws)
    assert len(records) == summary.requests == len(load_catalogue().series)
    handle, source = consumer(aws, sgs)
    assert handler({"Records": records}, FakeLambdaContext(), consumer=handle) == {
        "batchItemFailures": []
    }
    assert table_contents(aws) == expected_table(aws)
    assert source.http_calls == len(records)
    written = [len(v) for v in expected_table(aws).values()]
    assert aws.batch_writes == [min(25, n - i) for n in written for i in range(0, n, 25)]


def test_a_request_delivered_twice_and_concurrently_changes_nothing(aws: Aws, sgs: Sgs) -> None:
    orchestrator(aws).run(run_id="run-1", now=NOW)
    records = drain(aws)
    handle, _ = consumer(aws, sgs)
    handler({"Records": records}, FakeLambdaContext(), consumer=handle)
    once = table_contents(aws)
    aws.events()

    threads = [
        threading.Thread(
            target=handler,
            args=({"Records": records}, FakeLambdaContext()),
            kwargs={"consumer": handle},
        )
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert table_contents(aws) == once
    assert Counter(e["data"]["series_key"] for e in aws.events()) == Counter(
        {s.info_type: 3 for s in load_catalogue().series}
    )


def test_a_crash_mid_write_is_completed_by_the_redelivery(aws: Aws, sgs: Sgs) -> None:
    orchestrator(aws).run(run_id="run-1", now=NOW)
    records = drain(aws)
    usd = next(r for r in records if '"CURRENCY#USD"' in r["body"])
    handle, _ = consumer(aws, sgs)

    calls = {"n": 0}

    def crash_on_the_fourth(**_: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 4:
            raise SystemExit("the worker process died")

    aws.dynamodb.meta.events.register("before-call.dynamodb.BatchWriteItem", crash_on_the_fourth)
    with pytest.raises(SystemExit):
        handle(usd)
    partial = aws.items("CURRENCY#USD")
    assert len(partial) == 75
    assert aws.events() == []

    aws.dynamodb.meta.events.unregister("before-call.dynamodb.BatchWriteItem", crash_on_the_fourth)
    handle(usd)
    assert table_contents(aws)["CURRENCY#USD"] == expected_table(aws)["CURRENCY#USD"]
    assert [e["data"]["series_key"] for e in aws.events()] == ["CURRENCY#USD"]
