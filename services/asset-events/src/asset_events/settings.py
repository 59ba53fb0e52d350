"""The service's settings, read once from the Lambda environment. Each function reads the ones
it needs (`require`): the decisor has no topic, the producers no stream."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from asset_events.hashing import DEFAULT_VOLATILE_PROPERTIES


class MissingSettingError(ValueError):
    """A function was deployed without a setting it needs."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    dynamodb_table_name: str = Field(description="The control table (asset state, seen marks).")
    content_bucket_name: str | None = Field(
        default=None, description="Versioned bucket of snapshots, quarantine and parked messages."
    )
    upsert_queue_url: str | None = Field(default=None, description="Queue of upsert requests.")
    drop_queue_url: str | None = Field(default=None, description="Queue of drop requests.")
    upsert_dlq_url: str | None = Field(default=None, description="DLQ of the upsert queue.")
    drop_dlq_url: str | None = Field(default=None, description="DLQ of the drop queue.")
    event_topic_arn: str | None = Field(
        default=None, description="The shared topic: upserted/dropped events go there."
    )
    drop_threshold: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Share of an agent's active assets one completed run may drop.",
    )
    volatile_properties: Annotated[frozenset[str], NoDecode] = Field(
        default=DEFAULT_VOLATILE_PROPERTIES,
        description="Comma-separated table properties left out of the content hash.",
    )
    redrive_max_attempts: int = Field(
        default=3, ge=1, description="Redrives of one message before it is parked in the bucket."
    )

    @field_validator("volatile_properties", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(n.strip().lower() for n in value.split(",") if n.strip())
        return value

    def require(self, name: str) -> str:
        value = getattr(self, name)
        if not value:
            raise MissingSettingError(f"{name.upper()} is not set for this function")
        return str(value)
