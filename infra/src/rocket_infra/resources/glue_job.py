"""AWS::Glue::Job: created (again, when changed: moto has no UpdateJob)."""

from __future__ import annotations

import contextlib
from typing import Any

from rocket_infra.resources.base import Context, ResourceType, call

_GLUE_JOB_KEYS = (
    "Description",
    "LogUri",
    "Role",
    "ExecutionProperty",
    "Command",
    "DefaultArguments",
    "NonOverridableArguments",
    "Connections",
    "MaxRetries",
    "Timeout",
    "MaxCapacity",
    "SecurityConfiguration",
    "NotificationProperty",
    "GlueVersion",
    "NumberOfWorkers",
    "WorkerType",
    "ExecutionClass",
)


def _glue_job(ctx: Context, logical_id: str, props: dict[str, Any]) -> str:
    glue = ctx.client("glue")
    name = str(props.get("Name") or ctx.default_name(logical_id))
    job = {key: props[key] for key in _GLUE_JOB_KEYS if key in props}
    if "MaxConcurrentRuns" in props:  # a flat property in some templates; the API nests it
        job["ExecutionProperty"] = {"MaxConcurrentRuns": int(props["MaxConcurrentRuns"])}
    # moto 5.2.5 has no UpdateJob: a changed job is created again (this path is emulator-only)
    with contextlib.suppress(glue.exceptions.EntityNotFoundException):
        glue.get_job(JobName=name)
        glue.delete_job(JobName=name)
    call(ctx, "glue", "CreateJob", Name=name, Tags=props.get("Tags", {}), **job)
    return name


def _remove_glue_job(ctx: Context, record: dict[str, Any]) -> None:
    ctx.client("glue").delete_job(JobName=record["id"])


TYPES = (ResourceType("AWS::Glue::Job", create=_glue_job, remove=_remove_glue_job),)
