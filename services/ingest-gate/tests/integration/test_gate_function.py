"""The gate function wired by bootstrap() against moto: real adapters, real requests, AWS calls."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from ingest_gate.bootstrap import bootstrap
from ingest_gate.handlers.gate import handler
from ingest_gate.settings import Settings
from ingest_gate_fakes import FakeLambdaContext
from moto import mock_aws
from rocket_contracts.bus import parse_message, to_json, wrap
from rocket_contracts.models.ingest.job_requested_v1 import IngestJobRequestedV1
from rocket_contracts.models.ingest.job_started_v1 import IngestJobStartedV1

JOB = "rocket-test-ingest-gate-canary"
BUCKET = "rocket-test-ingest-gate-idempotency"


@dataclass
class Stack:
    session: boto3.Session
    calls: Counter[str]
    tap_url: str
    settings: Settings


@pytest.fixture
def stack() -> Iterator[Stack]:
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        s3, sns, sqs, glue = (session.client(n) for n in ("s3", "sns", "sqs", "glue"))
        s3.create_bucket(Bucket=BUCKET)
        glue.create_job(
            Name=JOB,
            Role="arn:aws:iam::123456789012:role/glue",
            Command={"Name": "pythonshell", "ScriptLocation": "s3://a/canary.py"},
            ExecutionProperty={"MaxConcurrentRuns": 100},
        )
        topic = sns.create_topic(Name="events")["TopicArn"]
        tap = sqs.create_queue(QueueName="tap")["QueueUrl"]
        tap_arn = sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=tap_arn["Attributes"]["QueueArn"],
            Attributes={"RawMessageDelivery": "true"},
        )
        calls: Counter[str] = Counter()
        session.events.register(
            "before-send", lambda request, **_: calls.update([request.url.split("/")[2]])
        )
        settings = Settings(
            event_topic_arn=topic,
            idempotency_bucket=BUCKET,
            allowed_jobs=frozenset({JOB}),
        )
        yield Stack(session, calls, tap, settings)


def sqs_event(*requests: IngestJobRequestedV1) -> dict[str, Any]:
    records = []
    for n, request in enumerate(requests):
        body = to_json(wrap(request, correlation_id=f"corr-{n}", source="rocket/tests"))
        records.append(
            {
                "messageId": f"m-{n}",
                "receiptHandle": f"r-{n}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795316400120",
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": "1795316400125",
                },
                "messageAttributes": {
                    "type": {"stringValue": "ingest.job.requested.v1", "dataType": "String"}
                },
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:requests",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def request(transaction_id: str, **arguments: str) -> IngestJobRequestedV1:
    return IngestJobRequestedV1(
        transaction_id=transaction_id,
        job_name=JOB,
        arguments=arguments,
        requested_by="tests",
        requested_at=datetime(2026, 11, 22, 3, 0, tzinfo=UTC),
    )


def test_a_request_starts_its_job_once_and_announces_it(stack: Stack) -> None:
    consumer = bootstrap(stack.settings, session=stack.session)
    event = sqs_event(request("tx-1", dataset="sales"), request("tx-1", dataset="sales"))

    response = handler(event, FakeLambdaContext(), consumer=consumer)

    assert response == {"batchItemFailures": []}
    runs = stack.session.client("glue").get_job_runs(JobName=JOB)["JobRuns"]
    assert [r["Arguments"] for r in runs] == [{"--dataset": "sales", "--transaction_id": "tx-1"}]
    record = json.loads(
        stack.session.client("s3")
        .get_object(Bucket=BUCKET, Key="idempotency/tx-1.json")["Body"]
        .read()
    )
    assert (record["state"], record["job_run_id"]) == ("COMPLETED", runs[0]["Id"])
    messages = stack.session.client("sqs").receive_message(
        QueueUrl=stack.tap_url, MaxNumberOfMessages=10
    )["Messages"]
    [started] = [parse_message(m["Body"]) for m in messages]
    assert isinstance(started.data, IngestJobStartedV1)
    assert (started.data.job_run_id, started.correlation_id) == (runs[0]["Id"], "corr-0")


def test_aws_requests_per_message_new_at_most_4_duplicate_at_most_2(stack: Stack) -> None:
    consumer = bootstrap(stack.settings, session=stack.session)
    handler(sqs_event(request("tx-new")), FakeLambdaContext(), consumer=consumer)
    new_calls = sum(stack.calls.values())
    stack.calls.clear()

    handler(sqs_event(request("tx-new")), FakeLambdaContext(), consumer=consumer)
    duplicate_calls = sum(stack.calls.values())

    assert new_calls <= 4  # claim, StartJobRun, publish, complete
    assert duplicate_calls <= 2  # failed claim, read
