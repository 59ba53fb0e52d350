"""asset-events on the local platform, wired by its own template: agents put events on the
input stream, the decisor decides, the producers apply and announce.

- An agent run over 1,000 tables gives 1,000 upserts; a second run with 50 tables changed, 30
  gone and 10 new gives exactly 50 UPDATED, 10 CREATED and 30 dropped, and nothing else.
- A run that stops after 10% of its tables and then completes drops nothing; the withheld
  decision is kept for a human.
- The same records delivered twice change nothing more; a record that breaks the contract is
  quarantined with its reason while the rest of its batch is decided.
- The lake's own tables arrive from etl.delivery.published.v1 on the bus.
- A poison request reaches its DLQ, `rocket redrive asset-events upsert` (the service's own
  redrive, run through the running platform) sends it back counting attempts, and past the
  limit it is parked in the content bucket.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asset_events import agent_client
from rocket_contracts import registry
from rocket_contracts.models.etl.delivery_published_v1 import EtlDeliveryPublishedV1
from rocket_infra import cli, control
from rocket_infra.local import LocalPlatform

pytestmark = pytest.mark.e2e

SERVICE = "asset-events"
T0 = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def table_event(
    system: str,
    table: str,
    run: str,
    at: datetime,
    *,
    columns: Sequence[tuple[str, str, bool]] = (("id", "bigint", False), ("name", "text", True)),
) -> dict[str, Any]:
    return {
        "event_id": f"{run}-{table}",
        "agent": system,
        "system": system,
        "run_id": run,
        "status": "running",
        "emitted_at": at.isoformat(),
        "database": "sales",
        "schema": "public",
        "table": table,
        "columns": [{"name": n, "type": t, "nullable": x} for n, t, x in columns],
        "properties": {"owner": "erp", "row_count": str(len(table) * 1000 + at.minute)},
    }


def completed_event(system: str, run: str, at: datetime, reported: int) -> dict[str, Any]:
    return {
        "event_id": f"{run}-completed",
        "agent": system,
        "system": system,
        "run_id": run,
        "status": "completed",
        "emitted_at": at.isoformat(),
        "tables_reported": reported,
        "tables_failed": 0,
    }


def put_events(platform: LocalPlatform, events: Sequence[dict[str, Any] | bytes]) -> None:
    stream = platform.outputs(SERVICE)["InputStreamName"]
    agent_client.put_events(platform.client("kinesis"), stream, events)


def agent_run(
    system: str,
    run: str,
    at: datetime,
    tables: Sequence[str],
    changed: Collection[str] = frozenset(),
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for n, table in enumerate(tables):
        columns: tuple[tuple[str, str, bool], ...] = (
            ("id", "bigint", False),
            ("name", "varchar(80)", True),
        )
        if table in changed:
            columns = (*columns, ("added", "date", True))
        events.append(
            table_event(system, table, run, at + timedelta(milliseconds=n), columns=columns)
        )
    return [*events, completed_event(system, run, at + timedelta(minutes=5), len(tables))]


def announced(platform: LocalPlatform, system: str) -> Counter[str]:
    """(type, change) of every assets.* event about the system's assets on the bus."""
    found: Counter[str] = Counter()
    for event in platform.bus_events():
        if not (event.subject or "").startswith(f"{system}."):
            continue
        data = event.data if isinstance(event.data, dict) else {}
        found[f"{event.type}:{data.get('change', '')}"] += 1
    return found


def states(platform: LocalPlatform, agent: str) -> dict[str, dict[str, Any]]:
    dynamodb = platform.client("dynamodb")
    table = platform.outputs(SERVICE)["ControlTableName"]
    items: dict[str, dict[str, Any]] = {}
    pages = dynamodb.get_paginator("query").paginate(
        TableName=table,
        IndexName="agent-index",
        KeyConditionExpression="agent = :a",
        ExpressionAttributeValues={":a": {"S": agent}},
    )
    for page in pages:
        for item in page["Items"]:
            if item["sk"]["S"] == "STATE":
                items[item["asset_id"]["S"]] = item
    return items


def test_two_agent_runs_give_exactly_their_upserts_and_drops(platform: LocalPlatform) -> None:
    system = f"e2e-{uuid.uuid4().hex[:8]}"
    tables = [f"t{n:04d}" for n in range(1000)]
    put_events(platform, agent_run(system, "run-1", T0, tables))
    assert platform.wait_idle(timeout=600)
    assert announced(platform, system) == Counter({"assets.asset.upserted.v1:CREATED": 1000})

    gone = set(tables[:30])
    changed = set(tables[100:150])
    new = [f"n{n:04d}" for n in range(10)]
    second = [t for t in tables if t not in gone] + new
    put_events(platform, agent_run(system, "run-2", T0 + timedelta(days=1), second, changed))
    assert platform.wait_idle(timeout=600)

    assert announced(platform, system) == Counter(
        {
            "assets.asset.upserted.v1:CREATED": 1010,
            "assets.asset.upserted.v1:UPDATED": 50,
            "assets.asset.dropped.v1:": 30,
        }
    )
    held = states(platform, system)
    status = Counter(item["status"]["S"] for item in held.values())
    assert status == Counter({"ACTIVE": 980, "DROPPED": 30})
    prefix = f"{system}.sales--public."
    assert {a for a, i in held.items() if i["status"]["S"] == "DROPPED"} == {
        prefix + t for t in gone
    }
    assert {a for a, i in held.items() if i["version"]["N"] == "2"} == {
        prefix + t for t in gone | changed
    }


def test_a_run_that_stops_early_drops_nothing(platform: LocalPlatform) -> None:
    system = f"e2e-{uuid.uuid4().hex[:8]}"
    tables = [f"t{n:03d}" for n in range(100)]
    put_events(platform, agent_run(system, "run-1", T0, tables))
    assert platform.wait_idle(timeout=300)
    # The agent crashes after 10% of its tables, then still reports the run completed.
    put_events(platform, agent_run(system, "run-2", T0 + timedelta(days=1), tables[:10]))
    assert platform.wait_idle(timeout=300)

    assert announced(platform, system) == Counter({"assets.asset.upserted.v1:CREATED": 100})
    s3 = platform.client("s3")
    bucket = platform.outputs(SERVICE)["ContentBucketName"]
    kept = json.loads(
        s3.get_object(Bucket=bucket, Key=f"withheld/{system}/run-2.json")["Body"].read()
    )
    assert kept["reason"] == "TOO_MANY_DROPS"
    assert len(kept["not_seen"]) == 90


def test_redelivered_records_change_nothing_and_a_bad_record_is_quarantined(
    platform: LocalPlatform,
) -> None:
    system = f"e2e-{uuid.uuid4().hex[:8]}"
    events = agent_run(system, "run-1", T0, [f"t{n}" for n in range(20)])
    bad = json.dumps({**events[0], "columns": []}).encode()
    put_events(platform, [*events[:10], bad, b"not json", *events[10:]])
    put_events(platform, events)  # the agent retried the whole run
    assert platform.wait_idle(timeout=300)

    assert announced(platform, system) == Counter({"assets.asset.upserted.v1:CREATED": 20})
    assert {i["version"]["N"] for i in states(platform, system).values()} == {"1"}
    s3 = platform.client("s3")
    bucket = platform.outputs(SERVICE)["ContentBucketName"]
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix="quarantine/"
        )
        for o in page.get("Contents", [])
    ]
    reasons = [json.loads(s3.get_object(Bucket=bucket, Key=k)["Body"].read()) for k in keys]
    mine = [r for r in reasons if system in r["data"] or r["data"] == "not json"]
    assert {r["reason"] for r in mine} >= {"not JSON", "invalid assets.table.observed.v1"}


def test_the_lake_tables_announced_by_etl_layers_become_assets(platform: LocalPlatform) -> None:
    example = dict(registry.schema_for("etl.delivery.published.v1")["examples"][0])
    token = uuid.uuid4().hex[:8]
    outputs = dict(example["outputs"])
    for name in ("trusted_table", "delivery_table"):
        outputs[name] = {**outputs[name], "name": f"{outputs[name]['name']}_{token}"}
    announcement = EtlDeliveryPublishedV1.model_validate({**example, "outputs": outputs})
    platform.publish(announcement, correlation_id=f"e2e-{token}")
    platform.publish(announcement, correlation_id=f"e2e-{token}")  # published twice
    assert platform.wait_idle(timeout=120)

    upserted = [
        e
        for e in platform.bus_events()
        if e.type == "assets.asset.upserted.v1" and token in (e.subject or "")
    ]
    assert sorted(e.subject or "" for e in upserted) == [
        f"glue.rocket_prod_etl.transactions_delivery_{token}",
        f"glue.rocket_prod_etl.transactions_trusted_{token}",
    ]
    assert {e.correlationid for e in upserted} == {f"e2e-{token}"}


@pytest.fixture
def fast_upsert_queue(platform: LocalPlatform) -> Iterator[str]:
    """The upsert queue with a 2 s visibility and 2 deliveries before its DLQ, restored after."""
    with platform.quick_redrive(platform.outputs(SERVICE)["UpsertQueueUrl"]) as url:
        yield url


@pytest.fixture
def control_queue(platform: LocalPlatform) -> Iterator[None]:
    """The control queue a `rocket up` serves, served here by the test's platform, so `rocket`
    commands that run something on the platform (redrive's invocation) reach its runtime."""
    sqs = platform.client("sqs")
    url = sqs.create_queue(QueueName=control.control_queue_name(platform.stage))["QueueUrl"]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            control.serve_once(sqs, url, lambda c: cli.platform_command(platform.runtime, c))

    server = threading.Thread(target=serve, name="control-queue", daemon=True)
    server.start()
    try:
        yield
    finally:
        stop.set()
        server.join(10)
        sqs.delete_queue(QueueUrl=url)


def rocket_redrive(
    platform: LocalPlatform, queue: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    argv = ["redrive", SERVICE, queue, "--stage", platform.stage]
    status = cli.main([*argv, "--endpoint-url", platform.endpoint_url])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def test_a_poison_request_is_redriven_then_parked(
    platform: LocalPlatform,
    fast_upsert_queue: str,
    control_queue: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    outputs = platform.outputs(SERVICE)
    sqs = platform.client("sqs")
    token = uuid.uuid4().hex
    attributes = {"type": {"DataType": "String", "StringValue": "assets.upsert.requested.v1"}}
    sqs.send_message(
        QueueUrl=fast_upsert_queue, MessageBody=f"poison {token}", MessageAttributes=attributes
    )
    dlq = outputs["UpsertDeadLetterQueueUrl"]
    function = f"rocket-{platform.stage}-asset-events-redrive"

    def dead() -> list[dict[str, Any]]:
        got = sqs.receive_message(
            QueueUrl=dlq,
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            MessageAttributeNames=["All"],
            WaitTimeSeconds=1,
        ).get("Messages", [])
        return [m for m in got if token in m["Body"]]

    for attempt in range(4):
        deadline = datetime.now(UTC) + timedelta(seconds=90)
        while not (found := dead()):
            assert datetime.now(UTC) < deadline, "the poison request never reached the DLQ"
        # Attempts travel with the message: the generic move would not count them.
        attempts = found[0].get("MessageAttributes", {}).get("redrive_attempts", {})
        assert attempts.get("StringValue", "0") == str(attempt)
        if attempt == 3:
            break
        # The upsert DLQ by any of its names: the short one, the DLQ's logical id.
        status, output = rocket_redrive(
            platform, "upsert" if attempt != 1 else "UpsertDeadLetterQueue", capsys
        )
        assert status == 0, output
        assert f'{function} {{"queue": "upsert"}}: moved 1, parked 0' in output
        assert platform.wait_idle(timeout=60)
    # The fourth time in the DLQ: redrive parks it (RedriveMaxAttempts 3) instead.
    status, output = rocket_redrive(platform, "upsert", capsys)
    assert status == 0, output
    assert "moved 0, parked 1" in output
    assert "parked s3://" in output
    assert dead() == []
    s3 = platform.client("s3")
    parked = [
        json.loads(s3.get_object(Bucket=outputs["ContentBucketName"], Key=o["Key"])["Body"].read())
        for o in s3.list_objects_v2(
            Bucket=outputs["ContentBucketName"], Prefix="parked/upsert/"
        ).get("Contents", [])
    ]
    [mine] = [p for p in parked if token in p["body"]]
    assert mine["attempts"] == 3
    assert len(mine["redriven_at"]) == 3
    # Each `rocket redrive` ran the function once through the platform's runtime.
    runs = [i for i in platform.runtime.invocations() if i.function == function]
    assert [i.error for i in runs if i.source == "invoke"][-4:] == [None] * 4
