"""The adapters against moto: the control table's batches (unprocessed keys and items re-sent),
conditional state writes, the agent index, content stored once, queues and redrive."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import boto3
import pytest
from asset_events.adapters.dynamodb import DynamoControlStore
from asset_events.adapters.s3 import S3ContentStore
from asset_events.adapters.sqs import SqsMailbox, SqsRequestSender
from asset_events.decisor import Decisor
from asset_events.domain import Status, StoreUnavailableError, VersionConflictError
from asset_events.producers import UpsertProducer
from asset_events.redrive import ATTEMPTS_ATTRIBUTE, redrive
from asset_events_fakes import (
    T0,
    RecordingPublisher,
    asset_id,
    completed,
    observation,
    run_completed,
    running,
)
from moto import mock_aws
from rocket_contracts.bus import parse_message

TABLE = "rocket-test-asset-events-control"
BUCKET = "rocket-test-asset-events-content"


def create_table(client: Any) -> None:
    client.create_table(
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


class Aws:
    def __init__(self) -> None:
        self.dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        self.s3 = boto3.client("s3", region_name="us-east-1")
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        create_table(self.dynamodb)
        self.s3.create_bucket(Bucket=BUCKET)
        self.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        self.urls = {
            name: self.sqs.create_queue(QueueName=f"rocket-test-asset-events-{name}")["QueueUrl"]
            for name in ("upsert", "drop", "upsert-dlq")
        }

    def store(self, client: Any = None) -> DynamoControlStore:
        return DynamoControlStore(
            table_name=TABLE, client=client or self.dynamodb, sleep=lambda _: None
        )

    def decisor(self, client: Any = None) -> Decisor:
        return Decisor(
            store=DynamoControlStore(
                table_name=TABLE, client=client or self.dynamodb, lean_reads=True
            ),
            content=S3ContentStore(bucket=BUCKET, client=self.s3),
            sender=SqsRequestSender(
                upsert_queue_url=self.urls["upsert"],
                drop_queue_url=self.urls["drop"],
                client=self.sqs,
            ),
            clock=lambda: T0 + timedelta(days=1),
        )

    def drain(self, name: str) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(
            QueueUrl=self.urls[name], MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", []):
            got += batch
            for m in batch:
                self.sqs.delete_message(QueueUrl=self.urls[name], ReceiptHandle=m["ReceiptHandle"])
        return got


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield Aws()


class Unprocessing:
    """A moto client that, like DynamoDB under load, leaves part of each batch unprocessed for
    its first `times` calls (the part is really not read / not written)."""

    def __init__(self, client: Any, times: int, *, keep: int = 1) -> None:
        self._client = client
        self.times = times
        self.keep = keep  # batches of at most this many are answered in full
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        self.calls["get"] = self.calls.get("get", 0) + 1
        ((table, request),) = RequestItems.items()
        keys = request["Keys"]
        if self.times and len(keys) > self.keep:
            self.times -= 1
            half = min(self.keep, len(keys) // 2)
            done = self._client.batch_get_item(
                RequestItems={table: {**request, "Keys": keys[:half]}}
            )
            done["UnprocessedKeys"] = {table: {**request, "Keys": keys[half:]}}
            return done  # type: ignore[no-any-return]
        return self._client.batch_get_item(RequestItems=RequestItems)  # type: ignore[no-any-return]

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        self.calls["write"] = self.calls.get("write", 0) + 1
        ((table, requests),) = RequestItems.items()
        if self.times and len(requests) > 1:
            self.times -= 1
            half = len(requests) // 2
            done = self._client.batch_write_item(RequestItems={table: requests[:half]})
            done["UnprocessedItems"] = {table: requests[half:]}
            return done  # type: ignore[no-any-return]
        return self._client.batch_write_item(RequestItems=RequestItems)  # type: ignore[no-any-return]


def test_unprocessed_keys_and_items_are_sent_again_until_done(aws: Aws) -> None:
    reports = [observation(running(f"t{n:03d}")) for n in range(120)]
    aws.decisor().observe(reports)
    flaky = Unprocessing(aws.dynamodb, times=6)
    store = aws.store(flaky)
    records = store.read([r.asset_id for r in reports])
    assert len(records) == 120
    assert all(r.seen is not None for r in records.values())
    # 240 keys: 3 batches of up to 100, some of them answered in halves.
    assert flaky.calls["get"] > 3
    marks = [replace(r.seen, run_id="run-2") for r in records.values() if r.seen]
    flaky.times = 6
    store.mark_seen(marks)
    assert {r.seen.run_id for r in store.read(list(records)).values() if r.seen} == {"run-2"}


def test_keys_that_stay_unprocessed_raise_instead_of_being_lost(aws: Aws) -> None:
    flaky = Unprocessing(aws.dynamodb, times=1000, keep=0)
    with pytest.raises(StoreUnavailableError):
        aws.store(flaky).read([asset_id("a"), asset_id("b")])


def test_the_decisor_queues_contract_requests_and_stores_content_once(aws: Aws) -> None:
    event = running("orders", properties={"owner": "erp"}, location="s3://lake-bucket/orders/")
    aws.decisor().observe([observation(event)])
    aws.decisor().observe([observation(event)])  # redelivered before the producer ran
    messages = aws.drain("upsert")
    assert len(messages) == 1  # the redelivery found its upsert pending
    parsed = [
        parse_message(m["Body"], type_attribute=m["MessageAttributes"]["type"]["StringValue"])
        for m in messages
    ]
    assert {p.envelope.id for p in parsed} == {parsed[0].data.decision_id}  # type: ignore[attr-defined]
    versions = aws.s3.list_object_versions(Bucket=BUCKET, Prefix="assets/")["Versions"]
    assert len(versions) == 1
    body = aws.s3.get_object(Bucket=BUCKET, Key=versions[0]["Key"])["Body"].read()
    assert body == observation(event).content


def test_state_writes_are_conditional_on_the_version(aws: Aws) -> None:
    aws.decisor().observe([observation(running("orders"))])
    from asset_events import messages as contract_messages
    from rocket_contracts.bus import ParsedMessage

    [message] = aws.drain("upsert")
    parsed: ParsedMessage = parse_message(message["Body"])
    request = contract_messages.upsert_request(parsed)
    publisher = RecordingPublisher()
    producer = UpsertProducer(store=aws.store(), publisher=publisher, clock=lambda: T0)
    producer.apply(request)
    state = aws.store().read([request.asset_id])[request.asset_id].state
    assert state is not None
    assert state.version == 1
    with pytest.raises(VersionConflictError):
        aws.store().put_state(replace(state, version=2), expected_version=None)
    with pytest.raises(VersionConflictError):
        aws.store().put_state(replace(state, version=3), expected_version=2)
    aws.store().put_state(replace(state, version=2, status=Status.DROPPED), expected_version=1)
    again = aws.store().read([request.asset_id])[request.asset_id].state
    assert again is not None
    assert again.status is Status.DROPPED
    assert again.history == state.history


def test_a_completed_run_lists_the_agent_through_its_index(aws: Aws) -> None:
    decisor = aws.decisor()
    decisor.observe([observation(running(f"t{n}")) for n in range(10)])
    from asset_events import messages as contract_messages

    producer = UpsertProducer(store=aws.store(), publisher=RecordingPublisher(), clock=lambda: T0)
    for m in aws.drain("upsert"):
        producer.apply(contract_messages.upsert_request(parse_message(m["Body"])))
    later = T0 + timedelta(hours=1)
    decisor.observe([observation(running(f"t{n}", run="run-2", at=later)) for n in range(1, 10)])
    verdict = decisor.complete(
        run_completed(completed(run="run-2", at=later + timedelta(minutes=1), reported=9))
    )
    assert verdict.active == 10
    assert verdict.seen_in_run == 9
    [drop] = aws.drain("drop")
    assert json.loads(drop["Body"])["data"]["asset_id"] == asset_id("t0")


def test_redrive_moves_back_then_parks_past_the_limit(aws: Aws) -> None:
    mailbox = SqsMailbox(
        dlq_url=aws.urls["upsert-dlq"], source_url=aws.urls["upsert"], client=aws.sqs
    )
    content = S3ContentStore(bucket=BUCKET, client=aws.s3)
    aws.sqs.send_message(
        QueueUrl=aws.urls["upsert-dlq"],
        MessageBody="poison",
        MessageAttributes={
            "type": {"DataType": "String", "StringValue": "assets.upsert.requested.v1"}
        },
    )
    for attempt in range(1, 3):
        report = redrive("upsert", mailbox, content, max_attempts=2)
        assert report.moved == 1
        [back] = aws.drain("upsert")
        assert back["MessageAttributes"][ATTEMPTS_ATTRIBUTE]["StringValue"] == str(attempt)
        # It fails again and its queue dead-letters it, attributes and all.
        aws.sqs.send_message(
            QueueUrl=aws.urls["upsert-dlq"],
            MessageBody=back["Body"],
            MessageAttributes=back["MessageAttributes"],
        )
    report = redrive("upsert", mailbox, content, max_attempts=2)
    assert report.moved == 0
    assert len(report.parked) == 1
    key = report.parked[0].removeprefix(f"s3://{BUCKET}/")
    parked = json.loads(aws.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    assert parked["body"] == "poison"
    assert parked["attempts"] == 2
    assert len(parked["redriven_at"]) == 2
    assert aws.drain("upsert-dlq") == []
