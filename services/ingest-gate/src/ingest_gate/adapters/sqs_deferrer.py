"""Shorten the wait before a failed record is delivered again (SQS visibility)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ingest_gate.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class SqsDeferrer:
    def __init__(self, *, queue_url: str, client: SQSClient | None = None) -> None:
        self._queue_url = queue_url
        self._client: SQSClient = client or boto3.client("sqs")

    def defer(self, receipt_handle: str, seconds: int) -> None:
        # Best effort: when it fails the record still comes back, after the queue's timeout.
        try:
            self._client.change_message_visibility(
                QueueUrl=self._queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
            )
        except (ClientError, BotoCoreError) as exc:
            logger.warning("visibility not changed", extra={"error": type(exc).__name__})
