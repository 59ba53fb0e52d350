"""AWS::SNS::TopicPolicy: set on each topic, without TLS-only statements. A policy left behind is
harmless here (moto does not enforce it): not removed."""

from __future__ import annotations

from typing import Any

from rocket_infra.resources.base import Context, ResourceType, local_policy


def _topic_policy(ctx: Context, logical_id: str, props: dict[str, Any]) -> str:
    policy = local_policy(props["PolicyDocument"])
    for arn in props["Topics"] if policy else []:
        ctx.client("sns").set_topic_attributes(
            TopicArn=arn, AttributeName="Policy", AttributeValue=policy
        )
    return ctx.default_name(logical_id)


TYPES = (ResourceType("AWS::SNS::TopicPolicy", create=_topic_policy),)
