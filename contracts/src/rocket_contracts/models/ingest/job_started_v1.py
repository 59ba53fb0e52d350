# GENERATED from contracts/schemas by `make models` (datamodel-code-generator). Do not edit by hand.

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class IngestJobStartedV1(BaseModel):
    """
    ingest-gate started (or, after a crash, found already started) the one Glue job run of a transaction id. Published at least once per transaction id; consumers key on transaction_id or job_run_id.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    transaction_id: Annotated[
        str,
        Field(
            description="The transaction id of the request this run belongs to.",
            pattern="^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
        ),
    ]
    job_name: Annotated[
        str,
        Field(
            description="Name of the Glue job that was started.",
            pattern="^[A-Za-z0-9_.-]{1,255}$",
        ),
    ]
    job_run_id: Annotated[
        str,
        Field(description="Glue JobRunId of the run.", max_length=255, min_length=1),
    ]
    arguments: Annotated[
        dict[str, str],
        Field(
            description="The arguments the run was started with, as passed to Glue (names prefixed with --, including --transaction_id)."
        ),
    ]
    started_at: Annotated[
        AwareDatetime,
        Field(
            description="When ingest-gate recorded the start of the run (RFC 3339 with a time zone)."
        ),
    ]
    recovered: Annotated[
        bool,
        Field(
            description="True when a previous attempt had already started this run and crashed before recording it, so the gate adopted the existing run instead of starting another."
        ),
    ]
