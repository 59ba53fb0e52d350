# GENERATED from contracts/schemas by `make models` (datamodel-code-generator). Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from . import common_v1


class Column(BaseModel):
    """
    One column of the asset as the source reports it.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    name: Annotated[
        str,
        Field(
            description="Column name as in the source.", max_length=255, min_length=1
        ),
    ]
    type: Annotated[
        str,
        Field(
            description="Column type as the source names it, e.g. varchar(20), numeric(10,2), bigint.",
            max_length=255,
            min_length=1,
        ),
    ]
    nullable: Annotated[bool, Field(description="Whether the column accepts nulls.")]


class Content(BaseModel):
    """
    The full metadata snapshot the decision was made on, in the event content bucket (history of every change).
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    uri: Annotated[
        str,
        Field(
            description="s3:// URI of the snapshot JSON.",
            pattern="^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$",
        ),
    ]
    sha256: Annotated[
        str,
        Field(
            description="SHA-256 (hex) of the snapshot bytes; equals content_hash.",
            pattern="^[0-9a-f]{64}$",
        ),
    ]


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


class AssetsAssetUpsertedV1(BaseModel):
    """
    asset-events recorded a new asset, or a change to an asset's metadata; the control table now holds this state at this version. Published at least once per version; consumers key on asset_id + version.
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
            description="Version of the asset's state in the control table: 1 for the first upsert, +1 on every upsert or drop.",
            ge=1,
        ),
    ]
    change: Annotated[
        Literal["CREATED", "UPDATED"],
        Field(
            description="CREATED: first seen, or seen again after a drop. UPDATED: its metadata changed."
        ),
    ]
    content_hash: Annotated[
        str,
        Field(
            description="SHA-256 (hex) of the asset's normalized metadata (columns in order, location); the decisor compares it with the stored one to detect a change.",
            pattern="^[0-9a-f]{64}$",
        ),
    ]
    previous_hash: Annotated[
        str | None,
        Field(
            description="content_hash before this change; null when change is CREATED.",
            pattern="^[0-9a-f]{64}$",
        ),
    ]
    columns: Annotated[
        list[Column],
        Field(
            description="The asset's columns in order.", max_length=2000, min_length=1
        ),
    ]
    location: Annotated[
        str | None,
        Field(
            description="s3:// location of the asset's data, when it lives in S3.",
            pattern="^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$",
        ),
    ] = None
    content: Annotated[Content, Field(description="The stored snapshot of this state.")]
    origin: Annotated[Origin, Field(description="The input the change came from.")]
    upserted_at: Annotated[
        AwareDatetime,
        Field(
            description="When the control table was updated (RFC 3339 with a time zone)."
        ),
    ]
