"""The functions' settings, read once from the Lambda environment."""

from __future__ import annotations

from datetime import date

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gap_scraper.adapters.sgs import DEFAULT_BASE_URL


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    table_name: str = Field(description="The series table (PK info_type, SK date).")
    work_queue_url: str = Field(description="Queue of download requests, orchestrator -> worker.")
    dead_letter_queue_url: str = Field(
        description="The work queue's DLQ, where requests that can never succeed go at once."
    )
    event_topic_arn: str = Field(description="The shared topic: series.updated goes there.")
    sgs_base_url: str = Field(default=DEFAULT_BASE_URL, description="Scheme and host of SGS.")
    earliest_date: date | None = Field(
        default=None,
        description="Backfill horizon: no series is expected before this day (empty: none).",
    )
    http_attempts: int = Field(default=5, ge=1, le=10, description="HTTP tries per call.")
    http_connect_timeout: float = Field(default=5.0, gt=0)
    http_read_timeout: float = Field(default=30.0, gt=0)
    retry_delay_seconds: int = Field(
        default=30, ge=0, le=900, description="First wait before a failed request comes back."
    )
    write_rounds: int = Field(
        default=8, ge=1, description="BatchWriteItem calls per chunk of 25 before giving up."
    )

    @field_validator("earliest_date", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value
