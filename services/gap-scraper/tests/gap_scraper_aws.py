"""What the integration tests drive: the AWS parts in moto, the SGS stand-in on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import boto3
import requests
from gap_scraper.standins.sgs import SgsServer, make_server
from moto import mock_aws

TABLE = "rocket-test-gap-scraper-series"
REGION = "us-east-1"


@dataclass
class Aws:
    dynamodb: Any
    sqs: Any
    sns: Any
    work_queue_url: str
    dlq_url: str
    topic_arn: str
    events_queue_url: str
    batch_writes: list[int] = field(default_factory=list)  # items per BatchWriteItem call

    def events(self) -> list[dict[str, Any]]:
        found = []
        while True:
            got = self.sqs.receive_message(
                QueueUrl=self.events_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not got:
                return found
            for message in got:
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.events_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )

    def items(self, info_type: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        kwargs: dict[str, Any] = {
            "TableName": TABLE,
            "KeyConditionExpression": "info_type = :pk",
            "ExpressionAttributeValues": {":pk": {"S": info_type}},
        }
        while True:
            page = self.dynamodb.query(**kwargs)
            found.update({i["date"]["S"]: i for i in page["Items"]})
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def create_table(client: Any) -> None:
    client.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "info_type", "AttributeType": "S"},
            {"AttributeName": "date", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "info_type", "KeyType": "HASH"},
            {"AttributeName": "date", "KeyType": "RANGE"},
        ],
    )


@dataclass
class Sgs:
    server: SgsServer

    @property
    def url(self) -> str:
        return self.server.url

    def fault(self, **spec: Any) -> None:
        requests.post(f"{self.url}/_standin/faults", json=spec, timeout=5).raise_for_status()

    def calls(self) -> dict[str, int]:
        answer: dict[str, int] = requests.get(f"{self.url}/_standin/calls", timeout=5).json()
        return answer


TODAY = date(2026, 12, 2)


@contextmanager
def moto_aws() -> Iterator[Aws]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        sns = boto3.client("sns", region_name=REGION)
        create_table(dynamodb)
        dlq = sqs.create_queue(QueueName="work-dlq")["QueueUrl"]
        work = sqs.create_queue(QueueName="work")["QueueUrl"]
        events = sqs.create_queue(QueueName="events")["QueueUrl"]
        topic = sns.create_topic(Name="events")["TopicArn"]
        events_arn = sqs.get_queue_attributes(QueueUrl=events, AttributeNames=["QueueArn"])
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=events_arn["Attributes"]["QueueArn"],
            Attributes={"RawMessageDelivery": "true"},
        )
        world = Aws(dynamodb, sqs, sns, work, dlq, topic, events)

        def count(params: dict[str, Any], **_: Any) -> None:
            world.batch_writes.extend(len(v) for v in params["RequestItems"].values())

        dynamodb.meta.events.register("provide-client-params.dynamodb.BatchWriteItem", count)
        yield world


@contextmanager
def sgs_standin(today: date = TODAY) -> Iterator[Sgs]:
    server = make_server("127.0.0.1", 0, today=lambda: today)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield Sgs(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
