# GENERATED from contracts/schemas by `make models` (datamodel-code-generator). Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import TypeAliasType

PropertiesAdditionalProperty = TypeAliasType(
    "PropertiesAdditionalProperty", Annotated[str, Field(max_length=4096)]
)


class Column(BaseModel):
    """
    One column of the table as the source reports it.
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


class AssetsTableObservedV1(BaseModel):
    """
    An agent run saw a table (status running): one event per table, put on the asset-events input stream (Kinesis, partition key = the asset id <system>.<database>--<schema>.<table>, or <system>.<database>.<table> without a schema). The decisor compares its content hash with the control table and requests an upsert when it is new or changed.
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
        Literal["running"],
        Field(description="running: the run is in progress and saw this table."),
    ]
    database: Annotated[
        str,
        Field(
            description="Database name, lowercase (an unquoted SQL identifier).",
            pattern="^[a-z0-9_]{1,120}$",
        ),
    ]
    schema_: Annotated[
        str | None,
        Field(
            alias="schema",
            description="Schema name inside the database, lowercase; absent for sources without schemas. Part of the asset id as <database>--<schema>.",
            pattern="^[a-z0-9_]{1,120}$",
        ),
    ] = None
    table: Annotated[
        str, Field(description="Table name, lowercase.", pattern="^[a-z0-9_]{1,120}$")
    ]
    columns: Annotated[
        list[Column],
        Field(
            description="The table's columns in their order in the table (order is part of the content).",
            max_length=2000,
            min_length=1,
        ),
    ]
    location: Annotated[
        str | None,
        Field(
            description="Where the table's data lives (an s3:// prefix, a JDBC URL); part of the content.",
            max_length=2048,
            min_length=1,
        ),
    ] = None
    properties: Annotated[
        dict[
            Annotated[str, StringConstraints(min_length=1, max_length=128)],
            PropertiesAdditionalProperty,
        ]
        | None,
        Field(
            description="Table properties as the source reports them (owner, format, comment...). Their order does not matter; the declared volatile ones (row counts, last access time) are left out of the content hash.",
            max_length=200,
        ),
    ] = None
