"""AWS::S3::BucketPolicy: put on the bucket, without TLS-only statements."""

from __future__ import annotations

from typing import Any

from rocket_infra.resources.base import Context, ResourceType, local_policy


def _bucket_policy(ctx: Context, _logical_id: str, props: dict[str, Any]) -> str:
    policy = local_policy(props["PolicyDocument"])
    if policy:
        ctx.client("s3").put_bucket_policy(Bucket=props["Bucket"], Policy=policy)
    return str(props["Bucket"])


def _remove_bucket_policy(ctx: Context, record: dict[str, Any]) -> None:
    ctx.client("s3").delete_bucket_policy(Bucket=record["Bucket"])


TYPES = (
    ResourceType("AWS::S3::BucketPolicy", create=_bucket_policy, remove=_remove_bucket_policy),
)
