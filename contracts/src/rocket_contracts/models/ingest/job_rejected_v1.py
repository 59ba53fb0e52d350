# GENERATED from contracts/schemas by `make models` (datamodel-code-generator). Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class IngestJobRejectedV1(BaseModel):
    """
    ingest-gate refused a valid request and will not start a run for it; retrying the same message would not help, so the request is acknowledged. Malformed messages are not rejected this way: they fail and end in the gate's dead-letter queue.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    transaction_id: Annotated[
        str,
        Field(
            description="The transaction id of the rejected request.",
            pattern="^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
        ),
    ]
    job_name: Annotated[
        str,
        Field(
            description="The job name the rejected request asked for.",
            pattern="^[A-Za-z0-9_.-]{1,255}$",
        ),
    ]
    reason: Annotated[
        Literal["UNKNOWN_JOB", "CONFLICTING_PAYLOAD"],
        Field(
            description="Why: UNKNOWN_JOB when the job is not on the gate's allow-list; CONFLICTING_PAYLOAD when the transaction id was already used for a different job or different arguments."
        ),
    ]
    detail: Annotated[
        str,
        Field(
            description="Human-readable explanation for the producer.",
            max_length=1024,
            min_length=1,
        ),
    ]
    existing_job_run_id: Annotated[
        str | None,
        Field(
            description="For CONFLICTING_PAYLOAD: the Glue JobRunId already started for this transaction id, when there is one."
        ),
    ] = None
    rejected_at: Annotated[
        AwareDatetime,
        Field(
            description="When the gate rejected the request (RFC 3339 with a time zone)."
        ),
    ]
