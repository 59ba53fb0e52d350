"""gap-scraper on the local platform, wired by its own template and its SGS stand-in.

An empty table for the five catalogued series over three years (EarliestDate), one scheduled
run (`rocket trigger`'s path: the runtime fires the EventBridge rule): the orchestrator's
requests cross the work queue, the worker fills the table from the stand-in, and one
gapscraper.series.updated.v1 per request reaches the bus. The table then equals what the
stand-in serves (values, no-data markers, nothing on weekends or holidays), and a second run
sends no request at all. The same request delivered twice at once changes nothing either.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests
from gap_scraper.business_calendar import BRASILIA
from gap_scraper.catalogue import load_catalogue
from gap_scraper.standins.sgs import complete_table
from rocket_contracts import bus
from rocket_contracts.models.gapscraper.download_requested_v1 import (
    GapscraperDownloadRequestedV1,
)
from rocket_infra.local import LocalPlatform

pytestmark = pytest.mark.e2e

SERVICE = "gap-scraper"
UPDATED = "gapscraper.series.updated.v1"
REQUESTED = "gapscraper.download.requested.v1"


def sgs_url(platform: LocalPlatform) -> str:
    (standin,) = [r for r in platform.standins if r.declaration.service == SERVICE]
    return standin.url


def table_contents(platform: LocalPlatform) -> dict[str, dict[str, str]]:
    dynamodb = platform.client("dynamodb")
    table = platform.outputs(SERVICE)["SeriesTableName"]
    found: dict[str, dict[str, str]] = {}
    for series in load_catalogue().series:
        query: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "info_type = :pk",
            "ExpressionAttributeValues": {":pk": {"S": series.info_type}},
        }
        rows = found.setdefault(series.info_type, {})
        while True:
            page = dynamodb.query(**query)
            for item in page["Items"]:
                shown = item["value"]["N"] if "value" in item else item["status"]["S"]
                rows[item["date"]["S"]] = shown
            if "LastEvaluatedKey" not in page:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return found


def updated_events(platform: LocalPlatform) -> list[Any]:
    return [e for e in platform.bus_events() if e.type == UPDATED]


def test_one_scheduled_run_fills_three_years_and_a_second_asks_for_nothing(
    platform: LocalPlatform,
) -> None:
    today = datetime.now(BRASILIA).date()
    earliest = date(today.year - 3, today.month, 1)
    platform.deploy(SERVICE, overrides={"EarliestDate": earliest.isoformat()})
    url = sgs_url(platform)
    requests.delete(f"{url}/_standin/calls", timeout=5).raise_for_status()
    before = len(updated_events(platform))

    platform.runtime.trigger("OrchestratorSchedule")
    assert platform.wait_idle(600)

    expected = complete_table(earliest, today)
    assert table_contents(platform) == expected
    events = updated_events(platform)[before:]
    assert sorted(e.data["series_key"] for e in events) == sorted(expected)
    assert len({e.correlationid for e in events}) == 1
    assert sum(e.data["points_written"] + e.data["days_marked_no_data"] for e in events) == sum(
        len(rows) for rows in expected.values()
    )
    calls = requests.get(f"{url}/_standin/calls", timeout=5).json()
    assert calls["total"] == len(events) == len(expected)
    dlq = platform.outputs(SERVICE)["WorkDeadLetterQueueUrl"]
    depth = platform.client("sqs").get_queue_attributes(
        QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert depth["Attributes"]["ApproximateNumberOfMessages"] == "0"

    platform.runtime.trigger("OrchestratorSchedule")
    assert platform.wait_idle(120)
    assert requests.get(f"{url}/_standin/calls", timeout=5).json() == calls
    assert len(updated_events(platform)) == before + len(events)

    # The same request delivered twice at the same moment (a producer retry, SQS at least
    # once): the table does not change, and each delivery is announced.
    request = GapscraperDownloadRequestedV1(
        run_id="e2e-duplicate",
        series_key="CURRENCY#USD",
        sgs_code=1,
        frequency="daily",
        start_date=earliest,
        end_date=today - timedelta(days=1),
        missing_days=1,
        requested_at=datetime.now(UTC),
    )
    body = bus.to_json(bus.wrap(request, correlation_id="e2e-duplicate", source="rocket/e2e"))
    sqs = platform.client("sqs")
    queue = platform.outputs(SERVICE)["WorkQueueUrl"]
    attributes = {"type": {"DataType": "String", "StringValue": REQUESTED}}
    with ThreadPoolExecutor(2) as pool:
        list(
            pool.map(
                lambda _: sqs.send_message(
                    QueueUrl=queue, MessageBody=body, MessageAttributes=attributes
                ),
                range(2),
            )
        )
    assert platform.wait_idle(120)
    assert table_contents(platform) == expected
    duplicates = [e for e in updated_events(platform) if e.correlationid == "e2e-duplicate"]
    assert [e.data["points_written"] for e in duplicates] == [
        sum(v != "NO_DATA" for v in expected["CURRENCY#USD"].values())
    ] * 2
