# GENERATED from contracts/schemas by `make models` (datamodel-code-generator). Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class AssetsRunCompletedV1(BaseModel):
    """
    An agent run finished (status completed): one event at the end of the run, on the asset-events input stream. The agent's assets not seen in the run become drop candidates, unless the run looks incomplete (failed tables, fewer tables seen than reported, nothing reported, or more than the drop threshold share gone); then nothing is dropped and the drops wait for a later good run.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    event_id: Annotated[
        str,
        Field(
            description="Unique id of this event, set by the agent; the same event sent twice carries the same id.",
            pattern="^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
        ),
    ]
    agent: Annotated[
        str,
        Field(
            description="Name of the agent that reports (one agent owns the assets it reports: a completed run can drop only them).",
            pattern="^[a-z0-9][a-z0-9_-]{0,63}$",
        ),
    ]
    system: Annotated[
        str,
        Field(
            description="Source system the agent reports on (e.g. postgres-erp); the first part of the asset id.",
            pattern="^[a-z0-9_-]{1,64}$",
        ),
    ]
    run_id: Annotated[
        str,
        Field(
            description="The agent run: every running event of a run and its completed event carry the same run id.",
            pattern="^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
        ),
    ]
    emitted_at: Annotated[
        AwareDatetime,
        Field(
            description="When the agent emitted the event (RFC 3339 with a time zone); a report older than what the control table holds for the asset is never applied."
        ),
    ]
    status: Annotated[
        Literal["completed"],
        Field(
            description="completed: the run is over; no more running events follow for it."
        ),
    ]
    started_at: Annotated[
        AwareDatetime | None,
        Field(description="When the run started (RFC 3339 with a time zone)."),
    ] = None
    tables_reported: Annotated[
        int,
        Field(
            description="How many running events the run emitted; the decisor drops nothing until it has seen that many.",
            ge=0,
            le=10000000,
        ),
    ]
    tables_failed: Annotated[
        int,
        Field(
            description="Tables the run could not read (errors); any failure means nothing is dropped after this run.",
            ge=0,
            le=10000000,
        ),
    ]
