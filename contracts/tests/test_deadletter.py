"""DeadLetters against moto's SQS: the message lands in the DLQ with its reason attributes."""

from __future__ import annotations

import boto3
from moto import mock_aws
from rocket_contracts.deadletter import MAX_DETAIL_CHARS, DeadLetters


@mock_aws
def test_dead_lettered_message_carries_reason_detail_and_source_id() -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="rocket-local-test-dlq")["QueueUrl"]
    DeadLetters(client=sqs, queue_url=url).send(
        '{"not": "a cloudevent"}',
        reason="contract_violation",
        detail="x" * (MAX_DETAIL_CHARS + 50),
        message_id="m-1",
    )

    [message] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    attrs = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert message["Body"] == '{"not": "a cloudevent"}'
    assert attrs == {
        "reason": "contract_violation",
        "detail": "x" * MAX_DETAIL_CHARS,
        "source_message_id": "m-1",
    }


@mock_aws
def test_empty_detail_and_unknown_id_still_send_valid_attributes() -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="rocket-local-test-dlq")["QueueUrl"]
    DeadLetters(client=sqs, queue_url=url).send("{}", reason="r", detail="", message_id=None)

    [message] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert {k: v["StringValue"] for k, v in message["MessageAttributes"].items()} == {
        "reason": "r",
        "detail": "-",
    }
