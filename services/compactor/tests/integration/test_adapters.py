"""The S3, Glue, Step Functions and bus adapters against moto: what the workflow relies on."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest
from compactor.adapters.bus import SnsPublisher
from compactor.adapters.executions import StepFunctionsExecutions
from compactor.adapters.glue import GlueCatalog
from compactor.adapters.s3 import S3ObjectStore
from compactor.adapters.violations import SqsViolations
from compactor.locks import DayLocks, lock_key
from compactor.ports import CatalogError, ObjectChangedError, StorageError, ViolationReport
from compactor.schema import Column
from moto import mock_aws
from rocket_contracts.models.compactor.compaction_requested_v1 import (
    CompactorCompactionRequestedV1,
)

REGION = "us-east-1"
BUCKET = "lake"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        yield


def store() -> S3ObjectStore:
    return S3ObjectStore(boto3.client("s3", region_name=REGION))


def test_listing_is_paginated_and_carries_last_modified(aws: None) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    for i in range(1203):
        s3.put_object(Bucket=BUCKET, Key=f"topics/t/partition=0/t+0+{i:05d}.json", Body=b"{}\n")
    s3.put_object(Bucket=BUCKET, Key="topics/u/x.json", Body=b"{}\n")
    listed = list(store().list_objects(BUCKET, "topics/t/"))
    assert len(listed) == 1203
    assert listed[0].size == 3
    assert listed[0].last_modified.tzinfo is not None
    assert abs(listed[0].last_modified - datetime.now(UTC)) < timedelta(minutes=5)


def test_a_get_is_pinned_to_the_planned_etag(aws: None, tmp_path: Path) -> None:
    s3 = store()
    s3.put_bytes(BUCKET, "a.json", b"old\n")
    (obj,) = list(s3.list_objects(BUCKET, "a.json"))
    assert s3.get_bytes(BUCKET, "a.json", etag=obj.etag) == b"old\n"
    s3.put_bytes(BUCKET, "a.json", b"new\n")
    with pytest.raises(ObjectChangedError):
        s3.get_bytes(BUCKET, "a.json", etag=obj.etag)
    with pytest.raises(ObjectChangedError):
        s3.get_bytes(BUCKET, "gone.json", etag=obj.etag)


def test_files_json_sizes_and_deletes(aws: None, tmp_path: Path) -> None:
    s3 = store()
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (17 * 1024 * 1024))  # above the multipart threshold
    s3.upload(big, BUCKET, "p/big.bin")
    assert s3.size_of(BUCKET, "p/big.bin") == big.stat().st_size
    s3.download(BUCKET, "p/big.bin", tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == big.read_bytes()
    assert s3.size_of(BUCKET, "p/none") is None
    assert s3.read_json(BUCKET, "p/none.json") is None
    s3.put_json(BUCKET, "p/a.json", {"b": [1]})
    found = s3.read_json(BUCKET, "p/a.json")
    assert found is not None
    assert found[0] == {"b": [1]}
    s3.delete(BUCKET, "p/a.json")
    assert s3.read_json(BUCKET, "p/a.json") is None


def test_tagging_adds_to_the_tag_set_once_and_skips_what_is_gone(aws: None) -> None:
    s3 = store()
    client = boto3.client("s3", region_name=REGION)
    client.put_object(Bucket=BUCKET, Key="t/a.json", Body=b"{}\n", Tagging="owner=sink")
    assert s3.tag(BUCKET, "t/a.json", {"rocket:compacted": "2026-11-21/p1"})
    assert not s3.tag(BUCKET, "t/a.json", {"rocket:compacted": "2026-11-21/p1"})
    tags = client.get_object_tagging(Bucket=BUCKET, Key="t/a.json")["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags} == {
        "owner": "sink",
        "rocket:compacted": "2026-11-21/p1",
    }
    assert s3.tag(BUCKET, "t/a.json", {"rocket:compacted": "2026-11-21/p2"})  # a re-compaction
    assert not s3.tag(BUCKET, "t/gone.json", {"rocket:compacted": "2026-11-21/p1"})


def test_conditional_writes_decide_the_lock_under_concurrent_starts(aws: None) -> None:
    locks = DayLocks(store(), BUCKET, timedelta(hours=2))
    key = lock_key("orders", "2026-11-21")
    now = datetime.now(UTC)
    barrier = threading.Barrier(6)
    won: list[str] = []

    def start(owner: str) -> None:
        barrier.wait()
        if locks.acquire(key, owner, now).acquired:
            won.append(owner)

    threads = [threading.Thread(target=start, args=(f"exec-{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1
    later = now + timedelta(hours=3)
    assert locks.acquire(key, "exec-late", later).acquired  # the expired one, taken over
    assert not locks.acquire(key, won[0], later).acquired
    assert locks.release(key, "exec-late")


def test_an_unreachable_store_is_a_storage_error() -> None:
    client = boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=botocore.config.Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    with pytest.raises(StorageError):
        S3ObjectStore(client).put_json(BUCKET, "a.json", {})


def test_tables_and_partitions_are_created_then_updated(aws: None) -> None:
    glue_client = boto3.client("glue", region_name=REGION)
    glue_client.create_database(DatabaseInput={"Name": "db"})
    glue = GlueCatalog(glue_client)
    assert glue.table_columns("db", "orders") is None
    glue.put_table("db", "orders", [Column("a", "bigint")], "s3://lake/orders/")
    glue.put_table(
        "db", "orders", [Column("a", "double"), Column("b", "string")], "s3://lake/orders/"
    )
    assert glue.table_columns("db", "orders") == [Column("a", "double"), Column("b", "string")]
    glue.put_partition(
        "db", "orders", "2026-11-21", [Column("a", "bigint")], "s3://lake/orders/dt=2026-11-21/"
    )
    glue.put_partition(
        "db", "orders", "2026-11-21", [Column("a", "double")], "s3://lake/orders/dt=2026-11-21/"
    )
    (partition,) = glue_client.get_partitions(DatabaseName="db", TableName="orders")["Partitions"]
    assert partition["Values"] == ["2026-11-21"]
    assert partition["StorageDescriptor"]["Columns"] == [{"Name": "a", "Type": "double"}]
    table = glue_client.get_table(DatabaseName="db", Name="orders")["Table"]
    assert table["PartitionKeys"] == [{"Name": "dt", "Type": "string"}]
    with pytest.raises(CatalogError):
        glue.put_table("no_such_db", "orders", [], "s3://lake/orders/")


def test_an_execution_name_starts_once(aws: None) -> None:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = sfn.create_state_machine(
        name="m",
        definition=json.dumps({"StartAt": "S", "States": {"S": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/r",
    )["stateMachineArn"]
    executions = StepFunctionsExecutions(arn, sfn)
    assert executions.start("orders-2026-11-21-abc", {"job": {}})
    # The same start again (a redelivered request) is answered, not repeated.
    executions.start("orders-2026-11-21-abc", {"job": {}})
    assert not executions.start("orders-2026-11-21-abc", {"job": {"other": 1}})
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == 1


def test_a_published_request_carries_its_type_attribute(aws: None) -> None:
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="events")["TopicArn"]
    queue = sqs.create_queue(QueueName="q")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    request = CompactorCompactionRequestedV1.model_validate(
        {
            "request_id": "r1",
            "date": "2026-11-21",
            "requested_by": "t",
            "requested_at": "2026-11-22T00:00:00Z",
        }
    )
    SnsPublisher(topic, sns).publish(request, correlation_id="c1", subject="2026-11-21")
    (message,) = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"]
    body: dict[str, Any] = json.loads(message["Body"])
    assert body["type"] == "compactor.compaction.requested.v1"
    assert body["correlationid"] == "c1"
    assert message["MessageAttributes"]["type"]["StringValue"] == body["type"]


def _report(plan_id: str = "p1") -> ViolationReport:
    return ViolationReport(
        domain="orders",
        date="2026-11-21",
        plan_id=plan_id,
        request_id="req-1",
        records=2,
        reasons={"missing:order_id": 1, "type:amount": 1},
        location="s3://lake/_quarantine/orders/dt=2026-11-21/",
    )


def test_a_violation_report_reaches_the_fifo_queue_once_per_plan(aws: None) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="violations.fifo", Attributes={"FifoQueue": "true"})[
        "QueueUrl"
    ]
    violations = SqsViolations(url, sqs)
    violations.report(_report())
    violations.report(_report())  # a retried Finalize: deduplicated by the plan
    violations.report(_report("p2"))  # the day compacted again from other input
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])[
        "Messages"
    ]
    assert [json.loads(m["Body"])["plan_id"] for m in got] == ["p1", "p2"]
    attributes = got[0]["MessageAttributes"]
    assert attributes["reason"]["StringValue"] == "schema_violation"
    assert attributes["detail"]["StringValue"].startswith(
        "orders 2026-11-21: 2 records break the declared fields (missing:order_id 1, type:amount 1)"
    )


def test_a_violations_queue_that_is_gone_is_a_storage_error(aws: None) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/missing.fifo"
    with pytest.raises(StorageError):
        SqsViolations(url, sqs).report(_report())
