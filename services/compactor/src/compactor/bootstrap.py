"""Build the compactor from settings, once per process."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

import boto3
from rocket_contracts.deadletter import DeadLetters

from compactor.adapters.bus import SnsPublisher
from compactor.adapters.executions import StepFunctionsExecutions
from compactor.adapters.glue import GlueCatalog
from compactor.adapters.s3 import S3ObjectStore
from compactor.adapters.violations import SqsViolations
from compactor.compaction import EngineLimits
from compactor.domains import DomainCatalog, default_domains_dir
from compactor.requests import Requests
from compactor.settings import Settings
from compactor.workflow import Compactor, CompactorConfig


@cache
def settings() -> Settings:
    return Settings()


def domains(config: Settings) -> DomainCatalog:
    return DomainCatalog.load(config.domains_dir or default_domains_dir())


def build(config: Settings) -> Compactor:
    return Compactor(
        domains=domains(config),
        store=S3ObjectStore(pool_size=max(10, config.fetch_concurrency)),
        catalog=GlueCatalog(),
        publisher=SnsPublisher(config.event_topic_arn),
        config=CompactorConfig(
            landing_bucket=config.landing_bucket,
            lake_bucket=config.lake_bucket,
            glue_database=config.glue_database,
            work_dir=config.work_dir,
            limits=EngineLimits(config.duckdb_memory_limit, config.duckdb_threads),
            fetch_concurrency=config.fetch_concurrency,
            inline_map_max_ranges=config.inline_map_max_ranges,
            lock_ttl=timedelta(seconds=config.lock_ttl_seconds),
        ),
        violations=(
            SqsViolations(config.violations_queue_url) if config.violations_queue_url else None
        ),
    )


@cache
def compactor() -> Compactor:
    return build(settings())


@cache
def requests() -> Requests:
    config = settings()
    return Requests(domains(config), StepFunctionsExecutions(config.state_machine_arn))


@cache
def dead_letters() -> DeadLetters | None:
    url = settings().dead_letter_queue_url
    return DeadLetters(client=boto3.client("sqs"), queue_url=url) if url else None


@cache
def publisher() -> SnsPublisher:
    return SnsPublisher(settings().event_topic_arn)
