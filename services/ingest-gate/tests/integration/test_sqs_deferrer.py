"""The retry-delay adapter against moto: a deferred record comes back after the given delay."""

from __future__ import annotations

import boto3
from ingest_gate.adapters.sqs_deferrer import SqsDeferrer
from moto import mock_aws


@mock_aws
def test_deferred_record_is_visible_again_at_once_with_zero_delay() -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="requests", Attributes={"VisibilityTimeout": "180"})[
        "QueueUrl"
    ]
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    [message] = sqs.receive_message(QueueUrl=url)["Messages"]
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []  # hidden for 180 s

    SqsDeferrer(queue_url=url, client=sqs).defer(message["ReceiptHandle"], 0)

    [again] = sqs.receive_message(QueueUrl=url)["Messages"]
    assert again["MessageId"] == message["MessageId"]


@mock_aws
def test_a_failed_visibility_change_is_not_an_error() -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="requests")["QueueUrl"]

    SqsDeferrer(queue_url=url, client=sqs).defer("not-a-receipt-handle", 5)
