"""asset-events benchmark: decisions per second and DynamoDB calls per event, for `running`
events with 10% changed, in-process against moto: the decisor's batched reads and writes
against the obvious alternative (one event at a time: GetItem for the state and the seen mark,
PutItem for the mark), in the same run, on the same seeded table.

Run: ROCKET_BENCH_ASSETS=100000 .venv/bin/pytest -m bench -s -p no:xdist \
    tests/benchmarks/test_asset_events.py
Figures go to BENCHMARKS.md by hand; nothing here asserts on time.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from asset_events.adapters.dynamodb import (
    DynamoControlStore,
    records_from_items,
    seen_item,
    state_item,
)
from asset_events.adapters.s3 import S3ContentStore
from asset_events.adapters.sqs import SqsRequestSender
from asset_events.agent_events import observation
from asset_events.decisor import Decisor
from asset_events.domain import (
    ASSET_PREFIX,
    SEEN_SK,
    STATE_SK,
    AssetRecord,
    AssetState,
    Decision,
    Observation,
    SeenMark,
    Status,
    utc_text,
)
from moto import mock_aws
from rocket_contracts.models.assets.table_observed_v1 import AssetsTableObservedV1

pytestmark = pytest.mark.bench

ASSETS = int(os.environ.get("ROCKET_BENCH_ASSETS", "20000"))
BATCH = 500  # DecisorBatchSize's default
TABLE = "rocket-bench-asset-events-control"
BUCKET = "rocket-bench-asset-events-content"
T0 = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
AGENT = "bench-agent"


def report(table: int, run: str, at: datetime, changed: bool) -> Observation:
    columns = [{"name": "id", "type": "bigint", "nullable": False}]
    if changed:
        columns.append({"name": "added", "type": "date", "nullable": True})
    event = AssetsTableObservedV1.model_validate(
        {
            "event_id": f"{run}-{table}",
            "agent": AGENT,
            "system": "bench",
            "run_id": run,
            "status": "running",
            "emitted_at": at,
            "database": "sales",
            "schema": "public",
            "table": f"t{table:06d}",
            "columns": columns,
            "properties": {"owner": "erp", "row_count": str(table)},
        }
    )
    return observation(event)


class PerEventStore(DynamoControlStore):
    """The baseline's access pattern: every key read with its own GetItem, every mark put with
    its own PutItem (what a handler deciding one record at a time does)."""

    def __init__(self, *, client: Any) -> None:
        super().__init__(table_name=TABLE, client=client, lean_reads=True)
        self._raw = client

    def read(self, asset_ids: Sequence[str]) -> dict[str, AssetRecord]:
        items = []
        for asset_id in asset_ids:
            for sk in (STATE_SK, SEEN_SK):
                found = self._raw.get_item(
                    TableName=TABLE,
                    Key={"pk": {"S": f"{ASSET_PREFIX}{asset_id}"}, "sk": {"S": sk}},
                    ConsistentRead=True,
                    **self._projection,  # the same attributes as the batched reads
                ).get("Item")
                if found:
                    items.append(found)
        return records_from_items(items)

    def mark_seen(self, marks: Sequence[SeenMark]) -> None:
        for mark in marks:
            self._raw.put_item(TableName=TABLE, Item=seen_item(mark))


@dataclass
class Bench:
    dynamodb: Any
    s3: Any
    sqs: Any
    calls: Counter[str]
    upsert_url: str

    def decisor(self, store: DynamoControlStore) -> Decisor:
        return Decisor(
            store=store,
            content=S3ContentStore(bucket=BUCKET, client=self.s3),
            sender=SqsRequestSender(
                upsert_queue_url=self.upsert_url, drop_queue_url=self.upsert_url, client=self.sqs
            ),
        )


@pytest.fixture
def bench() -> Iterator[Bench]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "agent")
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "agent-index",
                    "KeySchema": [{"AttributeName": "agent", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="rocket-bench-asset-events-upsert")["QueueUrl"]
        calls: Counter[str] = Counter()
        dynamodb.meta.events.register(
            "before-call.dynamodb.*", lambda model, **_: calls.update([model.name])
        )
        yield Bench(dynamodb, s3, sqs, calls, url)


def seed(bench: Bench) -> None:
    """Every asset known from run-1: state and seen mark, written straight to the table."""
    store = DynamoControlStore(table_name=TABLE, client=bench.dynamodb)
    items = []
    for n in range(ASSETS):
        seen = report(n, "run-1", T0, changed=False)
        state = AssetState(
            asset=seen.asset,
            agent=AGENT,
            status=Status.ACTIVE,
            version=1,
            content_hash=seen.content_hash,
            content_uri=f"s3://{BUCKET}/assets/{seen.asset_id}/{seen.content_hash}.json",
            observed_at=utc_text(T0),
            updated_at=utc_text(T0),
            columns=seen.columns,
        )
        mark = SeenMark(seen.asset_id, AGENT, "run-1", utc_text(T0), seen.content_hash)
        items += [
            {"PutRequest": {"Item": state_item(state)}},
            {"PutRequest": {"Item": seen_item(mark)}},
        ]
    for start in range(0, len(items), 25):
        store._batch_write(items[start : start + 25])


def measure(
    bench: Bench, run: str, at: datetime, *, batch: int, store: DynamoControlStore
) -> dict[str, Any]:
    reports = [
        report(n, run, at + timedelta(microseconds=n), changed=n % 10 == 0) for n in range(ASSETS)
    ]
    decisor = bench.decisor(store)
    bench.calls.clear()
    decisions: Counter[Decision] = Counter()
    started = time.perf_counter()
    for start in range(0, len(reports), batch):
        for decided in decisor.observe(reports[start : start + batch]):
            decisions[decided.decision] += 1
    seconds = time.perf_counter() - started
    reads = bench.calls["BatchGetItem"] + bench.calls["GetItem"]
    writes = bench.calls["BatchWriteItem"] + bench.calls["PutItem"]
    return {
        "decisions": dict(decisions),
        "seconds": seconds,
        "per_second": ASSETS / seconds,
        "reads_per_event": reads / ASSETS,
        "writes_per_event": writes / ASSETS,
        "calls": dict(bench.calls),
    }


def test_batched_decisions_against_one_getitem_per_event(bench: Bench) -> None:
    seed(bench)
    batched = measure(
        bench,
        "run-2",
        T0 + timedelta(days=1),
        batch=BATCH,
        store=DynamoControlStore(table_name=TABLE, client=bench.dynamodb, lean_reads=True),
    )
    # The baseline decides the next run (same decisions: its changed tenth is changed again).
    baseline = measure(
        bench, "run-3", T0 + timedelta(days=2), batch=1, store=PerEventStore(client=bench.dynamodb)
    )
    expected = {Decision.CHANGED: ASSETS // 10, Decision.UNCHANGED: ASSETS - ASSETS // 10}
    assert batched["decisions"] == expected
    assert baseline["decisions"] == expected
    assert batched["reads_per_event"] <= 0.05
    print(f"\nasset-events bench, {ASSETS} running events, 10% changed, batch {BATCH}")
    for name, figures in (("batched", batched), ("per-event GetItem", baseline)):
        print(
            f"{name}: {figures['per_second']:.0f} decisions/s in {figures['seconds']:.1f} s; "
            f"DynamoDB reads/event {figures['reads_per_event']:.4f}, "
            f"writes/event {figures['writes_per_event']:.4f}; calls {figures['calls']}"
        )
    print(f"speed-up: {batched['per_second'] / baseline['per_second']:.1f}x")
