"""boto3 clients for AWS or for the emulator (dummy credentials when an endpoint is given)."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

DEFAULT_REGION = "us-east-1"
_DUMMY = "testing"
# Creating clients is not thread-safe in boto3 (using them is): scenarios and tests create them
# from worker threads, so creation is serialized on one session (which caches the API models).
_CREATE = threading.Lock()
_SESSION: boto3.session.Session | None = None


def client(
    service_name: str,
    *,
    endpoint_url: str | None = None,
    region: str = DEFAULT_REGION,
    config: Config | None = None,
) -> Any:
    """A boto3 client; with `endpoint_url`, dummy credentials (no AWS account is read)."""
    global _SESSION
    with _CREATE:
        session = _SESSION = _SESSION or boto3.session.Session()
        if endpoint_url is None:
            return session.client(  # type: ignore[call-overload]
                service_name, region_name=region, config=config
            )
        return session.client(  # type: ignore[call-overload]
            service_name,
            region_name=region,
            endpoint_url=endpoint_url,
            aws_access_key_id=_DUMMY,
            aws_secret_access_key=_DUMMY,
            aws_session_token=_DUMMY,
            config=Config(retries={"max_attempts": 2, "mode": "standard"}, max_pool_connections=32),
        )


def synchronous_invoker(function_arn: str, *, region: str = DEFAULT_REGION) -> Any:
    """A Lambda client for one synchronous Invoke of `function_arn` that waits as long as the
    function may run (botocore's 60 s read timeout is shorter than some of our functions') and
    is never retried: a retry after a read timeout would run the function again beside the
    first run."""
    probe = client("lambda", region=region)
    timeout = int(probe.get_function_configuration(FunctionName=function_arn)["Timeout"])
    return client(
        "lambda",
        region=region,
        config=Config(read_timeout=timeout + 10, retries={"total_max_attempts": 1}),
    )
