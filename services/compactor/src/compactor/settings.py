"""Settings, read once from the environment (COMPACTOR_*)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COMPACTOR_", frozen=True)

    landing_bucket: str
    lake_bucket: str
    event_topic_arn: str
    glue_database: str
    # Only the request function starts executions; the step functions run inside one.
    state_machine_arn: str = ""
    # The request queue's DLQ: a request that can never start goes there at once, with a reason.
    dead_letter_queue_url: str | None = None
    # Where Finalize reports a day's records that break the declared fields (Finalize only).
    violations_queue_url: str | None = None
    work_dir: Path = Path("/tmp")
    duckdb_memory_limit: str = "1GB"
    duckdb_threads: int = Field(default=2, ge=1)
    fetch_concurrency: int = Field(default=32, ge=1, le=256)
    inline_map_max_ranges: int = Field(default=1000, ge=0, le=10000)
    lock_ttl_seconds: int = Field(default=7200, ge=60)
    domains_dir: Path | None = None
