"""Settings, read once from the environment (ETL_*)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


def package_version() -> str:
    try:
        return version("etl-layers")
    except PackageNotFoundError:  # running from a source tree without metadata
        return "0.0.0"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ETL_", frozen=True)

    raw_bucket: str
    trusted_bucket: str
    delivery_bucket: str
    quarantine_bucket: str
    event_topic_arn: str
    glue_database: str
    work_dir: Path = Path("/tmp")
    duckdb_memory_limit: str = "192MB"
    duckdb_threads: int = 2
    # Per-day TRUSTED locks: expiry (longer than one object's processing) and wait.
    lock_ttl_seconds: int = 900
    lock_wait_seconds: float = 120.0
    datasets_dir: Path | None = None
    # The RAW queue's DLQ: a message that is not an S3 notification goes there at once.
    dead_letter_queue_url: str | None = None
    pipeline_version: str = package_version()
