"""AWS::SNS::Subscription: subscribed with the API (attributes updated in place)."""

from __future__ import annotations

from typing import Any

from rocket_infra.resources.base import Context, ResourceType, json_text


def _subscription(ctx: Context, _logical_id: str, props: dict[str, Any]) -> str:
    sns = ctx.client("sns")
    attributes = {
        "RawMessageDelivery": str(props.get("RawMessageDelivery", False)).lower(),
    }
    for key in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy"):
        if key in props:
            attributes[key] = json_text(props[key])
    if "FilterPolicyScope" in props:
        attributes["FilterPolicyScope"] = props["FilterPolicyScope"]
    existing = [
        sub["SubscriptionArn"]
        for sub in sns.list_subscriptions_by_topic(TopicArn=props["TopicArn"])["Subscriptions"]
        if sub["Endpoint"] == props["Endpoint"] and sub["Protocol"] == props["Protocol"]
    ]
    if existing:
        for key, value in attributes.items():
            sns.set_subscription_attributes(
                SubscriptionArn=existing[0], AttributeName=key, AttributeValue=value
            )
        return str(existing[0])
    arn: str = sns.subscribe(
        TopicArn=props["TopicArn"],
        Protocol=props["Protocol"],
        Endpoint=props["Endpoint"],
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    return arn


def _remove_subscription(ctx: Context, record: dict[str, Any]) -> None:
    ctx.client("sns").unsubscribe(SubscriptionArn=record["id"])


TYPES = (ResourceType("AWS::SNS::Subscription", create=_subscription, remove=_remove_subscription),)
