"""Build each function's logic from the settings: the one place real AWS clients are made."""

from __future__ import annotations

import boto3
from botocore.config import Config

from asset_events.adapters.dynamodb import DynamoControlStore
from asset_events.adapters.s3 import S3ContentStore
from asset_events.adapters.sns import SnsEventPublisher
from asset_events.adapters.sqs import SqsMailbox, SqsRequestSender
from asset_events.decisor import Decisor, DecisorConfig
from asset_events.domain import DropRequest, UpsertRequest
from asset_events.producers import DropProducer, UpsertProducer
from asset_events.queues import PlatformConsumer, RequestConsumer
from asset_events.queues import drop_consumer as drop_request_consumer
from asset_events.queues import upsert_consumer as upsert_request_consumer
from asset_events.settings import Settings
from asset_events.stream import StreamConsumer

_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=20
)


def _session(session: boto3.Session | None) -> boto3.Session:
    return session or boto3.Session()


def control_store(
    settings: Settings, session: boto3.Session | None = None, *, lean_reads: bool = False
) -> DynamoControlStore:
    return DynamoControlStore(
        table_name=settings.dynamodb_table_name,
        lean_reads=lean_reads,
        client=_session(session).client("dynamodb", config=_CLIENT_CONFIG),
    )


def content_store(settings: Settings, session: boto3.Session | None = None) -> S3ContentStore:
    return S3ContentStore(
        bucket=settings.require("content_bucket_name"),
        client=_session(session).client("s3", config=_CLIENT_CONFIG),
    )


def decisor(settings: Settings, session: boto3.Session | None = None) -> Decisor:
    return Decisor(
        store=control_store(settings, session, lean_reads=True),
        content=content_store(settings, session),
        sender=SqsRequestSender(
            upsert_queue_url=settings.require("upsert_queue_url"),
            drop_queue_url=settings.require("drop_queue_url"),
            client=_session(session).client("sqs", config=_CLIENT_CONFIG),
        ),
        config=DecisorConfig(drop_threshold=settings.drop_threshold),
    )


def stream_consumer(settings: Settings, session: boto3.Session | None = None) -> StreamConsumer:
    return StreamConsumer(
        decisor=decisor(settings, session),
        content=content_store(settings, session),
        volatile=settings.volatile_properties,
    )


def platform_consumer(settings: Settings, session: boto3.Session | None = None) -> PlatformConsumer:
    return PlatformConsumer(decisor=decisor(settings, session))


def _publisher(settings: Settings, session: boto3.Session | None) -> SnsEventPublisher:
    return SnsEventPublisher(
        topic_arn=settings.require("event_topic_arn"),
        client=_session(session).client("sns", config=_CLIENT_CONFIG),
    )


def upsert_consumer(
    settings: Settings, session: boto3.Session | None = None
) -> RequestConsumer[UpsertRequest]:
    store = control_store(settings, session)
    return upsert_request_consumer(
        UpsertProducer(store=store, publisher=_publisher(settings, session))
    )


def drop_consumer(
    settings: Settings, session: boto3.Session | None = None
) -> RequestConsumer[DropRequest]:
    store = control_store(settings, session)
    return drop_request_consumer(DropProducer(store=store, publisher=_publisher(settings, session)))


def mailbox(settings: Settings, queue: str, session: boto3.Session | None = None) -> SqsMailbox:
    """`queue`: upsert or drop."""
    return SqsMailbox(
        dlq_url=settings.require(f"{queue}_dlq_url"),
        source_url=settings.require(f"{queue}_queue_url"),
        client=_session(session).client("sqs", config=_CLIENT_CONFIG),
    )
