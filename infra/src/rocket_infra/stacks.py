"""What a deployed stack is, read back from CloudFormation: exports, outputs, physical ids,
status, waits and failed events. Deploying (`deploy`) and reconciling (`reconcile`) both use
these; neither needs the other."""

from __future__ import annotations

import json
import time
from typing import Any, TextIO

from botocore.exceptions import ClientError

from rocket_infra import naming

_FAILED = ("FAILED", "ROLLBACK")


class DeployError(RuntimeError):
    """A stack that could not be deployed; the message names what failed."""


def exports(cfn: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for page in cfn.get_paginator("list_exports").paginate():
        for export in page.get("Exports", []):
            found[export["Name"]] = export["Value"]
    return found


def _local_outputs_parameter(stack: str) -> str:
    return f"/rocket/local-outputs/{stack}"


def stack_outputs(cfn: Any, name: str, ssm: Any | None = None) -> dict[str, str]:
    """The stack's outputs; with `ssm` (emulator only) plus those the emulator dropped."""
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    if ssm is None:
        return outputs
    try:
        saved = ssm.get_parameter(Name=_local_outputs_parameter(name))["Parameter"]["Value"]
    except ClientError:
        return outputs
    return {**json.loads(saved), **outputs}


def save_local_outputs(cfn: Any, ssm: Any, stack: str, resolved: dict[str, str]) -> None:
    """Keep the outputs the emulator dropped (they refer to types it skipped) next to the stack."""
    deployed = stack_outputs(cfn, stack)
    missing = {k: v for k, v in resolved.items() if k not in deployed}
    ssm.put_parameter(
        Name=_local_outputs_parameter(stack),
        Value=json.dumps(missing),
        Type="String",
        Overwrite=True,
    )


def artifact_bucket(cfn: Any, stage: str) -> str:
    """The platform stack's artifact bucket (Lambda zips, Glue scripts, large templates)."""
    bucket_export = naming.export_name(stage, naming.ARTIFACT_BUCKET_NAME)
    bucket = exports(cfn).get(bucket_export)
    if bucket is None:
        raise DeployError(f"export {bucket_export} missing: deploy the platform stack first")
    return bucket


def physical_ids(cfn: Any, name: str) -> dict[str, str]:
    """Logical id -> physical id of every resource the stack has (skipped ones have no row)."""
    found: dict[str, str] = {}
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=name):
        for row in page.get("StackResourceSummaries", []):
            if row.get("LogicalResourceId") and row.get("PhysicalResourceId"):
                found[row["LogicalResourceId"]] = row["PhysicalResourceId"]
    return found


def resources_of_type(cfn: Any, name: str, resource_type: str) -> dict[str, str]:
    """Logical id -> physical id of the stack's resources of one type."""
    found: dict[str, str] = {}
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=name):
        for row in page.get("StackResourceSummaries", []):
            if row.get("ResourceType") == resource_type and row.get("PhysicalResourceId"):
                found[row["LogicalResourceId"]] = row["PhysicalResourceId"]
    return found


def stack_status(cfn: Any, name: str) -> str | None:
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    status: str | None = stacks[0]["StackStatus"] if stacks else None
    return None if status == "DELETE_COMPLETE" else status


def wait_stack(cfn: Any, name: str, poll: float, timeout: float = 3600.0) -> str | None:
    """Poll until the stack leaves every *_IN_PROGRESS status; its final status."""
    deadline = time.monotonic() + timeout
    while True:
        status = stack_status(cfn, name)
        if status is None or not status.endswith("_IN_PROGRESS"):
            return status
        if time.monotonic() > deadline:
            raise DeployError(f"{name}: still {status} after {timeout:.0f} s")
        time.sleep(poll)


def report_failures(cfn: Any, name: str, out: TextIO) -> list[str]:
    """Print (and return) the failed resource events of the latest deployment, newest first."""
    lines: list[str] = []
    try:
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    except ClientError:
        return lines
    for event in events:
        status = event.get("ResourceStatus", "")
        if any(word in status for word in _FAILED) and event.get("ResourceStatusReason"):
            lines.append(
                f"{event.get('LogicalResourceId')} ({event.get('ResourceType')}) "
                f"{status}: {event.get('ResourceStatusReason')}"
            )
        if (
            event.get("ResourceType") == "AWS::CloudFormation::Stack"
            and event.get("ResourceStatusReason") == "User Initiated"
        ):
            break  # where this deployment started
    for line in lines:
        print(f"  {line}", file=out)
    return lines
