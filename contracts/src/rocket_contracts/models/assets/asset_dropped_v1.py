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


class AssetsAssetDroppedV1(BaseModel):
    """
    asset-events marked an asset dropped: it is gone from its source, and the control table records that at this version. Published at least once per drop; consumers key on asset_id + version.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    asset_id: Annotated[
        str,
        Field(
            description="Asset id <system>.<database>.<table>, lowercase; the key of the asset in the control table.",
            pattern="^[a-z0-9_-]{1,64}\\.[a-z0-9_-]{1,255}\\.[a-z0-9_-]{1,255}$",
        ),
    ]
    asset: Annotated[common_v1.Asset, Field(description="The asset, as parts.")]
    version: Annotated[
        int,
        Field(
            description="Version of the asset's state after the drop (the last upsert's version + 1).",
            ge=2,
        ),
    ]
    last_hash: Annotated[
        str,
        Field(
            description="content_hash of the last state before the drop.",
            pattern="^[0-9a-f]{64}$",
        ),
    ]
    reason: Annotated[
        Literal["SOURCE_DROPPED", "NOT_SEEN_IN_COMPLETED_RUN"],
        Field(
            description="SOURCE_DROPPED: the source reported the table gone. NOT_SEEN_IN_COMPLETED_RUN: an agent run completed without reporting a table it reported before."
        ),
    ]
    origin: Annotated[Origin, Field(description="The input the drop came from.")]
    last_seen_at: Annotated[
        AwareDatetime,
        Field(
            description="When the asset was last reported present (RFC 3339 with a time zone)."
        ),
    ]
    dropped_at: Annotated[
        AwareDatetime,
        Field(
            description="When the control table was updated (RFC 3339 with a time zone)."
        ),
    ]
