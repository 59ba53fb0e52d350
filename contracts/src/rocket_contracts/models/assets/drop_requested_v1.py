# GENERATED from contracts/schemas by `make models` (datamodel-code-generator). Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from . import common_v1


class Origin(BaseModel):
    """
    What the decision was made from: an agent's report on the input stream, an etl.delivery.published.v1 or a compactor.domain.processed.v1.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    kind: Annotated[
        Literal["agent", "etl", "compactor"], Field(description="The kind of input.")
    ]
    event_id: Annotated[
        str,
        Field(
            description="Id of the input: the agent event id, or the CloudEvent id.",
            max_length=128,
            min_length=1,
        ),
    ]
    agent_run_id: Annotated[
        str | None,
        Field(
            description="The agent run the report belongs to (agents report running and then completed per run).",
            pattern="^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
        ),
    ] = None


class AssetsDropRequestedV1(BaseModel):
    """
    The asset-events decisor found an asset that is gone from its source, and asks its drop producer to mark it dropped and announce it. Travels on asset-events' own drop queue. The producer applies it only if the control table still holds last_hash, so a redelivered request, or one overtaken by a newer upsert, changes nothing.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    decision_id: Annotated[
        str,
        Field(
            description="Idempotency key: SHA-256 (hex) of asset_id, last_hash and the word drop.",
            pattern="^[0-9a-f]{64}$",
        ),
    ]
    asset_id: Annotated[
        str,
        Field(
            description="Asset id <system>.<database>.<table>, lowercase; the key of the asset in the control table.",
            pattern="^[a-z0-9_-]{1,64}\\.[a-z0-9_-]{1,255}\\.[a-z0-9_-]{1,255}$",
        ),
    ]
    asset: Annotated[common_v1.Asset, Field(description="The asset, as parts.")]
    last_hash: Annotated[
        str,
        Field(
            description="content_hash the control table held for the asset when the drop was decided.",
            pattern="^[0-9a-f]{64}$",
        ),
    ]
    reason: Annotated[
        Literal["SOURCE_DROPPED", "NOT_SEEN_IN_COMPLETED_RUN"],
        Field(
            description="SOURCE_DROPPED: the source reported the table gone. NOT_SEEN_IN_COMPLETED_RUN: an agent run completed without reporting a table it reported before."
        ),
    ]
    origin: Annotated[Origin, Field(description="The input that led to the decision.")]
    last_seen_at: Annotated[
        AwareDatetime,
        Field(
            description="When the asset was last reported present (RFC 3339 with a time zone)."
        ),
    ]
    decided_at: Annotated[
        AwareDatetime,
        Field(description="When the decisor decided (RFC 3339 with a time zone)."),
    ]
