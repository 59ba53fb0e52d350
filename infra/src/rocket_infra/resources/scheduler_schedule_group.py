"""AWS::Scheduler::ScheduleGroup: created once."""

from __future__ import annotations

import contextlib
from typing import Any

from rocket_infra.resources.base import Context, ResourceType


def _schedule_group(ctx: Context, logical_id: str, props: dict[str, Any]) -> str:
    scheduler = ctx.client("scheduler")
    name = str(props.get("Name") or ctx.default_name(logical_id))
    with contextlib.suppress(scheduler.exceptions.ConflictException):
        scheduler.create_schedule_group(Name=name)
    return name


def _remove_schedule_group(ctx: Context, record: dict[str, Any]) -> None:
    ctx.client("scheduler").delete_schedule_group(Name=record["id"])


TYPES = (
    ResourceType(
        "AWS::Scheduler::ScheduleGroup", create=_schedule_group, remove=_remove_schedule_group
    ),
)
