"""gap-scraper under faults on the local platform.

The deployed worker fills three years of five series while the emulator answers half of
every BatchWriteItem with UnprocessedItems (the adapter re-sends them) and then throttles
BatchWriteItem (past the SDK's own retries a record fails and comes back after the retry
delay), and while the SGS stand-in answers 30% of calls with 504 or 429. Either way the table
ends exactly as the stand-in serves it, every request is announced, and nothing is in the DLQ.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import requests
from gap_scraper.business_calendar import BRASILIA
from gap_scraper.catalogue import load_catalogue
from gap_scraper.standins.sgs import complete_table
from rocket_infra.local import LocalPlatform

SERVICE = "gap-scraper"


def sgs_url(platform: LocalPlatform) -> str:
    (standin,) = [r for r in platform.standins if r.declaration.service == SERVICE]
    return standin.url


def contents(platform: LocalPlatform) -> dict[str, dict[str, str]]:
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
                rows[item["date"]["S"]] = (
                    item["value"]["N"] if "value" in item else item["status"]["S"]
                )
            if "LastEvaluatedKey" not in page:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return found


def clear_table(platform: LocalPlatform) -> None:
    dynamodb = platform.client("dynamodb")
    table = platform.outputs(SERVICE)["SeriesTableName"]
    for info_type, rows in contents(platform).items():
        for day in rows:
            dynamodb.delete_item(
                TableName=table, Key={"info_type": {"S": info_type}, "date": {"S": day}}
            )


def dlq_depth(platform: LocalPlatform) -> int:
    url = platform.outputs(SERVICE)["WorkDeadLetterQueueUrl"]
    attributes = platform.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def fired(platform: LocalPlatform, operation: str) -> int:
    return sum(
        int(f.get("fired", 0))
        for f in platform.list_faults()
        if f.get("service") == "dynamodb" and f.get("operation") == operation
    )


def run_once(platform: LocalPlatform, earliest: date, today: date) -> list[Any]:
    before = len(platform.bus_events())
    platform.runtime.trigger("OrchestratorSchedule")
    assert platform.wait_idle(900)
    assert contents(platform) == complete_table(earliest, today)
    assert dlq_depth(platform) == 0
    return [e for e in platform.bus_events()[before:] if e.type == "gapscraper.series.updated.v1"]


def test_unprocessed_items_throttling_and_a_flaky_api_still_fill_the_table(
    platform: LocalPlatform,
) -> None:
    today = datetime.now(BRASILIA).date()
    earliest = date(today.year - 3, today.month, 1)
    platform.deploy(
        SERVICE, overrides={"EarliestDate": earliest.isoformat(), "RetryDelaySeconds": "1"}
    )
    url = sgs_url(platform)
    clear_table(platform)
    try:
        platform.set_fault(
            service="dynamodb", operation="BatchWriteItem", kind="unprocessed", rate=0.5, seed=5
        )
        requests.post(
            f"{url}/_standin/faults", json={"kind": "504", "rate": 0.3, "seed": 9}, timeout=5
        ).raise_for_status()
        events = run_once(platform, earliest, today)
        assert len(events) == len(load_catalogue().series)
        unprocessed = fired(platform, "BatchWriteItem")
        assert unprocessed > 0

        clear_table(platform)
        platform.set_fault(
            service="dynamodb", operation="BatchWriteItem", kind="throttle", rate=0.15, seed=5
        )
        requests.post(
            f"{url}/_standin/faults",
            json={"kind": "429", "rate": 0.3, "seed": 9, "retry_after": 0},
            timeout=5,
        ).raise_for_status()
        events = run_once(platform, earliest, today)
        assert {e.data["series_key"] for e in events} == {
            s.info_type for s in load_catalogue().series
        }
        assert fired(platform, "BatchWriteItem") > 0
    finally:
        platform.clear_faults()
        requests.delete(f"{url}/_standin/faults", timeout=5)
