"""AWS::S3::Bucket: moto creates it but ignores versioning, the public access block,
notifications and server access logging."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rocket_infra.resources.base import Context, ResourceType


def _notification_filter(spec: Mapping[str, Any]) -> dict[str, Any]:
    rules = spec.get("Filter", {}).get("S3Key", {}).get("Rules", [])
    return {"Filter": {"Key": {"FilterRules": rules}}} if rules else {}


def _notifications(config: Mapping[str, Any]) -> dict[str, Any]:
    """CloudFormation's NotificationConfiguration in the shape of the S3 API."""
    api: dict[str, Any] = {}
    targets = (
        ("QueueConfigurations", "Queue", "QueueArn"),
        ("TopicConfigurations", "Topic", "TopicArn"),
        ("LambdaConfigurations", "Function", "LambdaFunctionArn"),
    )
    for key, source, target in targets:
        if key in config:
            api[key] = [
                {target: spec[source], "Events": [spec["Event"]], **_notification_filter(spec)}
                for spec in config[key]
            ]
    if config.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled") in (True, "true"):
        api["EventBridgeConfiguration"] = {}
    return api


def _comparable(config: Mapping[str, Any]) -> dict[str, Any]:
    """A notification configuration without the ids S3 assigns, for comparison."""
    return {
        key: [{k: v for k, v in item.items() if k != "Id"} for item in value]
        if isinstance(value, list)
        else value
        for key, value in config.items()
        if value not in ([], None)
    }


def _logging_status(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """CloudFormation's LoggingConfiguration as the S3 API's BucketLoggingStatus."""
    if not config:
        return {}
    return {
        "LoggingEnabled": {
            "TargetBucket": config["DestinationBucketName"],
            "TargetPrefix": config.get("LogFilePrefix", ""),
        }
    }


def _fix_logging(s3: Any, bucket: str, config: Mapping[str, Any] | None) -> None:
    """moto refuses it unless the target bucket's policy lets logging.s3.amazonaws.com put
    objects, as AWS requires of a target with ACLs disabled: a broken access-log bucket policy
    fails the local deploy. No access log is ever delivered locally."""
    wanted = _logging_status(config)
    current = s3.get_bucket_logging(Bucket=bucket).get("LoggingEnabled")
    if current != wanted.get("LoggingEnabled"):
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus=wanted)


def _fix_bucket(ctx: Context, logical_id: str, props: dict[str, Any]) -> None:
    s3 = ctx.client("s3")
    bucket = ctx.physical_ids[logical_id]
    if "VersioningConfiguration" in props:
        s3.put_bucket_versioning(
            Bucket=bucket,
            VersioningConfiguration={"Status": props["VersioningConfiguration"]["Status"]},
        )
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                k: v in (True, "true") for k, v in props["PublicAccessBlockConfiguration"].items()
            },
        )
    _fix_logging(s3, bucket, props.get("LoggingConfiguration"))
    # No NotificationConfiguration means none, as CloudFormation applies it: one removed from
    # the template is removed from the bucket.
    wanted = _notifications(props.get("NotificationConfiguration", {}))
    current = s3.get_bucket_notification_configuration(Bucket=bucket)
    current.pop("ResponseMetadata", None)
    # a changed configuration makes S3 send an s3:TestEvent: only put what changed
    if _comparable(current) != _comparable(wanted):
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=wanted)


TYPES = (
    ResourceType(
        "AWS::S3::Bucket",
        fix=_fix_bucket,
        fix_keys=(
            "VersioningConfiguration",
            "PublicAccessBlockConfiguration",
            "NotificationConfiguration",
            "LoggingConfiguration",
        ),
    ),
)
