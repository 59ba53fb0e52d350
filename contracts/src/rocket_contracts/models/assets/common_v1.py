# GENERATED from contracts/schemas by `make models` (datamodel-code-generator). Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, RootModel


class AssetsCommonV1(RootModel[Any]):
    root: Annotated[
        Any,
        Field(
            description="Definitions the assets schemas share through a cross-file $ref (common.v1.json#/$defs/<name>), so every message has one shape and one generated class; not a message type.",
            title="AssetsCommonV1",
        ),
    ]


class Asset(BaseModel):
    """
    The data asset: a table in a database of a source system.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    system: Annotated[
        str,
        Field(
            description="Source system or catalog the agent reports from (e.g. postgres-erp, glue).",
            pattern="^[a-z0-9_-]{1,64}$",
        ),
    ]
    database: Annotated[
        str,
        Field(
            description="Database (or schema) name, lowercase.",
            pattern="^[a-z0-9_-]{1,255}$",
        ),
    ]
    table: Annotated[
        str, Field(description="Table name, lowercase.", pattern="^[a-z0-9_-]{1,255}$")
    ]
