"""The bus adapter against moto: what reaches a raw-delivery subscriber is a valid contract."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from ingest_gate.adapters.bus_publisher import SOURCE, BusPublisher
from ingest_gate.domain import JobRejected, JobStarted, PublishFailedError, RejectionReason
from moto import mock_aws
from rocket_contracts.bus import parse_message
from rocket_contracts.models.ingest.job_rejected_v1 import IngestJobRejectedV1
from rocket_contracts.models.ingest.job_started_v1 import IngestJobStartedV1

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


@pytest.fixture
def bus() -> Iterator[tuple[Any, str, str]]:
    with mock_aws():
        sns = boto3.client("sns", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        topic = sns.create_topic(Name="events")["TopicArn"]
        queue = sqs.create_queue(QueueName="tap")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=arn["Attributes"]["QueueArn"],
            Attributes={"RawMessageDelivery": "true"},
        )
        yield sns, topic, queue


def received(queue: str) -> list[Any]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    return [parse_message(m["Body"]) for m in messages]


def test_started_is_published_as_a_valid_event_with_the_correlation_id(
    bus: tuple[Any, str, str],
) -> None:
    sns, topic, queue = bus
    BusPublisher(topic_arn=topic, client=sns).started(
        JobStarted("tx-1", "job", "jr_1", {"--transaction_id": "tx-1"}, NOW, recovered=False),
        correlation_id="corr-1",
    )

    [message] = received(queue)
    assert isinstance(message.data, IngestJobStartedV1)
    assert (message.data.job_run_id, message.correlation_id) == ("jr_1", "corr-1")
    assert (message.envelope.source, message.envelope.subject) == (SOURCE, "tx-1")


def test_rejected_is_published_with_its_reason(bus: tuple[Any, str, str]) -> None:
    sns, topic, queue = bus
    BusPublisher(topic_arn=topic, client=sns).rejected(
        JobRejected("tx-1", "job", RejectionReason.UNKNOWN_JOB, "not allowed", NOW),
        correlation_id="corr-1",
    )

    [message] = received(queue)
    assert isinstance(message.data, IngestJobRejectedV1)
    assert message.data.reason == "UNKNOWN_JOB"


def test_sns_failure_is_a_publish_failure(bus: tuple[Any, str, str]) -> None:
    sns, _, _ = bus
    publisher = BusPublisher(topic_arn="arn:aws:sns:us-east-1:123456789012:gone", client=sns)
    with pytest.raises(PublishFailedError):
        publisher.rejected(
            JobRejected("tx-1", "job", RejectionReason.UNKNOWN_JOB, "not allowed", NOW),
            correlation_id="corr-1",
        )
