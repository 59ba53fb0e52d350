"""AWS::DynamoDB::Table: moto creates it but ignores its time to live."""

from __future__ import annotations

from typing import Any

from rocket_infra.resources.base import Context, ResourceType


def _fix_table(ctx: Context, logical_id: str, props: dict[str, Any]) -> None:
    spec = props.get("TimeToLiveSpecification")
    if not spec:
        return
    dynamodb = ctx.client("dynamodb")
    table = ctx.physical_ids[logical_id]
    enabled = spec.get("Enabled") in (True, "true")
    status = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    if (status.get("TimeToLiveStatus") == "ENABLED") == enabled:
        return
    dynamodb.update_time_to_live(
        TableName=table,
        TimeToLiveSpecification={"AttributeName": spec["AttributeName"], "Enabled": enabled},
    )


TYPES = (
    ResourceType("AWS::DynamoDB::Table", fix=_fix_table, fix_keys=("TimeToLiveSpecification",)),
)
