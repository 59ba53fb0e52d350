"""The upsert and drop queues: requests go on them as CloudEvents (the contract's envelope), in
batches of ten; the redrive function reads their DLQs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel
from rocket_contracts import bus

from asset_events.domain import DropRequest, StoreUnavailableError, UpsertRequest
from asset_events.messages import drop_model, upsert_model
from asset_events.ports import QueueMessage

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SOURCE = "rocket/asset-events"
_SQS_BATCH = 10


def request_body(model: BaseModel, *, correlation_id: str, subject: str, event_id: str) -> str:
    # The CloudEvent id is the decision id: a decision queued twice is recognisably one.
    event = bus.wrap(
        model, correlation_id=correlation_id, source=SOURCE, subject=subject, event_id=event_id
    )
    return bus.to_json(event)


def _entry(request: UpsertRequest | DropRequest, model: BaseModel) -> tuple[str, str]:
    body = request_body(
        model,
        correlation_id=request.correlation_id,
        subject=request.asset_id,
        event_id=request.decision_id,
    )
    return request.decision_id, body


class SqsRequestSender:
    def __init__(
        self, *, upsert_queue_url: str, drop_queue_url: str, client: SQSClient | None = None
    ) -> None:
        self._upsert_url = upsert_queue_url
        self._drop_url = drop_queue_url
        self._client: SQSClient = client or boto3.client("sqs")

    def send_upserts(self, requests: Sequence[UpsertRequest]) -> set[str]:
        bodies = [_entry(r, upsert_model(r)) for r in requests]
        return self._send(self._upsert_url, "assets.upsert.requested.v1", bodies)

    def send_drops(self, requests: Sequence[DropRequest]) -> set[str]:
        bodies = [_entry(r, drop_model(r)) for r in requests]
        return self._send(self._drop_url, "assets.drop.requested.v1", bodies)

    def _send(self, url: str, event_type: str, bodies: list[tuple[str, str]]) -> set[str]:
        failed: set[str] = set()
        for start in range(0, len(bodies), _SQS_BATCH):
            chunk = bodies[start : start + _SQS_BATCH]
            entries: list[Any] = [
                {
                    "Id": str(i),
                    "MessageBody": body,
                    "MessageAttributes": {
                        bus.TYPE_ATTRIBUTE: {"DataType": "String", "StringValue": event_type}
                    },
                }
                for i, (_, body) in enumerate(chunk)
            ]
            try:
                response = self._client.send_message_batch(QueueUrl=url, Entries=entries)
            except (ClientError, BotoCoreError):
                failed |= {decision for decision, _ in chunk}
                continue
            failed |= {chunk[int(f["Id"])][0] for f in response.get("Failed", [])}
        return failed


class SqsMailbox:
    def __init__(self, *, dlq_url: str, source_url: str, client: SQSClient | None = None) -> None:
        self._dlq = dlq_url
        self._source = source_url
        self._client: SQSClient = client or boto3.client("sqs")

    def receive_dead(self, max_messages: int) -> list[QueueMessage]:
        try:
            response = self._client.receive_message(
                QueueUrl=self._dlq,
                MaxNumberOfMessages=max(1, min(10, max_messages)),
                MessageAttributeNames=["All"],
                VisibilityTimeout=120,
                WaitTimeSeconds=0,
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailableError(type(exc).__name__) from exc
        return [
            QueueMessage(
                message_id=m["MessageId"],
                receipt_handle=m["ReceiptHandle"],
                body=m["Body"],
                attributes={
                    name: str(value.get("StringValue", ""))
                    for name, value in m.get("MessageAttributes", {}).items()
                    if value.get("DataType", "String").startswith(("String", "Number"))
                },
            )
            for m in response.get("Messages", [])
        ]

    def send_back(self, message: QueueMessage, attributes: Mapping[str, str]) -> None:
        try:
            self._client.send_message(
                QueueUrl=self._source,
                MessageBody=message.body,
                MessageAttributes={
                    name: {"DataType": "String", "StringValue": value}
                    for name, value in attributes.items()
                    if value
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailableError(type(exc).__name__) from exc

    def delete_dead(self, message: QueueMessage) -> None:
        try:
            self._client.delete_message(QueueUrl=self._dlq, ReceiptHandle=message.receipt_handle)
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailableError(type(exc).__name__) from exc
