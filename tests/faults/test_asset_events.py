"""asset-events under emulator faults on the local platform.

- DynamoDB leaves half of BatchGetItem keys and BatchWriteItem items unprocessed (a
  reproducible rate): every asset is still decided once, its seen mark written, nothing lost.
- BatchWriteItem fails outright for a while, after the batch's content was stored and its upsert
  requests queued (a crash mid-way): the stream batch is retried, bisected, and each asset ends
  at version 1, announced only as version 1.
- The producer's PutItem fails until it is fixed: the requests reach the DLQ; after the fix the
  redrive function sends them back and they are applied.
- Copies of one request taken by three producer instances at once (two more containers of the
  deployed function beside the runtime's): each asset moves one version, not three.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asset_events import agent_client
from asset_events.adapters.sqs import SqsRequestSender
from asset_events.agent_events import observation
from asset_events.domain import UpsertRequest
from asset_events.hashing import decision_id
from rocket_contracts.models.assets.table_observed_v1 import AssetsTableObservedV1
from rocket_infra.local import LocalPlatform
from rocket_infra.runtime.events import sqs_record
from rocket_infra.runtime.workers import FunctionSpec, FunctionWorker, worker_environment

SERVICE = "asset-events"
T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def agent_events(system: str, run: str, tables: int) -> list[dict[str, Any]]:
    common = {"agent": system, "system": system, "run_id": run}
    running = [
        {
            **common,
            "event_id": f"{run}-{n}",
            "status": "running",
            "emitted_at": (T0 + timedelta(milliseconds=n)).isoformat(),
            "database": "crm",
            "table": f"table_{n:04d}",
            "columns": [{"name": "id", "type": "uuid", "nullable": False}],
        }
        for n in range(tables)
    ]
    done = {
        **common,
        "event_id": f"{run}-done",
        "status": "completed",
        "emitted_at": (T0 + timedelta(minutes=10)).isoformat(),
        "tables_reported": tables,
        "tables_failed": 0,
    }
    return [*running, done]


def put(platform: LocalPlatform, events: list[dict[str, Any]]) -> None:
    stream = platform.outputs(SERVICE)["InputStreamName"]
    agent_client.put_events(platform.client("kinesis"), stream, events)


def upserted_versions(platform: LocalPlatform, system: str) -> dict[str, set[int]]:
    versions: dict[str, set[int]] = {}
    for event in platform.bus_events():
        if event.type == "assets.asset.upserted.v1" and (event.subject or "").startswith(system):
            data = event.data if isinstance(event.data, dict) else {}
            versions.setdefault(str(event.subject), set()).add(int(data["version"]))
    return versions


def seen_runs(platform: LocalPlatform, system: str) -> dict[str, str]:
    dynamodb = platform.client("dynamodb")
    pages = dynamodb.get_paginator("query").paginate(
        TableName=platform.outputs(SERVICE)["ControlTableName"],
        IndexName="agent-index",
        KeyConditionExpression="agent = :a",
        ExpressionAttributeValues={":a": {"S": system}},
    )
    return {
        item["asset_id"]["S"]: item["run_id"]["S"]
        for page in pages
        for item in page["Items"]
        if item["sk"]["S"] == "SEEN"
    }


@pytest.fixture
def faults(platform: LocalPlatform) -> Iterator[LocalPlatform]:
    platform.clear_faults()
    try:
        yield platform
    finally:
        platform.clear_faults()


def test_unprocessed_keys_and_items_lose_nothing(faults: LocalPlatform) -> None:
    system = f"flt-{uuid.uuid4().hex[:8]}"
    for operation in ("BatchGetItem", "BatchWriteItem"):
        faults.set_fault(
            service="dynamodb", operation=operation, kind="unprocessed", rate=0.5, seed=7
        )
    put(faults, agent_events(system, "run-1", 300))
    assert faults.wait_idle(timeout=600)
    fired = {f["operation"]: f["fired"] for f in faults.list_faults()}
    faults.clear_faults()

    assert fired["BatchGetItem"] > 0
    assert fired["BatchWriteItem"] > 0
    versions = upserted_versions(faults, system)
    assert len(versions) == 300
    assert set().union(*versions.values()) == {1}
    assert set(seen_runs(faults, system).values()) == {"run-1"}
    assert len(seen_runs(faults, system)) == 300

    # The same run again, under the same faults: nothing changed, nothing announced.
    before = sum(len(v) for v in upserted_versions(faults, system).values())
    faults.set_fault(service="dynamodb", operation="BatchGetItem", kind="unprocessed", rate=0.5)
    put(faults, agent_events(system, "run-1", 300))
    assert faults.wait_idle(timeout=600)
    assert sum(len(v) for v in upserted_versions(faults, system).values()) == before


def test_a_batch_failing_after_its_requests_were_queued_applies_each_asset_once(
    faults: LocalPlatform,
) -> None:
    system = f"flt-{uuid.uuid4().hex[:8]}"
    # The seen marks are the decisor's last write: content stored and upserts queued by then.
    faults.set_fault(service="dynamodb", operation="BatchWriteItem", kind="error500", count=12)
    put(faults, agent_events(system, "run-1", 120))
    assert faults.wait_idle(timeout=600)
    faults.clear_faults()

    invocations = [
        i for i in faults.runtime.invocations() if i.function.endswith("asset-events-decisor")
    ]
    assert any(i.error for i in invocations), "the fault never failed a decisor batch"
    versions = upserted_versions(faults, system)
    assert len(versions) == 120
    assert set().union(*versions.values()) == {1}
    assert len(seen_runs(faults, system)) == 120
    dynamodb = faults.client("dynamodb")
    table = faults.outputs(SERVICE)["ControlTableName"]
    sample = dynamodb.get_item(
        TableName=table,
        Key={"pk": {"S": f"ASSET#{system}.crm.table_0000"}, "sk": {"S": "STATE"}},
        ConsistentRead=True,
    )["Item"]
    assert sample["version"]["N"] == "1"


@pytest.fixture
def fast_upsert_queue(faults: LocalPlatform) -> Iterator[str]:
    """The upsert queue with a 2 s visibility and 2 deliveries before its DLQ, restored after."""
    with faults.quick_redrive(faults.outputs(SERVICE)["UpsertQueueUrl"]) as url:
        yield url


def test_requests_failing_until_a_fix_are_redriven_and_applied(
    faults: LocalPlatform, fast_upsert_queue: str
) -> None:
    system = f"flt-{uuid.uuid4().hex[:8]}"
    faults.set_fault(service="dynamodb", operation="PutItem", kind="error500")
    put(faults, agent_events(system, "run-1", 5)[:-1])
    sqs = faults.client("sqs")
    dlq = faults.outputs(SERVICE)["UpsertDeadLetterQueueUrl"]
    deadline = datetime.now(UTC) + timedelta(seconds=180)
    while True:
        depth = sqs.get_queue_attributes(
            QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        if int(depth) >= 5:
            break
        assert datetime.now(UTC) < deadline, f"only {depth} requests reached the DLQ"
        faults.wait_idle(timeout=5)
    assert upserted_versions(faults, system) == {}

    faults.clear_faults()  # the fix
    faults.runtime.trigger(f"rocket-{faults.stage}-asset-events-redrive-upsert")
    assert faults.wait_idle(timeout=120)
    versions = upserted_versions(faults, system)
    assert len(versions) == 5
    assert set().union(*versions.values()) == {1}


def producer_spec(platform: LocalPlatform) -> FunctionSpec:
    name = f"rocket-{platform.stage}-asset-events-upsert-producer"
    config = platform.client("lambda").get_function_configuration(FunctionName=name)
    return FunctionSpec(
        name=name,
        arn=config["FunctionArn"],
        handler=config["Handler"],
        environment=dict(config.get("Environment", {}).get("Variables", {})),
        timeout=int(config.get("Timeout", 3)),
    )


class Container(threading.Thread):
    """Another instance of the deployed upsert producer on the upsert queue, as Lambda scales
    out: with the runtime's own, three consumers take copies of one request at once."""

    def __init__(self, platform: LocalPlatform, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.sqs = platform.client("sqs")
        self.url = platform.outputs(SERVICE)["UpsertQueueUrl"]
        self.arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.region = platform.region
        spec = producer_spec(platform)
        env = worker_environment(
            spec, endpoint_url=platform.endpoint_url, region=platform.region,
            task_root=platform.repo_root,
        )  # fmt: skip
        self.worker = FunctionWorker(spec, env, platform.repo_root)
        self.stop = stop
        self.handled = 0

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                got = self.sqs.receive_message(
                    QueueUrl=self.url, MaxNumberOfMessages=3, WaitTimeSeconds=1,
                    AttributeNames=["All"], MessageAttributeNames=["All"],
                ).get("Messages", [])  # fmt: skip
                if not got:
                    continue
                event = {
                    "Records": [sqs_record(m, queue_arn=self.arn, region=self.region) for m in got]
                }
                result = self.worker.invoke(event)
                failed = set() if result.error else {
                    f["itemIdentifier"] for f in result.payload["batchItemFailures"]
                }  # fmt: skip
                for message in got:
                    if result.error is None and message["MessageId"] not in failed:
                        self.handled += 1
                        self.sqs.delete_message(
                            QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"]
                        )
        finally:
            self.worker.stop()


def changed_request(system: str, n: int) -> UpsertRequest:
    """What the decisor asks when table n gained a column in run-2."""
    event = AssetsTableObservedV1.model_validate(
        {
            **agent_events(system, "run-2", n + 1)[n],
            "columns": [
                {"name": "id", "type": "uuid", "nullable": False},
                {"name": "added", "type": "date", "nullable": True},
            ],
            "emitted_at": (T0 + timedelta(days=1, milliseconds=n)).isoformat(),
        }
    )
    seen = observation(event)
    return UpsertRequest(
        decision_id=decision_id(seen.asset_id, seen.content_hash),
        asset=seen.asset,
        agent=system,
        content_hash=seen.content_hash,
        previous_hash=None,
        columns=seen.columns,
        location=None,
        content_uri=f"s3://rocket-faults-content/assets/{seen.asset_id}/{seen.content_hash}.json",
        origin=seen.origin,
        observed_at=seen.observed_at,
        decided_at=seen.observed_at,
        correlation_id=seen.correlation_id,
    )


def test_copies_of_one_request_handled_at_once_apply_it_once(faults: LocalPlatform) -> None:
    system = f"flt-{uuid.uuid4().hex[:8]}"
    put(faults, agent_events(system, "run-1", 40))
    assert faults.wait_idle(timeout=300)
    requests = [changed_request(system, n) for n in range(40)]
    stop = threading.Event()
    containers = [Container(faults, stop) for _ in range(2)]
    for container in containers:
        container.start()
    try:
        sender = SqsRequestSender(
            upsert_queue_url=faults.outputs(SERVICE)["UpsertQueueUrl"],
            drop_queue_url=faults.outputs(SERVICE)["DropQueueUrl"],
            client=faults.client("sqs"),
        )
        for start in range(0, len(requests), 5):  # each request three times, side by side
            chunk = requests[start : start + 5]
            assert sender.send_upserts(chunk * 3) == set()
        assert faults.wait_idle(timeout=300)
        deadline = datetime.now(UTC) + timedelta(seconds=60)
        while datetime.now(UTC) < deadline and any(c.handled == 0 for c in containers):
            faults.wait_idle(timeout=2)
    finally:
        stop.set()
        for container in containers:
            container.join(60)

    assert all(c.handled > 0 for c in containers), "a container never took a request"
    dynamodb = faults.client("dynamodb")
    table = faults.outputs(SERVICE)["ControlTableName"]
    for request in requests:
        item = dynamodb.get_item(
            TableName=table,
            Key={"pk": {"S": f"ASSET#{request.asset_id}"}, "sk": {"S": "STATE"}},
            ConsistentRead=True,
        )["Item"]
        assert item["version"]["N"] == "2", request.asset_id
        assert item["content_hash"]["S"] == request.content_hash
        assert [h[0] for h in json.loads(item["history"]["S"])] == [1, 2]
    versions = upserted_versions(faults, system)
    assert set().union(*versions.values()) == {1, 2}
