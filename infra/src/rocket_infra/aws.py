"""boto3 clients for AWS or for the emulator (dummy credentials when an endpoint is given)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

DEFAULT_REGION = "us-east-1"
_DUMMY = "testing"


def client(
    service_name: str, *, endpoint_url: str | None = None, region: str = DEFAULT_REGION
) -> Any:
    """A boto3 client; with `endpoint_url`, dummy credentials (no AWS account is read)."""
    if endpoint_url is None:
        return boto3.client(service_name, region_name=region)  # type: ignore[call-overload]
    return boto3.client(  # type: ignore[call-overload]
        service_name,
        region_name=region,
        endpoint_url=endpoint_url,
        aws_access_key_id=_DUMMY,
        aws_secret_access_key=_DUMMY,
        aws_session_token=_DUMMY,
        config=Config(retries={"max_attempts": 2, "mode": "standard"}, max_pool_connections=32),
    )
