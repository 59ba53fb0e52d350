"""The shared event topic, through rocket_contracts.bus."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError
from rocket_contracts import bus
from rocket_contracts.models.etl.delivery_published_v1 import EtlDeliveryPublishedV1

from etl_layers.ports import PublishError

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

SOURCE = "rocket/etl-layers"


class BusPublisher:
    def __init__(self, topic_arn: str, client: SNSClient | None = None) -> None:
        self._topic_arn = topic_arn
        self._sns: SNSClient = client or boto3.client("sns")

    def publish(self, event: EtlDeliveryPublishedV1, *, correlation_id: str, subject: str) -> None:
        try:
            bus.publish(
                self._topic_arn,
                event,
                correlation_id=correlation_id,
                sns_client=self._sns,
                source=SOURCE,
                subject=subject,
            )
        except (ClientError, BotoCoreError, Boto3Error) as exc:
            raise PublishError("publish etl.delivery.published.v1") from exc
