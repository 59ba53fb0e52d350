"""gap-scraper in the demo: keeping five BCB series complete, against the local SGS stand-in.

The SGS API is played by the service's stand-in (`services/gap-scraper/standins.yaml`), which
`rocket up` starts on loopback and passes to the stack as SgsBaseUrl: the values are made up,
deterministic, and shaped like the real API's answers. The stack is deployed with a backfill
horizon of six months (EarliestDate).

1. The first scheduled run backfills the empty months of USD, EUR, SELIC, CDI and IPCA.
2. Then the usual accidents: a week of USD and EUR lost in an outage, one SELIC day deleted by
   hand, the last two IPCA months missing, a download request for a series the SGS does not
   have, and a malformed message on the work queue.
3. The second scheduled run asks for exactly the holes, one request per contiguous run.

Expected: after the first run every value the stand-in serves is in the table, a no-data
marker stands for every older business day it has none for; after the second the table is
exactly as after the first; the unknown series and the malformed message wait in the DLQ with
their reasons; one gapscraper.series.updated.v1 per request.
"""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import yaml
from rocket_contracts import bus
from rocket_contracts.models.gapscraper.download_requested_v1 import (
    GapscraperDownloadRequestedV1,
)

from rocket_infra.demo.report import ScenarioReport

if TYPE_CHECKING:
    from rocket_infra.local import LocalPlatform

SERVICE = "gap-scraper"
UPDATED = "gapscraper.series.updated.v1"
REQUESTED = "gapscraper.download.requested.v1"
BRASILIA = timedelta(hours=-3)


def _catalogue(platform: LocalPlatform) -> list[dict[str, Any]]:
    path = platform.repo_root / "services" / SERVICE / "src" / "gap_scraper" / "catalogue.yaml"
    series: list[dict[str, Any]] = yaml.safe_load(path.read_text("utf-8"))["series"]
    return series


def _standin_url(platform: LocalPlatform) -> str:
    (standin,) = [r for r in platform.standins if r.declaration.service == SERVICE]
    return standin.url


def _sgs_rows(url: str, code: int, start: date, end: date) -> dict[str, str]:
    query = f"formato=json&dataInicial={start:%d/%m/%Y}&dataFinal={end:%d/%m/%Y}"
    with urllib.request.urlopen(
        f"{url}/dados/serie/bcdata.sgs.{code}/dados?{query}", timeout=30
    ) as answer:
        rows = json.loads(answer.read())
    served = {}
    for row in rows:
        day = datetime.strptime(row["data"], "%d/%m/%Y").date()
        if start <= day <= end:  # the API answers an empty range with the value before it
            served[day.isoformat()] = row["valor"]
    return served


def _calls(url: str) -> int:
    with urllib.request.urlopen(f"{url}/_standin/calls", timeout=10) as answer:
        return int(json.loads(answer.read()).get("total", 0))


def _table(platform: LocalPlatform, table: str, keys: list[str]) -> dict[str, dict[str, str]]:
    dynamodb = platform.client("dynamodb")
    found: dict[str, dict[str, str]] = {}
    for info_type in keys:
        query: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "info_type = :pk",
            "ExpressionAttributeValues": {":pk": {"S": info_type}},
        }
        rows = found.setdefault(info_type, {})
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


def _dead_letters(platform: LocalPlatform, queue_url: str) -> Counter[str]:
    sqs = platform.client("sqs")
    reasons: Counter[str] = Counter()
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=60,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return reasons
        for message in messages:
            reason = message.get("MessageAttributes", {}).get("reason", {})
            reasons[str(reason.get("StringValue", "none"))] += 1


def _run(platform: LocalPlatform) -> tuple[bool, list[Any]]:
    before = len(platform.bus_events())
    platform.runtime.trigger("OrchestratorSchedule")
    idle = platform.wait_idle(300)
    return idle, [e for e in platform.bus_events()[before:] if e.type == UPDATED]


def _delete(platform: LocalPlatform, table: str, info_type: str, days: list[str]) -> None:
    dynamodb = platform.client("dynamodb")
    for day in days:
        dynamodb.delete_item(
            TableName=table, Key={"info_type": {"S": info_type}, "date": {"S": day}}
        )


def _accidents(platform: LocalPlatform, table: str, first: dict[str, dict[str, str]]) -> int:
    """Make the holes and the bad messages; how many days were deleted."""
    holes = {
        "CURRENCY#USD": sorted(first["CURRENCY#USD"])[-40:-33],
        "CURRENCY#EUR": sorted(first["CURRENCY#EUR"])[-40:-33],
        "RATE#SELIC": sorted(first["RATE#SELIC"])[-60:-59],
        "INDEX#IPCA": sorted(first["INDEX#IPCA"])[-2:],
    }
    for info_type, days in holes.items():
        _delete(platform, table, info_type, days)
    queue = platform.outputs(SERVICE)["WorkQueueUrl"]
    unknown = GapscraperDownloadRequestedV1(
        run_id="demo-manual",
        series_key="CURRENCY#XAU",
        sgs_code=99999,
        frequency="daily",
        start_date=date(2026, 1, 5),
        end_date=date(2026, 1, 9),
        missing_days=5,
        requested_at=datetime.now(UTC),
    )
    body = bus.to_json(bus.wrap(unknown, correlation_id="demo-manual", source="rocket/demo"))
    sqs = platform.client("sqs")
    attributes = {"type": {"DataType": "String", "StringValue": REQUESTED}}
    sqs.send_message(QueueUrl=queue, MessageBody=body, MessageAttributes=attributes)
    malformed = json.dumps({"specversion": "1.0", "type": REQUESTED, "data": {"sgs_code": 1}})
    sqs.send_message(QueueUrl=queue, MessageBody=malformed, MessageAttributes=attributes)
    return sum(len(days) for days in holes.values())


def _check_first(
    report: ScenarioReport,
    url: str,
    catalogue: list[dict[str, Any]],
    first: dict[str, Any],
    earliest: date,
    yesterday: date,
) -> tuple[int, int]:
    values = markers = 0
    for series in catalogue:
        rows = first.get(series["info_type"], {})
        served = _sgs_rows(url, int(series["sgs_code"]), earliest, yesterday)
        stored = {d: v for d, v in rows.items() if v not in ("NO_DATA", "QUARANTINED")}
        report.expect(stored == served, f"{series['info_type']}: table differs from the SGS")
        markers += sum(v == "NO_DATA" for v in rows.values())
        values += len(stored)
    return values, markers


def run(platform: LocalPlatform) -> ScenarioReport:
    today = (datetime.now(UTC) + BRASILIA).date()
    earliest = (today.replace(day=1) - timedelta(days=160)).replace(day=1)
    platform.deploy(SERVICE, overrides={"EarliestDate": earliest.isoformat()})
    outputs = platform.outputs(SERVICE)
    table, url = outputs["SeriesTableName"], _standin_url(platform)
    catalogue = _catalogue(platform)
    keys = [s["info_type"] for s in catalogue]
    report = ScenarioReport(service=SERVICE)

    calls_before = _calls(url)
    idle, first_events = _run(platform)
    report.expect(idle, "the platform did not go idle after the first run")
    first_calls = _calls(url) - calls_before
    first = _table(platform, table, keys)
    values, markers = _check_first(
        report, url, catalogue, first, earliest, today - timedelta(days=1)
    )

    deleted = _accidents(platform, table, first)
    idle, second_events = _run(platform)
    report.expect(idle, "the platform did not go idle after the second run")
    second = _table(platform, table, keys)
    report.expect(second == first, "the second run did not restore the table as it was")
    refilled = sum(
        e.data["points_written"] + e.data.get("days_marked_no_data", 0) for e in second_events
    )
    dead = _dead_letters(platform, outputs["WorkDeadLetterQueueUrl"])

    report.came_in = {
        "scheduled runs": 2,
        f"series in the catalogue (from {earliest})": len(catalogue),
        "days deleted between the runs": deleted,
        "requests for a series the SGS lacks": 1,
        "malformed messages": 1,
    }
    report.went_out = {
        f"{UPDATED} (run 1, backfill)": len(first_events),
        f"{UPDATED} (run 2, holes)": len(second_events),
        "values in the table": values,
        "no-data markers": markers,
        "days refilled by run 2": refilled,
        "SGS stand-in calls (run 1)": first_calls,
    }
    report.quarantined = {f"work DLQ: {reason}": n for reason, n in sorted(dead.items())}
    report.sent_on_purpose(
        "1 request for a series the SGS lacks, 1 malformed message",
        f"DLQ {outputs['WorkDeadLetterQueueUrl'].rsplit('/', 1)[-1]}: {sum(dead.values())}"
        " messages, with reasons",
    )

    report.expect(len(first_events) == len(catalogue), "run 1: expected one request per series")
    report.expect(len(second_events) == 4, f"run 2: expected 4 requests, saw {len(second_events)}")
    report.expect(refilled == deleted, f"run 2 refilled {refilled} days of {deleted} deleted")
    report.expect(
        dead == Counter({"unknown_series": 1, "contract_violation": 1}),
        f"expected the unknown series and the malformed message in the DLQ, got {dict(dead)}",
    )
    return report
