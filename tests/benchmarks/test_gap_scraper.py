"""gap-scraper benchmarks: gap detection against a plain per-date loop, and AWS calls per run.

Run: make bench (or: .venv/bin/pytest -m bench tests/benchmarks/test_gap_scraper.py -s -p no:xdist)
Figures go to BENCHMARKS.md by hand; nothing here asserts on time.

Workload (the issue's): 100 business-daily series x 25 years (2001-2025), each with the
table holding every business day except 5% of them, drawn at random (seeded).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import boto3
import pytest
from gap_scraper.adapters.table import DynamoSeriesTable
from gap_scraper.business_calendar import EXPECTED, ExpectedDates, is_business_day
from gap_scraper.catalogue import Periodicity, Series
from gap_scraper.domain import ItemStatus, SeriesItem, Stream
from gap_scraper.gaps import plan, window_limit
from moto import mock_aws

pytestmark = pytest.mark.bench

SERIES = 100
START, TODAY = date(2001, 1, 1), date(2026, 1, 1)
HOLES = 0.05


def series(n: int) -> Series:
    return Series(
        info_type=f"BENCH#S{n:03d}",
        source="BCB_SGS",
        sgs_code=n + 1,
        periodicity=Periodicity.BUSINESS_DAILY,
        start_date=START,
        no_data_after_days=7,
    )


def present_sets(rng: random.Random) -> list[frozenset[str]]:
    days = EXPECTED.between(START, TODAY - timedelta(days=1), Periodicity.BUSINESS_DAILY)
    return [frozenset(d for d in days if rng.random() >= HOLES) for _ in range(SERIES)]


def plain_loop(present: frozenset[str], start: date, today: date) -> list[Stream]:
    """The obvious way: walk every calendar day, test it, group runs, cut at ten years."""
    streams: list[Stream] = []
    run: list[date] = []
    day, last = start, today - timedelta(days=1)
    while day <= last:
        if is_business_day(day):
            if day.isoformat() in present:
                if run:
                    streams.extend(_cut(run))
                    run = []
            else:
                run.append(day)
        day += timedelta(days=1)
    if run:
        streams.extend(_cut(run))
    return streams


def _cut(run: list[date]) -> list[Stream]:
    out: list[Stream] = []
    first = 0
    for index, day in enumerate(run):
        if day > window_limit(run[first]):
            out.append(Stream(run[first], run[index - 1], index - first))
            first = index
    out.append(Stream(run[first], run[-1], len(run) - first))
    return out


def best_of(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), result


def test_gap_detection_against_a_plain_per_date_loop() -> None:
    rng = random.Random(2026)
    sets = present_sets(rng)
    catalogue = [series(n) for n in range(SERIES)]

    def ours() -> list[list[Stream]]:
        return [plan(s, p, today=TODAY) for s, p in zip(catalogue, sets, strict=True)]

    def cold() -> list[list[Stream]]:
        expected = ExpectedDates()  # a cold Lambda: the calendar's years built again
        return [
            plan(s, p, today=TODAY, expected=expected) for s, p in zip(catalogue, sets, strict=True)
        ]

    def baseline() -> list[list[Stream]]:
        return [plain_loop(p, START, TODAY) for p in sets]

    ours_s, streams = best_of(9, ours)
    cold_s, _ = best_of(5, cold)
    base_s, expected = best_of(3, baseline)
    assert streams == expected  # same answer, or the timing means nothing
    total = sum(len(s) for s in streams)
    print(
        f"\ngap detection, {SERIES} series x 25 years, {HOLES:.0%} holes, {total} streams:"
        f"\n  plan() warm {ours_s * 1000:.1f} ms, cold calendar {cold_s * 1000:.1f} ms"
        f"\n  plain per-date loop {base_s * 1000:.1f} ms"
        f"\n  speed-up warm {base_s / ours_s:.1f}x, cold {base_s / cold_s:.1f}x"
    )


def test_aws_calls_per_series_per_run() -> None:
    rng = random.Random(7)
    days = EXPECTED.between(START, TODAY - timedelta(days=1), Periodicity.BUSINESS_DAILY)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="bench",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "info_type", "AttributeType": "S"},
                {"AttributeName": "date", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "info_type", "KeyType": "HASH"},
                {"AttributeName": "date", "KeyType": "RANGE"},
            ],
        )
        calls: dict[str, int] = {"Query": 0, "BatchWriteItem": 0, "GetItem": 0}

        def count(event_name: str, **_: Any) -> None:
            calls[event_name.rsplit(".", 1)[-1]] += 1

        client.meta.events.register("before-call.dynamodb.*", count)
        table = DynamoSeriesTable("bench", client=client)
        items = [
            SeriesItem(
                "BENCH#S000", date.fromisoformat(d), ItemStatus.VALUE, value_text=f"5.{n % 9999}"
            )
            for n, d in enumerate(days)
            if rng.random() >= HOLES
        ]
        table.write(items)
        writes = calls["BatchWriteItem"]
        calls.update(Query=0, BatchWriteItem=0)
        sizes = []
        for _ in range(3):
            started = time.perf_counter()
            found = table.present_dates("BENCH#S000", START)
            sizes.append(time.perf_counter() - started)
        print(
            f"\nAWS calls: {len(items)} items written in {writes} BatchWriteItem calls "
            f"({len(items) / writes:.1f} per call); a run reads the series in "
            f"{calls['Query'] // 3} Query call(s) ({found.pages} page), 0 GetItem; "
            f"moto Query of {len(found.dates)} keys: {statistics.median(sizes) * 1000:.0f} ms"
        )
