"""Build the pipeline from settings, once per process."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

import boto3
from rocket_contracts.deadletter import DeadLetters

from etl_layers.adapters.bus import BusPublisher
from etl_layers.adapters.glue import GlueCatalog
from etl_layers.adapters.s3 import S3ObjectStore
from etl_layers.datasets import DatasetCatalog, default_datasets_dir
from etl_layers.locks import LockPolicy
from etl_layers.pipeline import Pipeline, PipelineConfig
from etl_layers.settings import Settings
from etl_layers.transform import EngineLimits


def build(settings: Settings) -> Pipeline:
    return Pipeline(
        datasets=DatasetCatalog.load(settings.datasets_dir or default_datasets_dir()),
        store=S3ObjectStore(),
        catalog=GlueCatalog(),
        publisher=BusPublisher(settings.event_topic_arn),
        config=PipelineConfig(
            trusted_bucket=settings.trusted_bucket,
            delivery_bucket=settings.delivery_bucket,
            quarantine_bucket=settings.quarantine_bucket,
            glue_database=settings.glue_database,
            work_dir=settings.work_dir,
            pipeline_version=settings.pipeline_version,
            limits=EngineLimits(settings.duckdb_memory_limit, settings.duckdb_threads),
            locks=LockPolicy(
                ttl=timedelta(seconds=settings.lock_ttl_seconds),
                wait_seconds=settings.lock_wait_seconds,
            ),
        ),
    )


@cache
def bootstrap() -> Pipeline:
    return build(Settings())


@cache
def dead_letters() -> DeadLetters | None:
    url = Settings().dead_letter_queue_url
    return DeadLetters(client=boto3.client("sqs"), queue_url=url) if url else None
