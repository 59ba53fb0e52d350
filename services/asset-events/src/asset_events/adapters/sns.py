"""Announce applied changes on the shared topic as contract messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel
from rocket_contracts.bus import publish

from asset_events.domain import AssetState, DropRequest, Origin, StoreUnavailableError
from asset_events.messages import dropped_model, upserted_model

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

SOURCE = "rocket/asset-events"


class SnsEventPublisher:
    def __init__(self, *, topic_arn: str, client: SNSClient | None = None) -> None:
        self._topic_arn = topic_arn
        self._client: SNSClient = client or boto3.client("sns")

    def upserted(self, state: AssetState, *, origin: Origin, correlation_id: str) -> None:
        self._publish(upserted_model(state, origin), correlation_id, state.asset_id)

    def dropped(self, state: AssetState, *, request: DropRequest) -> None:
        self._publish(dropped_model(state, request), request.correlation_id, state.asset_id)

    def _publish(self, model: BaseModel, correlation_id: str, subject: str) -> None:
        try:
            publish(
                self._topic_arn,
                model,
                correlation_id=correlation_id,
                sns_client=self._client,
                source=SOURCE,
                subject=subject,
            )
        except ClientError as exc:
            raise StoreUnavailableError(str(exc.response.get("Error", {}).get("Code"))) from exc
        except BotoCoreError as exc:
            raise StoreUnavailableError(type(exc).__name__) from exc
