"""Build the gate from its settings: the one place real AWS clients are made."""

from __future__ import annotations

from datetime import timedelta

import boto3
from botocore.config import Config
from rocket_contracts.deadletter import DeadLetters

from ingest_gate.adapters.bus_publisher import BusPublisher
from ingest_gate.adapters.glue_runner import GlueJobRunner
from ingest_gate.adapters.s3_store import S3IdempotencyStore
from ingest_gate.adapters.sqs_deferrer import SqsDeferrer
from ingest_gate.consumer import Consumer
from ingest_gate.gate import Gate, GateConfig
from ingest_gate.settings import Settings

_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=20
)


def gate_config(settings: Settings) -> GateConfig:
    return GateConfig(
        allowed_jobs=settings.allowed_jobs,
        claim_ttl=timedelta(seconds=settings.claim_ttl_seconds),
        start_margin=timedelta(seconds=settings.start_margin_seconds),
    )


def build_gate(settings: Settings, *, session: boto3.Session | None = None) -> Gate:
    session = session or boto3.Session()
    return Gate(
        store=S3IdempotencyStore(
            bucket=settings.idempotency_bucket,
            prefix=settings.idempotency_prefix,
            client=session.client("s3", config=_CLIENT_CONFIG),
        ),
        runner=GlueJobRunner(client=session.client("glue", config=_CLIENT_CONFIG)),
        publisher=BusPublisher(
            topic_arn=settings.event_topic_arn, client=session.client("sns", config=_CLIENT_CONFIG)
        ),
        config=gate_config(settings),
    )


def bootstrap(settings: Settings, *, session: boto3.Session | None = None) -> Consumer:
    """The gate function's record handler, wired to AWS."""
    session = session or boto3.Session()
    sqs = session.client("sqs", config=_CLIENT_CONFIG)
    deferrer = SqsDeferrer(queue_url=settings.queue_url, client=sqs) if settings.queue_url else None
    dead_letters = (
        DeadLetters(client=sqs, queue_url=settings.dead_letter_queue_url)
        if settings.dead_letter_queue_url
        else None
    )
    return Consumer(
        gate=build_gate(settings, session=session), deferrer=deferrer, dead_letters=dead_letters
    )
