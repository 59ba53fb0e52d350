"""Publish the gate's events to the shared topic as contract messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from rocket_contracts.bus import publish
from rocket_contracts.models.ingest.job_rejected_v1 import IngestJobRejectedV1
from rocket_contracts.models.ingest.job_started_v1 import IngestJobStartedV1

from ingest_gate.domain import JobRejected, JobStarted, PublishFailedError

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

SOURCE = "rocket/ingest-gate"


class BusPublisher:
    def __init__(self, *, topic_arn: str, client: SNSClient | None = None) -> None:
        self._topic_arn = topic_arn
        self._client: SNSClient = client or boto3.client("sns")

    def started(
        self, event: JobStarted, *, correlation_id: str, traceparent: str | None = None
    ) -> None:
        model = IngestJobStartedV1(
            transaction_id=event.transaction_id,
            job_name=event.job_name,
            job_run_id=event.job_run_id,
            arguments=event.arguments,
            started_at=event.started_at,
            recovered=event.recovered,
        )
        self._publish(
            model,
            correlation_id=correlation_id,
            subject=event.transaction_id,
            traceparent=traceparent,
        )

    def rejected(
        self, event: JobRejected, *, correlation_id: str, traceparent: str | None = None
    ) -> None:
        model = IngestJobRejectedV1(
            transaction_id=event.transaction_id,
            job_name=event.job_name,
            reason=event.reason.value,
            detail=event.detail,
            existing_job_run_id=event.existing_job_run_id,
            rejected_at=event.rejected_at,
        )
        self._publish(
            model,
            correlation_id=correlation_id,
            subject=event.transaction_id,
            traceparent=traceparent,
        )

    def _publish(
        self,
        model: IngestJobStartedV1 | IngestJobRejectedV1,
        *,
        correlation_id: str,
        subject: str,
        traceparent: str | None,
    ) -> None:
        try:
            publish(
                self._topic_arn,
                model,
                correlation_id=correlation_id,
                sns_client=self._client,
                source=SOURCE,
                subject=subject,
                traceparent=traceparent,
            )
        except ClientError as exc:
            raise PublishFailedError(str(exc.response.get("Error", {}).get("Code", ""))) from exc
        except BotoCoreError as exc:
            raise PublishFailedError(type(exc).__name__) from exc
