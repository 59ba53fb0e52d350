"""Publish gapscraper.series.updated.v1 to the shared topic."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from rocket_contracts.bus import publish
from rocket_contracts.models.gapscraper.series_updated_v1 import GapscraperSeriesUpdatedV1

from gap_scraper.domain import PublishFailedError

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

SOURCE = "rocket/gap-scraper"


class BusPublisher:
    def __init__(self, topic_arn: str, *, client: SNSClient | None = None) -> None:
        self._topic_arn = topic_arn
        self._client: SNSClient = client or boto3.client("sns")

    def series_updated(self, event: GapscraperSeriesUpdatedV1, *, correlation_id: str) -> None:
        try:
            publish(
                self._topic_arn,
                event,
                correlation_id=correlation_id,
                sns_client=self._client,
                source=SOURCE,
                subject=event.series_key,
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "ClientError"))
            raise PublishFailedError(code) from exc
        except BotoCoreError as exc:
            raise PublishFailedError(type(exc).__name__) from exc
