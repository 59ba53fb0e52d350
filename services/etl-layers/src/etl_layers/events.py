"""S3 event notifications as they arrive on the ETL queue, parsed into RAW object references."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from rocket_contracts import edge

from etl_layers.observability import logger

TEST_EVENT = "s3:TestEvent"


class InvalidNotificationError(ValueError):
    """A queue message that is neither an S3 event notification nor an s3:TestEvent."""


@dataclass(frozen=True)
class RawObject:
    """One version of one RAW object: what the pipeline processes (key already decoded)."""

    bucket: str
    key: str
    etag: str
    version_id: str | None = None
    size: int | None = None


class _Object(BaseModel):
    model_config = ConfigDict(extra="ignore")
    key: str
    size: int | None = None
    etag: str = Field(alias="eTag")
    version_id: str | None = Field(default=None, alias="versionId")


class _Bucket(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str


class _S3(BaseModel):
    model_config = ConfigDict(extra="ignore")
    bucket: _Bucket
    object: _Object


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore")
    event_name: str = Field(alias="eventName")
    # Checked only for create events: ObjectRemoved:* records carry no eTag or size.
    s3: dict[str, Any]


class _Notification(BaseModel):
    model_config = ConfigDict(extra="ignore")
    records: list[_Record] = Field(default_factory=list, alias="Records")
    event: str | None = Field(default=None, alias="Event")


def parse_s3_message(body: str) -> list[RawObject]:
    """The created objects of one message body ([] for s3:TestEvent and non-create events).

    Accepts the body S3 sends to a queue, and the same wrapped in an SNS notification
    (S3 -> SNS -> SQS without raw delivery).
    """
    try:
        # edge.loads: a duplicate key or absurd nesting is as invalid as broken JSON.
        document = edge.loads(body)
        if isinstance(document, dict) and document.get("Type") == "Notification":
            document = edge.loads(document["Message"])
        notification = _Notification.model_validate(document)
    except (ValueError, KeyError, TypeError, ValidationError) as exc:
        raise InvalidNotificationError(str(exc)[:500]) from exc
    if notification.event == TEST_EVENT:
        return []
    if isinstance(document, dict) and document.get("source") == "aws.s3":
        # EventBridge's shape of an S3 event: this queue is fed by S3 notifications only.
        logger.info(
            "EventBridge S3 event ignored", extra={"detail_type": document.get("detail-type")}
        )
        return []
    if not notification.records:
        raise InvalidNotificationError("no Records in the message")
    objects = []
    for record in notification.records:
        if not record.event_name.startswith("ObjectCreated:"):
            logger.info("non-create S3 event ignored", extra={"event_name": record.event_name})
            continue
        try:
            s3 = _S3.model_validate(record.s3)
        except ValidationError as exc:
            raise InvalidNotificationError(str(exc)[:500]) from exc
        objects.append(
            RawObject(
                bucket=s3.bucket.name,
                key=unquote_plus(s3.object.key),
                etag=s3.object.etag.strip('"'),
                version_id=s3.object.version_id,
                size=s3.object.size,
            )
        )
    return objects
