"""AWS-shaped Lambda events, built from what the emulator returns (pure functions)."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any


def sqs_record(message: Mapping[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """One record of an SQS event exactly as Lambda sends it, from a ReceiveMessage entry
    received with AttributeNames=All and MessageAttributeNames=All."""
    attributes = {
        key: str(value)
        for key, value in message.get("Attributes", {}).items()
        if key
        in (
            "ApproximateReceiveCount",
            "SentTimestamp",
            "SenderId",
            "ApproximateFirstReceiveTimestamp",
            "MessageGroupId",
            "MessageDeduplicationId",
            "SequenceNumber",
            "AWSTraceHeader",
        )
    }
    body = message["Body"]
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": body,
        "attributes": attributes,
        "messageAttributes": {
            name: _lambda_message_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _lambda_message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    # Lambda spells SQS message attributes in camelCase and always lists the list fields.
    shaped: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [_b64(v) for v in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        shaped["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        shaped["binaryValue"] = _b64(value["BinaryValue"])
    return shaped


def _b64(value: bytes | str) -> str:
    return base64.b64encode(value if isinstance(value, bytes) else value.encode()).decode()


def kinesis_record(
    record: Mapping[str, Any],
    *,
    shard_id: str,
    stream_arn: str,
    function_arn: str,
    region: str,
) -> dict[str, Any]:
    """One record of a Kinesis event exactly as Lambda sends it, from a GetRecords entry."""
    arrival = record.get("ApproximateArrivalTimestamp")
    arrival_seconds = arrival.timestamp() if isinstance(arrival, datetime) else float(arrival or 0)
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": record["SequenceNumber"],
            "data": _b64(record["Data"]),
            "approximateArrivalTimestamp": arrival_seconds,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{record['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": function_arn.replace(":lambda:", ":iam:").split(":function:")[0]
        + ":role/local-runtime",
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }


def scheduled_event(*, rule_arn: str, region: str, account: str, now: datetime) -> dict[str, Any]:
    """The event EventBridge sends to a target of a schedule rule that has no Input."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


def failed_item_ids(payload: Any, batch_ids: Sequence[str]) -> list[str] | None:
    """The item ids a ReportBatchItemFailures response names, or None when the response is
    invalid, which Lambda treats as the whole batch failing (unknown or empty identifiers)."""
    if payload is None or payload == {} or payload == "":
        return []
    if not isinstance(payload, Mapping):
        return []
    failures = payload.get("batchItemFailures")
    if failures is None:
        return []
    if not isinstance(failures, list):
        return None
    known = set(batch_ids)
    ids: list[str] = []
    for failure in failures:
        item = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
        if not isinstance(item, str) or item not in known:
            return None
        ids.append(item)
    return ids


def correlation_ids(bodies: Sequence[str]) -> list[str]:
    """The CloudEvents `correlationid` of each body that carries one (raw or SNS-wrapped)."""
    found: list[str] = []
    for body in bodies:
        try:
            document = json.loads(body)
            if isinstance(document, dict) and "Message" in document and "TopicArn" in document:
                document = json.loads(document["Message"])
        except (ValueError, TypeError):
            continue
        if isinstance(document, dict) and isinstance(document.get("correlationid"), str):
            found.append(document["correlationid"])
    return sorted(set(found))


def matches_filters(record: Mapping[str, Any], patterns: Sequence[str]) -> bool:
    """Lambda event filtering (FilterCriteria): a record passes when any pattern matches it.
    The pattern sees the record as Lambda shapes it, with an SQS `body` or a Kinesis `data`
    that is JSON parsed into an object (otherwise left a string)."""
    if not patterns:
        return True
    from moto.events.models import EventPattern  # the emulator's own EventBridge matcher

    shaped = dict(record)
    if "body" in shaped:
        shaped["body"] = _json_or_text(shaped["body"])
    if "kinesis" in shaped:
        kinesis = dict(shaped["kinesis"])
        kinesis["data"] = _json_or_text(
            base64.b64decode(kinesis["data"]).decode("utf-8", "replace")
        )
        shaped.pop("kinesis")
        shaped.update(kinesis)
    event: Any = shaped  # moto types it as its EventBridge message; any mapping matches
    return any(EventPattern.load(pattern).matches_event(event) for pattern in patterns)


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
