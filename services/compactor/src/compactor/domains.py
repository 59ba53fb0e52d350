"""Domain declarations: which landing files make a domain's day and what its records must hold.

A domain is declared in `services/compactor/domains/<name>.yaml` (packaged with the code as
`compactor/declarations`, a link to that folder).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
MB = 1024 * 1024


class DaySource(StrEnum):
    """How a landing file's UTC day is known."""

    # A time-based partitioner's path: topics/<topic>/year=YYYY/month=MM/day=DD/hour=HH/...
    KEY_PATH = "key_path"
    # Any other partitioner: when S3 received the object, in UTC.
    LAST_MODIFIED = "last_modified"


class FieldType(StrEnum):
    STRING = "string"
    BIGINT = "bigint"
    DOUBLE = "double"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"
    DATE = "date"
    OBJECT = "object"
    ARRAY = "array"


class FieldSpec(BaseModel):
    """A declared field: a record without it (or null, when required) or with a value of another
    type is quarantined with the reason, never coerced."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
    type: FieldType
    required: bool = True


class DomainSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME_PATTERN)
    description: str
    topic: str = Field(pattern=r"^[A-Za-z0-9._-]{1,249}$")
    day_source: DaySource
    # DuckDB advises 100 MB - 10 GB per Parquet file; the landing bytes of a range aim here.
    target_file_mb: int = Field(default=256, ge=1, le=10240)
    fields: tuple[FieldSpec, ...] = ()

    @model_validator(mode="after")
    def _unique_fields(self) -> Self:
        # Table columns (DuckDB's and Glue's) ignore case: `orderId` and `orderid` are one.
        if len({f.name.lower() for f in self.fields}) != len(self.fields):
            raise ValueError("field names must be unique, case aside")
        return self

    @property
    def target_bytes(self) -> int:
        return self.target_file_mb * MB

    def topic_prefix(self) -> str:
        return f"topics/{self.topic}/"

    def day_prefix(self, day: date) -> str:
        """The narrowest key prefix that holds every landing file of the day."""
        if self.day_source is DaySource.KEY_PATH:
            return f"{self.topic_prefix()}year={day:%Y}/month={day:%m}/day={day:%d}/"
        return self.topic_prefix()


class UnknownDomainError(LookupError):
    """A request names a domain that has no declaration."""


class DomainCatalog:
    """The declared domains, by name."""

    def __init__(self, specs: list[DomainSpec]) -> None:
        self._specs = {spec.name: spec for spec in specs}
        if len(self._specs) != len(specs):
            raise ValueError("domain names must be unique")

    @classmethod
    def load(cls, directory: Path) -> DomainCatalog:
        return cls(
            [
                DomainSpec.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
                for path in sorted(directory.glob("*.yaml"))
            ]
        )

    def names(self) -> list[str]:
        return sorted(self._specs)

    def get(self, name: str) -> DomainSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownDomainError(name) from None


def default_domains_dir() -> Path:
    return Path(__file__).parent / "declarations"
