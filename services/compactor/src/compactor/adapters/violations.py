"""The violations queue: one report per domain-day whose records break the declared fields."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
import orjson
from botocore.exceptions import BotoCoreError, ClientError
from rocket_contracts.deadletter import attributes

from compactor.ports import StorageError, ViolationReport

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SCHEMA_VIOLATION = "schema_violation"


class SqsViolations:
    """A FIFO queue: the report's plan names its deduplication id, so a Finalize retried within
    SQS's 5-minute deduplication window sends it once (the state machine's retries of a step,
    at the default RetryIntervalSeconds, fall inside it); the domain is its group."""

    def __init__(self, queue_url: str, client: SQSClient | None = None) -> None:
        self.queue_url = queue_url
        self.sqs: SQSClient = client or boto3.client("sqs")

    def report(self, report: ViolationReport) -> None:
        try:
            self.sqs.send_message(
                QueueUrl=self.queue_url,
                MessageBody=orjson.dumps(report.to_json()).decode(),
                MessageAttributes=attributes(SCHEMA_VIOLATION, report.detail(), None),
                MessageGroupId=report.domain,
                MessageDeduplicationId=report.dedup_id,
            )
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"report violations of {report.dedup_id}") from exc
