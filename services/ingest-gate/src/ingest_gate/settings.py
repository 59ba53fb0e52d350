"""The gate's settings, read once from the Lambda environment."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    event_topic_arn: str = Field(description="The shared topic: started/rejected go there.")
    idempotency_bucket: str = Field(description="Bucket holding one record per transaction id.")
    idempotency_prefix: str = Field(
        default="idempotency/", description="Key prefix of the records (the role's only S3 scope)."
    )
    queue_url: str | None = Field(
        default=None,
        description="The request queue; set to shorten retry delays of failed records.",
    )
    dead_letter_queue_url: str | None = Field(
        default=None,
        description="The request queue's DLQ: invalid requests go there at once, with a reason.",
    )
    allowed_jobs: Annotated[frozenset[str], NoDecode] = Field(
        description="Comma-separated Glue job names the gate may start; anything else is rejected."
    )
    claim_ttl_seconds: int = Field(
        default=120,
        ge=5,
        description="How long an IN_PROGRESS claim protects a transaction id; above the timeout.",
    )
    start_margin_seconds: int = Field(
        default=10, ge=0, description="No StartJobRun with less than this left on the claim."
    )

    @field_validator("allowed_jobs", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(name.strip() for name in value.split(",") if name.strip())
        return value
