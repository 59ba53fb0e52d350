"""AWS::Scheduler::Schedule: created, or updated when it exists."""

from __future__ import annotations

from typing import Any

from rocket_infra.resources.base import Context, ResourceType, call

_SCHEDULE_KEYS = (
    "GroupName",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "Description",
    "State",
    "FlexibleTimeWindow",
    "Target",
    "KmsKeyArn",
)


def _schedule(ctx: Context, logical_id: str, props: dict[str, Any]) -> str:
    scheduler = ctx.client("scheduler")
    name = str(props.get("Name") or ctx.default_name(logical_id))
    schedule = {key: props[key] for key in _SCHEDULE_KEYS if key in props}
    schedule.setdefault("FlexibleTimeWindow", {"Mode": "OFF"})
    try:
        call(ctx, "scheduler", "CreateSchedule", Name=name, **schedule)
    except scheduler.exceptions.ConflictException:
        call(ctx, "scheduler", "UpdateSchedule", Name=name, **schedule)
    return name


def _remove_schedule(ctx: Context, record: dict[str, Any]) -> None:
    ctx.client("scheduler").delete_schedule(
        Name=record["id"], GroupName=record.get("GroupName", "default")
    )


TYPES = (ResourceType("AWS::Scheduler::Schedule", create=_schedule, remove=_remove_schedule),)
