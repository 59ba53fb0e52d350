"""Build the orchestrator and the worker from the settings: the one place clients are made."""

from __future__ import annotations

import boto3
from botocore.config import Config

from gap_scraper.adapters.bus import BusPublisher
from gap_scraper.adapters.queues import SqsDeferrer, SqsQuarantine, SqsRequestQueue
from gap_scraper.adapters.sgs import SgsClient
from gap_scraper.adapters.table import DynamoSeriesTable
from gap_scraper.catalogue import Catalogue, load_catalogue
from gap_scraper.consumer import Consumer
from gap_scraper.orchestrator import Orchestrator
from gap_scraper.settings import Settings
from gap_scraper.worker import Worker

_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=20
)


def build_orchestrator(
    settings: Settings, *, session: boto3.Session | None = None, catalogue: Catalogue | None = None
) -> Orchestrator:
    session = session or boto3.Session()
    return Orchestrator(
        catalogue=catalogue or load_catalogue(),
        table=DynamoSeriesTable(
            settings.table_name, client=session.client("dynamodb", config=_CLIENT_CONFIG)
        ),
        queue=SqsRequestQueue(
            settings.work_queue_url, client=session.client("sqs", config=_CLIENT_CONFIG)
        ),
        earliest=settings.earliest_date,
    )


def build_consumer(
    settings: Settings, *, session: boto3.Session | None = None, catalogue: Catalogue | None = None
) -> Consumer:
    session = session or boto3.Session()
    worker = Worker(
        catalogue=catalogue or load_catalogue(),
        source=SgsClient(
            settings.sgs_base_url,
            connect_timeout=settings.http_connect_timeout,
            read_timeout=settings.http_read_timeout,
            attempts=settings.http_attempts,
        ),
        table=DynamoSeriesTable(
            settings.table_name,
            client=session.client("dynamodb", config=_CLIENT_CONFIG),
            max_rounds=settings.write_rounds,
        ),
        publisher=BusPublisher(
            settings.event_topic_arn, client=session.client("sns", config=_CLIENT_CONFIG)
        ),
    )
    sqs = session.client("sqs", config=_CLIENT_CONFIG)
    return Consumer(
        worker=worker,
        quarantine=SqsQuarantine(settings.dead_letter_queue_url, client=sqs),
        deferrer=SqsDeferrer(settings.work_queue_url, client=sqs),
        retry_base_seconds=settings.retry_delay_seconds,
    )
