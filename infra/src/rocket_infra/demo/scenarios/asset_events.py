"""asset-events in the demo: two nights of an ERP catalogue agent, and an agent that crashes.

Night 1, the ERP agent reports 40 tables and completes. Night 2 it reports 39: 3 tables changed
(a column added), 2 dropped from the database, 1 new, plus one record that breaks the contract;
its volatile properties (row counts) changed everywhere. A second agent reports 12 tables, then
on its next run crashes after 2 and still reports the run completed.
Expected: 53 upserts CREATED (40 + 1 + 12), 3 UPDATED, 2 dropped, the bad record quarantined,
the crashed run's drops withheld for a human, and nothing else.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from rocket_infra.demo.report import ScenarioReport

if TYPE_CHECKING:
    from rocket_infra.local import LocalPlatform

SERVICE = "asset-events"
NIGHT = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def _table(agent: str, run: str, at: datetime, table: str, *, extra: bool) -> dict[str, Any]:
    columns = [
        {"name": "id", "type": "bigint", "nullable": False},
        {"name": "updated_at", "type": "timestamp", "nullable": True},
    ]
    if extra:
        columns.append({"name": "region", "type": "varchar(8)", "nullable": True})
    return {
        "event_id": f"{run}-{table}",
        "agent": agent,
        "system": agent,
        "run_id": run,
        "status": "running",
        "emitted_at": at.isoformat(),
        "database": "erp",
        "schema": "public",
        "table": table,
        "columns": columns,
        "properties": {"owner": "erp_app", "row_count": str(at.day * 1000 + len(table))},
    }


def _run(
    agent: str, run: str, at: datetime, tables: list[str], changed: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    events = [
        _table(agent, run, at + timedelta(seconds=n), t, extra=t in changed)
        for n, t in enumerate(tables)
    ]
    events.append(
        {
            "event_id": f"{run}-completed",
            "agent": agent,
            "system": agent,
            "run_id": run,
            "status": "completed",
            "emitted_at": (at + timedelta(minutes=10)).isoformat(),
            "tables_reported": len(tables),
            "tables_failed": 0,
        }
    )
    return events


def _put(platform: LocalPlatform, events: list[dict[str, Any] | bytes]) -> None:
    stream = platform.outputs(SERVICE)["InputStreamName"]
    records = [
        {
            "Data": e if isinstance(e, bytes) else json.dumps(e).encode(),
            "PartitionKey": str(e.get("table", "run")) if isinstance(e, dict) else "raw",
        }
        for e in events
    ]
    response = platform.client("kinesis").put_records(StreamName=stream, Records=records)
    if response.get("FailedRecordCount"):
        raise RuntimeError("the input stream refused records")


def _count(platform: LocalPlatform, bucket: str, prefix: str, needle: str) -> int:
    s3 = platform.client("s3")
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for o in page.get("Contents", [])
    ]
    return sum(
        needle in s3.get_object(Bucket=bucket, Key=k)["Body"].read().decode("utf-8", "replace")
        for k in keys
    )


def run(platform: LocalPlatform) -> ScenarioReport:
    token = uuid.uuid4().hex[:6]
    erp, crm = f"erp-{token}", f"crm-{token}"
    tables = [f"table_{n:02d}" for n in range(40)]
    crm_tables = [f"account_{n:02d}" for n in range(12)]
    report = ScenarioReport(service=SERVICE)

    night_1 = _run(erp, "night-1", NIGHT, tables) + _run(crm, "night-1", NIGHT, crm_tables)
    _put(platform, list(night_1))
    report.expect(platform.wait_idle(180), "night 1 did not go idle within 180 s")

    changed = frozenset(tables[10:13])
    second = [t for t in tables if t not in tables[:2]] + ["table_new"]
    bad = json.dumps({**night_1[0], "run_id": "night-2", "columns": []}).encode()
    later = NIGHT + timedelta(days=1)
    night_2: list[dict[str, Any] | bytes] = [*_run(erp, "night-2", later, second, changed), bad]
    night_2 += _run(crm, "night-2", later, crm_tables[:2])  # crashed after 2 tables
    _put(platform, night_2)
    report.expect(platform.wait_idle(180), "night 2 did not go idle within 180 s")

    report.came_in = {
        "agent running events": sum(
            1 for e in [*night_1, *night_2] if isinstance(e, dict) and e["status"] == "running"
        ),
        "agent completed events": 4,
        "records breaking the contract": 1,
    }
    went_out: Counter[str] = Counter()
    for event in platform.bus_events():
        if (event.subject or "").startswith((f"{erp}.", f"{crm}.")):
            change = (event.data or {}).get("change") if isinstance(event.data, dict) else None
            went_out[f"{event.type} {change}" if change else event.type] += 1
    report.went_out = dict(went_out)
    bucket = platform.outputs(SERVICE)["ContentBucketName"]
    quarantined = _count(platform, bucket, "quarantine/", erp)
    withheld = _count(platform, bucket, f"withheld/{crm}/", "TOO_MANY_DROPS")
    report.quarantined = {"stream records (quarantine/)": quarantined, "runs withheld": withheld}
    report.sent_on_purpose(
        "1 stream record that breaks the agent contract",
        f"QUARANTINE {bucket}/quarantine/: {quarantined} record",
    )
    report.sent_on_purpose(
        "1 run that crashed after 2 of its 12 tables and still reported completed",
        f"WITHHELD {bucket}/withheld/{crm}/: {withheld} run, drops kept for a human",
    )

    expected = Counter(
        {
            "assets.asset.upserted.v1 CREATED": 53,
            "assets.asset.upserted.v1 UPDATED": 3,
            "assets.asset.dropped.v1": 2,
        }
    )
    report.expect(went_out == expected, f"expected {dict(expected)}, got {dict(went_out)}")
    report.expect(quarantined == 1, f"expected 1 quarantined record, found {quarantined}")
    report.expect(withheld == 1, f"expected the crashed run withheld, found {withheld}")
    return report
