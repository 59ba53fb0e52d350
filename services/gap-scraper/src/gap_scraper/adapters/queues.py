"""The work queue (download requests, as CloudEvents) and its dead-letter queue (quarantine)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from rocket_contracts import bus, deadletter
from rocket_contracts.models.gapscraper.download_requested_v1 import (
    GapscraperDownloadRequestedV1,
)

from gap_scraper.domain import QueueError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SOURCE = "rocket/gap-scraper"
TYPE = "gapscraper.download.requested.v1"


def _code(exc: ClientError | BotoCoreError) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    return type(exc).__name__


class SqsRequestQueue:
    """Sends download requests in SendMessageBatch calls; entries SQS failed are sent once more
    (a partial failure of a batch is normal), then the run fails loudly."""

    def __init__(self, queue_url: str, *, client: SQSClient | None = None) -> None:
        self._url = queue_url
        self._client: SQSClient = client or boto3.client("sqs")
        self.calls = 0

    def send_batch(
        self, requests: Sequence[GapscraperDownloadRequestedV1], *, correlation_id: str
    ) -> None:
        if len(requests) > 10:
            raise ValueError("SendMessageBatch takes at most 10 messages")
        entries: list[Any] = [
            {
                "Id": str(index),
                "MessageBody": bus.to_json(
                    bus.wrap(
                        request,
                        correlation_id=correlation_id,
                        source=SOURCE,
                        subject=request.series_key,
                    )
                ),
                "MessageAttributes": {"type": {"DataType": "String", "StringValue": TYPE}},
            }
            for index, request in enumerate(requests)
        ]
        for _ in range(2):
            try:
                response = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
            except (ClientError, BotoCoreError) as exc:
                raise QueueError(f"send requests: {_code(exc)}") from exc
            self.calls += 1
            failed = {f["Id"] for f in response.get("Failed", [])}
            entries = [e for e in entries if e["Id"] in failed]
            if not entries:
                return
        raise QueueError(f"{len(entries)} requests refused twice by SendMessageBatch")


class SqsQuarantine:
    """Puts a message that can never succeed in the DLQ at once, with the reason as message
    attributes, instead of letting it fail maxReceiveCount times first."""

    def __init__(self, dead_letter_queue_url: str, *, client: SQSClient | None = None) -> None:
        self._url = dead_letter_queue_url
        self._client: SQSClient = client or boto3.client("sqs")

    def quarantine(self, body: str, *, reason: str, detail: str) -> None:
        try:
            self._client.send_message(
                QueueUrl=self._url,
                MessageBody=body,
                MessageAttributes=deadletter.attributes(reason, detail, None),
            )
        except (ClientError, BotoCoreError) as exc:
            raise QueueError(f"quarantine: {_code(exc)}") from exc


class SqsDeferrer:
    """Shortens the wait before a failed record's next delivery (ChangeMessageVisibility)."""

    def __init__(self, queue_url: str, *, client: SQSClient | None = None) -> None:
        self._url = queue_url
        self._client: SQSClient = client or boto3.client("sqs")

    def defer(self, receipt_handle: str, seconds: int) -> None:
        try:
            self._client.change_message_visibility(
                QueueUrl=self._url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
            )
        except (ClientError, BotoCoreError) as exc:
            # The record still comes back, only after the queue's own visibility timeout.
            raise QueueError(f"defer: {_code(exc)}") from exc
