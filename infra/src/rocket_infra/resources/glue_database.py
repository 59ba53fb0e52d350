"""AWS::Glue::Database: created, or updated when it exists."""

from __future__ import annotations

from typing import Any

from rocket_infra.resources.base import Context, ResourceType, call


def _glue_database(ctx: Context, logical_id: str, props: dict[str, Any]) -> str:
    glue = ctx.client("glue")
    database = dict(props["DatabaseInput"])
    database.setdefault("Name", ctx.default_name(logical_id).lower())
    try:
        call(ctx, "glue", "CreateDatabase", DatabaseInput=database)
    except glue.exceptions.AlreadyExistsException:
        call(ctx, "glue", "UpdateDatabase", Name=database["Name"], DatabaseInput=database)
    return str(database["Name"])


def _remove_glue_database(ctx: Context, record: dict[str, Any]) -> None:
    ctx.client("glue").delete_database(Name=record["id"])


TYPES = (ResourceType("AWS::Glue::Database", create=_glue_database, remove=_remove_glue_database),)
