"""AWS::SQS::QueuePolicy and its one-queue form AWS::SQS::QueueInlinePolicy: set on each
queue, without TLS-only statements."""

from __future__ import annotations

from typing import Any

from rocket_infra.resources.base import Context, ResourceType, local_policy, local_queue_url


def _queue_policy(ctx: Context, logical_id: str, props: dict[str, Any]) -> str:
    policy = local_policy(props["PolicyDocument"])
    for url in props["Queues"] if policy else []:
        ctx.client("sqs").set_queue_attributes(
            QueueUrl=local_queue_url(ctx, url), Attributes={"Policy": policy}
        )
    return ctx.default_name(logical_id)


def _queue_inline_policy(ctx: Context, logical_id: str, props: dict[str, Any]) -> str:
    return _queue_policy(ctx, logical_id, {**props, "Queues": [props["Queue"]]})


def _remove_queue_policy(ctx: Context, record: dict[str, Any]) -> None:
    urls = record.get("Queues") or ([record["Queue"]] if "Queue" in record else [])
    for url in urls:
        ctx.client("sqs").set_queue_attributes(
            QueueUrl=local_queue_url(ctx, url), Attributes={"Policy": ""}
        )


TYPES = (
    ResourceType("AWS::SQS::QueuePolicy", create=_queue_policy, remove=_remove_queue_policy),
    ResourceType(
        "AWS::SQS::QueueInlinePolicy", create=_queue_inline_policy, remove=_remove_queue_policy
    ),
)
