"""The local runtime: runs the compute of the deployed stacks against the emulator.

Import is lazy so that `python -m rocket_infra.runtime.worker` (a function's warm process) does
not import boto3 and the runtime before the handler's module reads its environment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rocket_infra.runtime.records import GlueRun, Invocation
    from rocket_infra.runtime.runtime import EMULATOR_CONFIG, Runtime
    from rocket_infra.runtime.schedules import UnknownScheduleError

__all__ = ["EMULATOR_CONFIG", "GlueRun", "Invocation", "Runtime", "UnknownScheduleError"]


def __getattr__(name: str) -> Any:
    if name in ("Runtime", "EMULATOR_CONFIG"):
        from rocket_infra.runtime import runtime

        return getattr(runtime, name)
    if name in ("GlueRun", "Invocation"):
        from rocket_infra.runtime import records

        return getattr(records, name)
    if name == "UnknownScheduleError":
        from rocket_infra.runtime import schedules

        return schedules.UnknownScheduleError
    raise AttributeError(name)
