"""S3 event notifications as they arrive on the ETL queue, parsed into RAW object references."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field, ValidationError

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
    s3: _S3


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
        document = json.loads(body)
        if isinstance(document, dict) and document.get("Type") == "Notification":
            document = json.loads(document["Message"])
        notification = _Notification.model_validate(document)
    except (ValueError, KeyError, TypeError, ValidationError) as exc:
        raise InvalidNotificationError(str(exc)[:500]) from exc
    if notification.event == TEST_EVENT:
        return []
    if not notification.records:
        raise InvalidNotificationError("no Records in the message")
    return [
        RawObject(
            bucket=record.s3.bucket.name,
            key=unquote_plus(record.s3.object.key),
            etag=record.s3.object.etag.strip('"'),
            version_id=record.s3.object.version_id,
            size=record.s3.object.size,
        )
        for record in notification.records
        if record.event_name.startswith("ObjectCreated:")
    ]
