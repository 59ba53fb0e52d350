"""Build Lambda-shaped SQS records that carry contract events, for consumers' tests, and
capture what a producer publishes (``CapturingSns``), for producers' tests.

    record = sqs_record_for(IngestJobRequestedV1(...), correlation_id="req-1")
    handler({"Records": [record]}, context)

The record is what Lambda hands a function subscribed (raw delivery) to the shared topic.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from rocket_contracts.bus import TYPE_ATTRIBUTE, to_json, wrap

DEFAULT_QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:rocket-local-test-queue"


def sqs_record(
    body: str,
    *,
    message_attributes: Mapping[str, str] | None = None,
    queue_arn: str = DEFAULT_QUEUE_ARN,
    message_id: str | None = None,
    receive_count: int = 1,
) -> dict[str, Any]:
    """One record of a Lambda SQS event whose body is ``body`` (string attributes only)."""
    now_ms = str(int(datetime.now(UTC).timestamp() * 1000))
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": f"test-receipt-{uuid.uuid4()}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": now_ms,
            "SenderId": "AIDAEXAMPLESENDER",
            "ApproximateFirstReceiveTimestamp": now_ms,
        },
        "messageAttributes": {
            name: {
                "stringValue": value,
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            }
            for name, value in (message_attributes or {}).items()
        },
        "md5OfBody": hashlib.md5(body.encode("utf-8"), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }


def sqs_record_for(
    event_model: BaseModel,
    *,
    correlation_id: str = "test-correlation",
    source: str = "rocket/test",
    subject: str | None = None,
    queue_arn: str = DEFAULT_QUEUE_ARN,
) -> dict[str, Any]:
    """The raw-delivered SQS record of ``event_model`` published to the shared topic."""
    event = wrap(event_model, correlation_id=correlation_id, source=source, subject=subject)
    return sqs_record(
        to_json(event), message_attributes={TYPE_ATTRIBUTE: event.type}, queue_arn=queue_arn
    )


def sns_notification(message: str, *, event_type: str | None = None) -> str:
    """The body SQS holds for ``message`` when the subscription does not use raw delivery."""
    notification: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:rocket-local-events",
        "Message": message,
        "Timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0.pem",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
    }
    if event_type is not None:
        notification["MessageAttributes"] = {
            TYPE_ATTRIBUTE: {"Type": "String", "Value": event_type}
        }
    return json.dumps(notification)


class CapturingSns:
    """An SNS client for ``bus.publish``: keeps each (Message, MessageAttributes) it is given,
    what would have crossed the topic."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, Mapping[str, Any]]] = []

    def publish(
        self,
        *,
        TopicArn: str,  # noqa: N803 (boto3's parameter names)
        Message: str,  # noqa: N803
        MessageAttributes: Mapping[str, Any],  # noqa: N803
        **_: Any,
    ) -> Mapping[str, Any]:
        self.messages.append((Message, MessageAttributes))
        return {"MessageId": str(len(self.messages))}


class RecordingDeadLetters:
    """A :class:`rocket_contracts.deadletter.DeadLetterSender` that keeps what it is given
    (``sent``: body, reason, detail, message id), or raises ``fail_with`` to stand for an SQS
    outage."""

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.sent: list[tuple[str, str, str, str | None]] = []
        self.fail_with = fail_with

    def send(self, body: str, *, reason: str, detail: str, message_id: str | None) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append((body, reason, detail, message_id))
