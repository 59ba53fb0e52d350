"""AWS::Lambda::Function: its environment, where moto resolved a Ref to a skipped resource
to nothing."""

from __future__ import annotations

from typing import Any

from rocket_infra.resources.base import Context, ResourceType


def _fix_function(ctx: Context, logical_id: str, props: dict[str, Any]) -> None:
    # moto resolves a Ref to a skipped resource (a Glue job, a subscription...) to nothing.
    wanted = props.get("Environment", {}).get("Variables", {})
    if not wanted:
        return
    wanted = {key: str(value) for key, value in wanted.items()}
    lambda_ = ctx.client("lambda")
    name = ctx.physical_ids[logical_id]
    deployed = lambda_.get_function_configuration(FunctionName=name).get("Environment", {})
    if deployed.get("Variables", {}) != wanted:
        lambda_.update_function_configuration(FunctionName=name, Environment={"Variables": wanted})


TYPES = (ResourceType("AWS::Lambda::Function", fix=_fix_function, fix_keys=("Environment",)),)
