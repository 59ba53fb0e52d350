# GENERATED from contracts/schemas by `make models` (datamodel-code-generator). Do not edit by hand.

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class GapscraperDownloadRequestedV1(BaseModel):
    """
    The gap-scraper orchestrator asks its worker to download one contiguous run of missing days of one series from the Banco Central SGS API (one call with dataInicial/dataFinal) and write the values to the series table. Travels on gap-scraper's own work queue. Downloading the same range twice writes the same items (the table is keyed by series and date), so redelivery is harmless.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    run_id: Annotated[
        str,
        Field(
            description="Id of the orchestrator run that found the gap, for tracing; several requests share it.",
            max_length=128,
            min_length=1,
            pattern="^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
        ),
    ]
    series_key: Annotated[
        str,
        Field(
            description="Partition key of the series in the table: <KIND>#<CODE>, e.g. CURRENCY#USD.",
            pattern="^[A-Z][A-Z0-9_]{0,31}#[A-Z0-9_]{1,64}$",
        ),
    ]
    sgs_code: Annotated[
        int,
        Field(
            description="Banco Central SGS series code to download (e.g. 1 for USD/BRL, 433 for IPCA), so the worker needs no lookup.",
            ge=1,
            le=99999999,
        ),
    ]
    frequency: Annotated[
        Literal["daily", "monthly"],
        Field(
            description="Periodicity of the series; a monthly series has one value per month, dated the first day."
        ),
    ]
    start_date: Annotated[
        date,
        Field(description="First missing day of the run (dataInicial), inclusive."),
    ]
    end_date: Annotated[
        date,
        Field(
            description="Last missing day of the run (dataFinal), inclusive; not before start_date and at most 10 years after it (the SGS API limit for daily series)."
        ),
    ]
    missing_days: Annotated[
        int,
        Field(
            description="How many days of the range had no value in the table when the gap was found (weekends and holidays never have one).",
            ge=1,
            le=3660,
        ),
    ]
    requested_at: Annotated[
        AwareDatetime,
        Field(
            description="When the orchestrator made the request (RFC 3339 with a time zone)."
        ),
    ]
