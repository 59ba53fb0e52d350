"""The series catalogue: which series to keep complete, read from `catalogue.yaml` (data)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gap_scraper.domain import CatalogueError

INFO_TYPE_PATTERN = r"^[A-Z][A-Z0-9_]{0,31}#[A-Z0-9_]{1,64}$"


class Periodicity(StrEnum):
    BUSINESS_DAILY = "business_daily"
    MONTHLY = "monthly"

    @property
    def frequency(self) -> Literal["daily", "monthly"]:
        """The contract's name for it (`gapscraper.download.requested.v1` `frequency`)."""
        return "daily" if self is Periodicity.BUSINESS_DAILY else "monthly"


class Series(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    info_type: Annotated[str, Field(pattern=INFO_TYPE_PATTERN)]
    description: str = ""
    source: Literal["BCB_SGS"]
    sgs_code: Annotated[int, Field(ge=1, le=99999999)]
    periodicity: Periodicity
    start_date: date
    no_data_after_days: Annotated[int, Field(ge=1, le=3660)]

    @model_validator(mode="after")
    def _monthly_starts_on_the_first(self) -> Series:
        if self.periodicity is Periodicity.MONTHLY and self.start_date.day != 1:
            raise ValueError("a monthly series starts on the first day of a month")
        return self


class Catalogue(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    series: tuple[Series, ...]

    @model_validator(mode="after")
    def _unique(self) -> Catalogue:
        for field in ("info_type", "sgs_code"):
            values = [getattr(s, field) for s in self.series]
            duplicated = sorted({str(v) for v in values if values.count(v) > 1})
            if duplicated:
                raise ValueError(f"{field} listed twice: {', '.join(duplicated)}")
        return self

    def get(self, info_type: str) -> Series:
        for series in self.series:
            if series.info_type == info_type:
                return series
        raise KeyError(info_type)


def load_catalogue(path: Path | None = None) -> Catalogue:
    """The packaged catalogue, or the one at `path`; a malformed file is a CatalogueError."""
    where = str(path) if path else "gap_scraper/catalogue.yaml"
    try:
        if path is None:
            text = resources.files("gap_scraper").joinpath("catalogue.yaml").read_text("utf-8")
        else:
            text = path.read_text("utf-8")
        return Catalogue.model_validate(yaml.safe_load(text))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise CatalogueError(f"{where}: {exc}") from exc
