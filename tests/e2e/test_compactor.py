"""compactor on the local platform, wired by its own template.

A day of Kafka Connect sink files (drift, a few broken lines, a record breaking the declared
fields) is put into the landing bucket the way the sink does; then a request on the bus (sent
twice, and a second request for the same day at the same time), the daily schedule, and a step
that fails once must each give: Parquet in the lake, the day's Glue partition, one
compactor.domain.processed.v1 with the right counts, quarantine with the reasons, and never a
second compaction of the same day.
"""

from __future__ import annotations

import io
import json
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow.parquet as pq
import pytest
from compactor.sample import generate
from rocket_contracts.models.compactor.compaction_requested_v1 import (
    CompactorCompactionRequestedV1,
)
from rocket_contracts.models.compactor.domain_processed_v1 import CompactorDomainProcessedV1
from rocket_infra.local import LocalPlatform

pytestmark = pytest.mark.e2e

PROCESSED = "compactor.domain.processed.v1"


def _free_day(token: str) -> date:
    """A clicks day no other test uses (clicks files carry their day in the key)."""
    return date(2020, 1, 1) + timedelta(days=random.Random(token).randrange(1500))


def _land(platform: LocalPlatform, day: date, files: int, seed: int) -> tuple[int, int]:
    s3 = platform.client("s3")
    landing = platform.outputs("compactor")["LandingBucketName"]
    records = broken = 0
    for sample in generate("clicks", day, files, seed=seed, drift_rate=0.1, broken_every=15):
        s3.put_object(Bucket=landing, Key=sample.key, Body=sample.body)
        records += sample.records
        broken += sample.broken
    return records, broken


def _request(day: date, request_id: str, *, force: bool = False) -> CompactorCompactionRequestedV1:
    return CompactorCompactionRequestedV1.model_validate(
        {
            "request_id": request_id,
            "date": day.isoformat(),
            "domains": ["clicks"],
            "force": force,
            "requested_by": "e2e/compactor",
            "requested_at": datetime.now(UTC).isoformat(),
        }
    )


def _processed(platform: LocalPlatform, day: date) -> list[CompactorDomainProcessedV1]:
    return [
        CompactorDomainProcessedV1.model_validate(e.data)
        for e in platform.bus_events()
        if e.type == PROCESSED and e.subject == f"clicks/{day.isoformat()}"
    ]


def _executions(platform: LocalPlatform, day: date) -> list[dict[str, Any]]:
    sfn = platform.client("stepfunctions")
    arn = platform.outputs("compactor")["StateMachineArn"]
    found = sfn.list_executions(stateMachineArn=arn)["executions"]
    return [e for e in found if f"-{day.isoformat()}-" in e["name"]]


def _lake_rows(platform: LocalPlatform, day: date) -> list[dict[str, Any]]:
    s3 = platform.client("s3")
    lake = platform.outputs("compactor")["LakeBucketName"]
    listed = s3.list_objects_v2(Bucket=lake, Prefix=f"clicks/dt={day.isoformat()}/")
    rows: list[dict[str, Any]] = []
    for item in listed.get("Contents", []):
        body = s3.get_object(Bucket=lake, Key=item["Key"])["Body"].read()
        rows.extend(pq.read_table(io.BytesIO(body)).to_pylist())
    return rows


def test_a_requested_day_is_compacted_once(platform: LocalPlatform) -> None:
    token = f"e2e-{uuid.uuid4().hex[:8]}"
    day = _free_day(token)
    records, broken = _land(platform, day, files=60, seed=1)
    request = _request(day, f"{token}-a")
    # The same message twice (a redelivery) and another request for the day at once.
    platform.publish(request, correlation_id=token)
    platform.publish(request, correlation_id=token)
    platform.publish(_request(day, f"{token}-b"), correlation_id=f"{token}-b")
    assert platform.wait_idle(timeout=240)

    executions = _executions(platform, day)
    assert len(executions) == 2  # one per request id: the redelivery started nothing
    assert {e["status"] for e in executions} == {"SUCCEEDED"}

    events = _processed(platform, day)
    compacted = [e for e in events if e.status == "COMPACTED"]
    assert len(compacted) == 1
    assert all(e.status in ("COMPACTED", "ALREADY_COMPACTED") for e in events)
    event = compacted[0]
    assert event.source.files == 60
    assert event.source.records == records + broken
    assert event.output.records == records
    assert event.quarantine is not None
    assert event.quarantine.reasons == {"invalid_json": broken}

    rows = _lake_rows(platform, day)
    assert len(rows) == records
    assert len({r["event_id"] for r in rows}) == records
    assert any(r.get("experiment") for r in rows)  # a field only drifted files hold
    columns = {c.name: c.type for c in event.columns}
    assert columns["duration_ms"] == "bigint"
    assert columns["occurred_at"] == "timestamp"

    glue = platform.client("glue")
    database = platform.outputs("compactor")["CatalogDatabaseName"]
    partition = glue.get_partition(
        DatabaseName=database, TableName="clicks", PartitionValues=[day.isoformat()]
    )["Partition"]
    assert partition["StorageDescriptor"]["Location"] == event.partition.location

    s3 = platform.client("s3")
    lake = platform.outputs("compactor")["LakeBucketName"]
    quarantined = s3.list_objects_v2(
        Bucket=lake, Prefix=f"_quarantine/clicks/dt={day.isoformat()}/"
    )["Contents"]
    lines = [
        json.loads(line)
        for item in quarantined
        for line in s3.get_object(Bucket=lake, Key=item["Key"])["Body"].read().splitlines()
    ]
    assert len(lines) == broken
    assert all(line["reason"] == "invalid_json" and line["line"] >= 1 for line in lines)
    assert s3.list_objects_v2(Bucket=lake, Prefix="_locks/clicks/").get("KeyCount", 0) == 0

    # The landing objects are kept and tagged with the day and the plan their output names.
    plan_id = event.output.files[0].uri.rsplit("-", 1)[1].removesuffix(".parquet")
    landing = platform.outputs("compactor")["LandingBucketName"]
    prefix = f"topics/clicks/year={day:%Y}/month={day:%m}/day={day:%d}/"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=landing, Prefix=prefix)["Contents"]]
    assert len(keys) == 60
    for key in keys:
        tags = s3.get_object_tagging(Bucket=landing, Key=key)["TagSet"]
        assert {"Key": "rocket:compacted", "Value": f"{day.isoformat()}/{plan_id}"} in tags


def test_the_daily_schedule_compacts_yesterday(platform: LocalPlatform) -> None:
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    records, _ = _land(platform, yesterday, files=20, seed=2)
    platform.runtime.trigger("DailyRule")
    assert platform.wait_idle(timeout=240)
    events = [e for e in _processed(platform, yesterday) if e.status == "COMPACTED"]
    assert len(events) == 1
    assert events[0].request_id == f"compactor-daily:{yesterday.isoformat()}"
    assert events[0].output.records == records


def test_a_step_that_fails_once_is_retried_to_the_same_output(platform: LocalPlatform) -> None:
    token = f"e2e-{uuid.uuid4().hex[:8]}"
    day = _free_day(token)
    records, _ = _land(platform, day, files=30, seed=3)
    # Every SDK attempt of the first Finalize fails: it raises CatalogError after the ranges
    # were written; the state machine's Retry runs it again.
    platform.set_fault(service="glue", operation="CreatePartition", kind="error500", count=5)
    try:
        platform.publish(_request(day, f"{token}-a"), correlation_id=token)
        assert platform.wait_idle(timeout=240)
    finally:
        platform.clear_faults()
    (execution,) = _executions(platform, day)
    assert execution["status"] == "SUCCEEDED"
    finalize_calls = [
        i
        for i in platform.runtime.invocations()
        if i.function.endswith("compactor-finalize") and execution["executionArn"] in i.source
    ]
    assert len(finalize_calls) == 2
    assert finalize_calls[0].error is not None
    (event,) = _processed(platform, day)
    assert event.output.records == records
    assert len(_lake_rows(platform, day)) == records


def test_a_day_past_the_inline_limit_runs_as_a_distributed_map(platform: LocalPlatform) -> None:
    """Redeployed while the platform runs, with every plan past the inline limit: the ranges'
    indices are read from the plan in S3 by a Distributed Map, to the same output."""
    token = f"e2e-{uuid.uuid4().hex[:8]}"
    day = _free_day(token)
    records, broken = _land(platform, day, files=20, seed=4)
    platform.deploy("compactor", {"InlineMapMaxRanges": "0"})
    try:
        platform.publish(_request(day, f"{token}-a"), correlation_id=token)
        assert platform.wait_idle(timeout=240)
    finally:
        platform.deploy("compactor")
    (execution,) = _executions(platform, day)
    assert execution["status"] == "SUCCEEDED"
    sfn = platform.client("stepfunctions")
    history = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    kinds = [e["type"] for e in history]
    assert "MapRunStarted" in kinds
    assert "MapRunSucceeded" in kinds
    (event,) = [e for e in _processed(platform, day) if e.status == "COMPACTED"]
    assert event.output.records == records
    assert event.quarantine is not None
    assert event.quarantine.reasons == {"invalid_json": broken}
    assert len(_lake_rows(platform, day)) == records


def test_records_breaking_the_declared_fields_are_reported_to_the_producers(
    platform: LocalPlatform,
) -> None:
    """The day is compacted without them; its report waits in the violations queue."""
    token = f"e2e-{uuid.uuid4().hex[:8]}"
    day = _free_day(token)
    records, broken = _land(platform, day, files=10, seed=5)
    s3 = platform.client("s3")
    landing = platform.outputs("compactor")["LandingBucketName"]
    key = f"topics/clicks/year={day:%Y}/month={day:%m}/day={day:%d}/hour=23/clicks+0+999999.json"
    bad = {"session_id": "s", "occurred_at": f"{day}T23:00:00Z", "page": "/"}  # no event_id
    s3.put_object(Bucket=landing, Key=key, Body=(json.dumps(bad) + "\n").encode())
    platform.publish(_request(day, f"{token}-a"), correlation_id=token)
    assert platform.wait_idle(timeout=240)

    (event,) = [e for e in _processed(platform, day) if e.status == "COMPACTED"]
    assert event.output.records == records
    assert event.quarantine is not None
    assert event.quarantine.reasons == {
        **({"invalid_json": broken} if broken else {}),
        "missing:event_id": 1,
    }
    sqs = platform.client("sqs")
    queue = platform.outputs("compactor")["ViolationQueueUrl"]
    received = sqs.receive_message(
        QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", [])
    reports = [json.loads(m["Body"]) for m in received]
    mine = [r for r in reports if r["date"] == day.isoformat()]
    assert len(mine) == 1
    assert mine[0]["domain"] == "clicks"
    assert mine[0]["reasons"] == {"missing:event_id": 1}
    assert mine[0]["location"] == event.quarantine.location
    (message,) = [m for m in received if json.loads(m["Body"])["date"] == day.isoformat()]
    assert message["MessageAttributes"]["reason"]["StringValue"] == "schema_violation"
