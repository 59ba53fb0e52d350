"""Faults on demand, through the emulator's HTTP endpoint as any AWS client sees them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError
from rocket_infra import cli, faults
from rocket_infra.emulator import Emulator


@pytest.fixture
def url(emulator_server: Emulator) -> Iterator[str]:
    yield emulator_server.endpoint_url
    faults.clear_faults(emulator_server.endpoint_url)


def _client(url: str, service: str, **config: Any) -> Any:
    """No SDK retries: each call the test makes is one request the emulator sees."""
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}, **config),
    )


def _table(url: str) -> str:
    name = f"faults-{uuid.uuid4().hex[:8]}"
    _client(url, "dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def _code(call: Any) -> tuple[str, int]:
    try:
        call()
    except ClientError as exc:
        return exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"]
    return "ok", 200


def _stored(url: str, table: str) -> set[str]:
    items = _client(url, "dynamodb").scan(TableName=table)["Items"]
    return {item["pk"]["S"] for item in items}


def test_count_faults_the_next_calls_only(url: str) -> None:
    table = _table(url)
    dynamodb = _client(url, "dynamodb")
    faults.set_fault(url, service="dynamodb", operation="PutItem", kind="throttle", count=2)

    def put() -> Any:
        return dynamodb.put_item(TableName=table, Item={"pk": {"S": uuid.uuid4().hex}})

    assert _code(lambda: dynamodb.get_item(TableName=table, Key={"pk": {"S": "x"}})) == ("ok", 200)
    assert [_code(put) for _ in range(3)] == [
        ("ProvisionedThroughputExceededException", 400),
        ("ProvisionedThroughputExceededException", 400),
        ("ok", 200),
    ]
    assert len(_stored(url, table)) == 1  # a faulted call never reached the table
    [shown] = faults.list_faults(url)
    assert (shown["operation"], shown["fired"], shown["remaining"]) == ("PutItem", 2, 0)


def test_unprocessed_items_are_each_written_once_by_a_retry_loop(url: str) -> None:
    table = _table(url)
    dynamodb = _client(url, "dynamodb")
    wanted = {f"item-{i:02d}" for i in range(25)}
    faults.set_fault(
        url, service="dynamodb", operation="BatchWriteItem", kind="unprocessed", count=3
    )
    pending: dict[str, Any] = {
        table: [{"PutRequest": {"Item": {"pk": {"S": pk}}}} for pk in sorted(wanted)]
    }
    sizes = []
    while pending:
        pending = dynamodb.batch_write_item(RequestItems=pending)["UnprocessedItems"]
        left = {r["PutRequest"]["Item"]["pk"]["S"] for r in pending.get(table, [])}
        stored = _stored(url, table)
        # what came back was not written, and all the rest was: nothing lost, nothing twice
        assert not stored & left
        assert stored | left == wanted
        sizes.append(len(left))
    assert sizes == [13, 7, 4, 0]


def test_unprocessed_keys_come_back_for_the_next_batch_get(url: str) -> None:
    table = _table(url)
    dynamodb = _client(url, "dynamodb")
    for i in range(10):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": f"k{i}"}, "n": {"N": str(i)}})
    faults.set_fault(url, service="dynamodb", operation="BatchGetItem", kind="unprocessed", count=1)
    request = {table: {"Keys": [{"pk": {"S": f"k{i}"}} for i in range(10)]}}
    first = dynamodb.batch_get_item(RequestItems=request)
    assert len(first["Responses"][table]) == 5
    assert len(first["UnprocessedKeys"][table]["Keys"]) == 5
    second = dynamodb.batch_get_item(RequestItems=first["UnprocessedKeys"])
    assert second["UnprocessedKeys"] == {}
    read = {i["pk"]["S"] for i in first["Responses"][table] + second["Responses"][table]}
    assert read == {f"k{i}" for i in range(10)}


def test_a_seeded_rate_faults_the_same_calls_every_time(url: str) -> None:
    sqs = _client(url, "sqs")
    queue = sqs.create_queue(QueueName=f"faults-{uuid.uuid4().hex[:8]}")["QueueUrl"]

    def pattern() -> list[str]:
        faults.set_fault(
            url, service="sqs", operation="SendMessage", kind="error500", rate=0.5, seed=7
        )
        return [
            _code(lambda: sqs.send_message(QueueUrl=queue, MessageBody="m"))[0] for _ in range(20)
        ]

    first = pattern()
    assert first == pattern()
    assert {"ok", "InternalFailure"} == set(first)


def test_clear_stops_every_fault(url: str) -> None:
    s3 = _client(url, "s3")
    bucket = f"faults-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    faults.set_fault(url, service="s3", operation="PutObject", kind="throttle")
    faults.set_fault(url, service="sns", operation="*", kind="error500")
    assert _code(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x")) == ("SlowDown", 503)
    assert _code(lambda: s3.get_object(Bucket=bucket, Key="k")) == ("NoSuchKey", 404)
    sns = _client(url, "sns")
    assert _code(lambda: sns.create_topic(Name="faults")) == ("InternalError", 500)
    faults.clear_faults(url)
    assert faults.list_faults(url) == []
    assert _code(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x")) == ("ok", 200)
    assert _code(lambda: sns.create_topic(Name="faults")) == ("ok", 200)


def test_a_timeout_answers_after_the_delay(url: str) -> None:
    kinesis = _client(url, "kinesis", read_timeout=0.3, connect_timeout=1)
    faults.set_fault(
        url, service="kinesis", operation="ListStreams", kind="timeout", count=2, delay_seconds=0.6
    )
    with pytest.raises(ReadTimeoutError):
        kinesis.list_streams()
    patient = _client(url, "kinesis")
    assert _code(patient.list_streams) == ("InternalFailure", 500)
    assert _code(patient.list_streams) == ("ok", 200)


def test_a_fault_the_emulator_cannot_apply_is_refused_by_reason(url: str) -> None:
    with pytest.raises(faults.FaultError, match="unprocessed applies to dynamodb"):
        faults.set_fault(url, service="sqs", operation="SendMessage", kind="unprocessed")
    with pytest.raises(faults.FaultError, match="kind 'slow'"):
        faults.set_fault(url, service="sqs", operation="SendMessage", kind="slow")
    with pytest.raises(faults.FaultError, match="rate or count"):
        faults.set_fault(
            url, service="sqs", operation="SendMessage", kind="throttle", rate=0.5, count=1
        )
    assert faults.list_faults(url) == []


def test_rocket_fault_sets_lists_and_clears(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--endpoint-url", url]
    assert (
        cli.main(
            [
                "fault",
                "set",
                "--service",
                "dynamodb",
                "--operation",
                "BatchWriteItem",
                "--kind",
                "unprocessed",
                "--count",
                "3",
                *common,
            ]
        )
        == 0
    )
    assert cli.main(["fault", "list", *common]) == 0
    listed = capsys.readouterr().out
    assert "BatchWriteItem" in listed
    assert "unprocessed" in listed
    assert cli.main(["fault", "clear", *common]) == 0
    assert faults.list_faults(url) == []
    assert cli.main(["fault", "list", "--stage", f"none-{uuid.uuid4().hex[:6]}"]) == 1
    assert "no `rocket up` is running" in capsys.readouterr().out
