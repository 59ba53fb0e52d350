"""compactor in the demo: a day of Kafka Connect sink files for the clicks topic.

Three hundred small NDJSON files land under the time-based partitioner's path of one day, a
few records each, with schema drift (an `experiment` object in some, `duration_ms` null in
them), three broken lines, two records without their declared `event_id`, and one record
written in Latin-1 by a producer that is not UTF-8 (`"referrer": "São Paulo"`, a field the
domain does not declare: the range is screened again the exact way, which sets that line
aside). Two of the files are gzipped (`.json.gz`, as a sink with `s3.compression.type=gzip`
writes them) and are compacted like the rest. The request for the day is delivered twice,
and a second request for the same day arrives at the same time. Expected: one COMPACTED
event whose counts add up (records in = rows out + set aside), the six set-aside lines in
quarantine with their reasons, the day's Glue partition, a few Parquet files in place of
three hundred, every landing file kept and tagged rocket:compacted, no lock left behind, and
no second compaction.
"""

from __future__ import annotations

import gzip
import json
import random
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from rocket_contracts.models.compactor.compaction_requested_v1 import (
    CompactorCompactionRequestedV1,
)

from rocket_infra.demo.report import ScenarioReport

if TYPE_CHECKING:
    from rocket_infra.local import LocalPlatform

PROCESSED = "compactor.domain.processed.v1"
REQUESTED = "compactor.compaction.requested.v1"
FILES = 300
BROKEN = (17, 140, 299)  # files with a truncated line
UNNAMED = (60, 61)  # files with a record that has no event_id
LATIN1 = (200,)  # files with a record in Latin-1, its accent in an undeclared field
GZIPPED = (33, 250)  # files written gzipped, as .json.gz


def _click(rng: random.Random, day: date, n: int, drift: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        "event_id": f"c-{day:%Y%m%d}-{n:07d}",
        "session_id": f"s-{rng.randrange(10**5):05d}",
        "occurred_at": f"{day.isoformat()}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z",
        "page": rng.choice(("/", "/search", "/product", "/cart")),
        "duration_ms": rng.randrange(10, 60_000),
    }
    if drift:
        record["experiment"] = {"name": "checkout-v2", "arm": rng.choice(("a", "b"))}
        record["duration_ms"] = None
    return record


def _land(platform: LocalPlatform, bucket: str, day: date, rng: random.Random) -> tuple[int, int]:
    """Put the day's files; the number of valid records and of all lines."""
    s3 = platform.client("s3")
    valid = lines = n = 0
    for index in range(FILES):
        body = []
        for _ in range(rng.randint(1, 8)):
            body.append(json.dumps(_click(rng, day, n, drift=index % 25 == 0)).encode())
            n += 1
        if index in UNNAMED:
            body.append(json.dumps({**_click(rng, day, n, drift=False), "event_id": None}).encode())
        if index in BROKEN:
            body.append(b'{"event_id": "c-truncated", "page": "/ca')
        if index in LATIN1:
            record = {**_click(rng, day, n, drift=False), "referrer": "São Paulo"}
            n += 1
            body.append(json.dumps(record, ensure_ascii=False).encode("latin-1"))
        valid += len(body) - (index in UNNAMED) - (index in BROKEN) - (index in LATIN1)
        lines += len(body)
        hour = index * 24 // FILES
        key = (
            f"topics/clicks/year={day:%Y}/month={day:%m}/day={day:%d}/hour={hour:02d}/"
            f"clicks+{index % 3}+{index * 10:019d}.json"
        )
        data = b"\n".join(body) + b"\n"
        if index in GZIPPED:
            key, data = key + ".gz", gzip.compress(data)
        s3.put_object(Bucket=bucket, Key=key, Body=data)
    return valid, lines


def _tagged(platform: LocalPlatform, bucket: str, day: date) -> int:
    """Landing files of the day carrying the tag Finalize sets once the output is verified."""
    s3 = platform.client("s3")
    prefix = f"topics/clicks/year={day:%Y}/month={day:%m}/day={day:%d}/"
    tagged = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            tags = s3.get_object_tagging(Bucket=bucket, Key=item["Key"])["TagSet"]
            tagged += any(t["Key"] == "rocket:compacted" for t in tags)
    return tagged


def _request(day: date, request_id: str) -> CompactorCompactionRequestedV1:
    return CompactorCompactionRequestedV1.model_validate(
        {
            "request_id": request_id,
            "date": day.isoformat(),
            "domains": ["clicks"],
            "requested_by": "demo/compactor",
            "requested_at": datetime.now(UTC).isoformat(),
        }
    )


def run(platform: LocalPlatform) -> ScenarioReport:
    outputs = platform.outputs("compactor")
    token = f"demo-{uuid.uuid4().hex[:6]}"
    rng = random.Random(token)
    # A day of its own, so a second demo run on the same platform compacts a new day.
    day = date(2018, 1, 1) + timedelta(days=rng.randrange(700))
    valid, lines = _land(platform, outputs["LandingBucketName"], day, rng)
    first = _request(day, f"{token}-a")
    for n, request in enumerate((first, first, _request(day, f"{token}-b"))):
        platform.publish(request, correlation_id=f"{token}:{n}", source="rocket/demo")

    report = ScenarioReport(
        service="compactor",
        came_in={
            "landing files": FILES,
            "of them gzipped": len(GZIPPED),
            "landing lines": lines,
            REQUESTED: 3,
        },
    )
    report.expect(platform.wait_idle(240), "the platform did not go idle within 240 s")

    events = [
        e.data or {}
        for e in platform.bus_events()
        if e.type == PROCESSED and e.subject == f"clicks/{day.isoformat()}"
    ]
    statuses = Counter(str(e.get("status")) for e in events)
    compacted = [e for e in events if e.get("status") == "COMPACTED"]
    lake = outputs["LakeBucketName"]
    s3 = platform.client("s3")
    parts = s3.list_objects_v2(Bucket=lake, Prefix=f"clicks/dt={day.isoformat()}/")
    glue = platform.client("glue")
    listed = glue.get_partitions(DatabaseName=outputs["CatalogDatabaseName"], TableName="clicks")
    partitions = [p for p in listed["Partitions"] if p["Values"] == [day.isoformat()]]
    locks = s3.list_objects_v2(Bucket=lake, Prefix=f"_locks/clicks/dt={day.isoformat()}")
    tagged = _tagged(platform, outputs["LandingBucketName"], day)

    event = compacted[0] if compacted else {}
    output = event.get("output", {})
    reasons = dict((event.get("quarantine") or {}).get("reasons", {}))
    report.went_out = {
        **{f"{PROCESSED} {status}": count for status, count in statuses.items()},
        "parquet files": parts.get("KeyCount", 0),
        "parquet rows": int(output.get("records", 0)),
        "glue partitions": len(partitions),
        "landing files tagged rocket:compacted": tagged,
    }
    report.quarantined = {f"lines: {reason}": count for reason, count in reasons.items()}
    report.sent_on_purpose(
        f"{len(BROKEN)} truncated JSON lines, {len(UNNAMED)} records without their event_id, "
        f"{len(LATIN1)} record in Latin-1",
        f"QUARANTINE {lake}/_quarantine/clicks/dt={day.isoformat()}/: {sum(reasons.values())}"
        " lines, with reasons",
    )

    report.expect(len(compacted) == 1, f"expected one COMPACTED event, got {dict(statuses)}")
    report.expect(
        set(statuses) <= {"COMPACTED", "ALREADY_COMPACTED"},
        f"unexpected statuses {dict(statuses)}",
    )
    report.expect(output.get("records") == valid, f"expected {valid} rows, got {output}")
    report.expect(
        event.get("source", {}).get("records") == lines,
        f"expected {lines} lines read, got {event.get('source')}",
    )
    report.expect(
        reasons
        == {
            "invalid_json": len(BROKEN),
            "missing:event_id": len(UNNAMED),
            "invalid_encoding": len(LATIN1),
        },
        f"unexpected quarantine reasons {reasons}",
    )
    columns = {c["name"] for c in event.get("columns", [])}
    report.expect("experiment" in columns, f"the drifted field is not a column: {columns}")
    report.expect(len(partitions) == 1, "the day's Glue partition is missing")
    report.expect(0 < parts.get("KeyCount", 0) < 5, "expected a few Parquet files for the day")
    report.expect(locks.get("KeyCount", 0) == 0, "the day's lock was left behind")
    report.expect(tagged == FILES, f"expected {FILES} landing files tagged, found {tagged}")
    return report
