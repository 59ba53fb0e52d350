# GENERATED from contracts/schemas by `make models` (datamodel-code-generator). Do not edit by hand.

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class GapscraperSeriesUpdatedV1(BaseModel):
    """
    gap-scraper filled (or tried to fill) one run of missing days of a series: the values the SGS API returned for the range are in the series table. Published once per download request handled; a redelivered request publishes again with the same counts.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    run_id: Annotated[
        str,
        Field(
            description="Id of the orchestrator run whose request this answers.",
            max_length=128,
            min_length=1,
            pattern="^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
        ),
    ]
    series_key: Annotated[
        str,
        Field(
            description="Partition key of the series in the table, e.g. CURRENCY#USD.",
            pattern="^[A-Z][A-Z0-9_]{0,31}#[A-Z0-9_]{1,64}$",
        ),
    ]
    sgs_code: Annotated[
        int,
        Field(
            description="Banco Central SGS series code that was downloaded.",
            ge=1,
            le=99999999,
        ),
    ]
    start_date: Annotated[
        date, Field(description="First day of the range that was requested, inclusive.")
    ]
    end_date: Annotated[
        date, Field(description="Last day of the range that was requested, inclusive.")
    ]
    points_written: Annotated[
        int,
        Field(
            description="Values written to the table for the range (one per day, or per month for monthly series).",
            ge=0,
            le=3660,
        ),
    ]
    first_date: Annotated[
        date | None,
        Field(
            description="Earliest date among the values written; absent when none was written."
        ),
    ] = None
    last_date: Annotated[
        date | None,
        Field(
            description="Latest date among the values written; absent when none was written."
        ),
    ] = None
    days_without_value: Annotated[
        int,
        Field(
            description="Expected days of the range (business days, or months) for which the API returned no value. Those older than the series' publication lag are recorded in the table as no-data markers (days_marked_no_data) and are not asked for again; the rest stay gaps for a later run.",
            ge=0,
            le=3660,
        ),
    ]
    days_marked_no_data: Annotated[
        int | None,
        Field(
            description="Of days_without_value, how many were recorded as no-data markers because the source had still published nothing for them after the series' publication lag. Absent from producers that predate markers.",
            ge=0,
            le=3660,
        ),
    ] = None
    values_quarantined: Annotated[
        int | None,
        Field(
            description="Rows of the answer that could not be read exactly (a malformed date or value) and were recorded as quarantined with their reason instead of written as values. Absent when the producer predates quarantine.",
            ge=0,
            le=3660,
        ),
    ] = None
    updated_at: Annotated[
        AwareDatetime,
        Field(description="When the values were written (RFC 3339 with a time zone)."),
    ]
