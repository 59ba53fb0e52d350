"""The compactor's messages onto the shared topic, through rocket_contracts.bus: the processed
events, and the daily schedule's compaction requests."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel
from rocket_contracts import bus

from compactor.ports import PublishError

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

SOURCE = "rocket/compactor"


class SnsPublisher:
    def __init__(self, topic_arn: str, client: SNSClient | None = None) -> None:
        self.topic_arn = topic_arn
        self.sns: SNSClient = client or boto3.client("sns")

    def publish(self, event: BaseModel, *, correlation_id: str, subject: str) -> None:
        try:
            bus.publish(
                self.topic_arn,
                event,
                correlation_id=correlation_id,
                sns_client=self.sns,
                source=SOURCE,
                subject=subject,
            )
        except (ClientError, BotoCoreError, Boto3Error) as exc:
            raise PublishError(f"publish {subject}") from exc
