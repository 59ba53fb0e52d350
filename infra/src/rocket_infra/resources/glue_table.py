"""AWS::Glue::Table: created, or updated when it exists."""

from __future__ import annotations

from typing import Any

from rocket_infra.resources.base import Context, ResourceType, call


def _glue_table(ctx: Context, logical_id: str, props: dict[str, Any]) -> str:
    glue = ctx.client("glue")
    table = dict(props["TableInput"])
    table.setdefault("Name", ctx.default_name(logical_id).lower())
    try:
        call(ctx, "glue", "CreateTable", DatabaseName=props["DatabaseName"], TableInput=table)
    except glue.exceptions.AlreadyExistsException:
        call(ctx, "glue", "UpdateTable", DatabaseName=props["DatabaseName"], TableInput=table)
    return str(table["Name"])


def _remove_glue_table(ctx: Context, record: dict[str, Any]) -> None:
    ctx.client("glue").delete_table(DatabaseName=record["DatabaseName"], Name=record["id"])


TYPES = (ResourceType("AWS::Glue::Table", create=_glue_table, remove=_remove_glue_table),)
