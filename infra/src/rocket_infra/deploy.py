"""Deploy one stack, to AWS or to the emulator, through change sets; then (emulator only)
reconcile what the emulator's CloudFormation skips."""

from __future__ import annotations

import hashlib
import io
import logging
import sys
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import ClientError, WaiterError

from rocket_infra import aws, project, templates
from rocket_infra.project import Service

logger = logging.getLogger(__name__)

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
_FAILED = ("FAILED", "ROLLBACK")
_TERMINAL_OK = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}


class DeployError(RuntimeError):
    """A stack that could not be deployed; the message names what failed."""


def exports(cfn: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for page in cfn.get_paginator("list_exports").paginate():
        for export in page.get("Exports", []):
            found[export["Name"]] = export["Value"]
    return found


def stack_outputs(cfn: Any, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def physical_ids(cfn: Any, name: str) -> dict[str, str]:
    """Logical id -> physical id of every resource the stack has (skipped ones have no row)."""
    found: dict[str, str] = {}
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=name):
        for row in page.get("StackResourceSummaries", []):
            if row.get("LogicalResourceId") and row.get("PhysicalResourceId"):
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


def source_zip(service: Service, repo_root: Path) -> bytes:
    """The emulator's Lambda package: the service's own source (the runtime imports the
    workspace's installed packages, so dependencies are not needed here)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        base = service.source_dir.parent
        for path in sorted(service.source_dir.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                info = zipfile.ZipInfo(str(path.relative_to(base)), date_time=(2020, 1, 1, 0, 0, 0))
                archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def upload_package(s3: Any, bucket: str, service: Service, body: bytes, key: str | None) -> str:
    """Upload the Lambda zip; the key is content-addressed unless given."""
    key = key or f"{service.name}/{hashlib.sha256(body).hexdigest()[:16]}.zip"
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return key


def deploy(
    service: Service,
    *,
    stage: str,
    endpoint_url: str | None = None,
    region: str = aws.DEFAULT_REGION,
    repo_root: Path | None = None,
    package: Path | None = None,
    out: TextIO | None = None,
) -> dict[str, str]:
    """Package (service stacks), deploy through a change set, wait, and on the emulator reconcile.
    Returns the stack's outputs."""
    from rocket_infra import reconcile  # noqa: PLC0415 - reconcile imports this module

    out = out or sys.stderr
    root = repo_root or project.repo_root()
    template_text = service.template.read_text()
    template = templates.loads(template_text, str(service.template))
    on_emulator = endpoint_url is not None
    if on_emulator:
        reconcile.check_supported(template, str(service.template))
    cfn = aws.client("cloudformation", endpoint_url=endpoint_url, region=region)
    parameters = {"Stage": stage}
    declared = template.get("Parameters", {})
    if "CodeKey" in declared:
        parameters["CodeKey"] = _package_and_upload(
            service, stage, endpoint_url, region, root, package, cfn
        )
    parameters = {k: v for k, v in parameters.items() if k in declared}
    name = project.stack_name(stage, service.name)
    start = time.monotonic()
    apply_change_set(cfn, name, template_text, parameters, out)
    if on_emulator:
        reconcile.reconcile(
            template,
            stack=name,
            parameters=parameters,
            endpoint_url=endpoint_url,
            region=region,
        )
    logger.info(
        "stack deployed",
        extra={"stack": name, "seconds": round(time.monotonic() - start, 2)},
    )
    return stack_outputs(cfn, name)


def _package_and_upload(
    service: Service,
    stage: str,
    endpoint_url: str | None,
    region: str,
    root: Path,
    package: Path | None,
    cfn: Any,
) -> str:
    bucket_export = f"rocket-{stage}-ArtifactBucketName"
    bucket = exports(cfn).get(bucket_export)
    if bucket is None:
        raise DeployError(f"export {bucket_export} missing: deploy the platform stack first")
    s3 = aws.client("s3", endpoint_url=endpoint_url, region=region)
    if endpoint_url is not None:
        return upload_package(
            s3, bucket, service, source_zip(service, root), f"{service.name}/local.zip"
        )
    if package is None:
        from rocket_infra import build  # noqa: PLC0415 - only AWS deploys build

        package = build.build(service, root)
    return upload_package(s3, bucket, service, package.read_bytes(), None)


def apply_change_set(
    cfn: Any, name: str, template_body: str, parameters: dict[str, str], out: TextIO
) -> None:
    """Create or update `name` through a change set and wait; raise DeployError with the failed
    events when it does not complete."""
    status = stack_status(cfn, name)
    if status == "ROLLBACK_COMPLETE":
        cfn.delete_stack(StackName=name)
        _wait(cfn, "stack_delete_complete", name)
        status = None
    change_type = "CREATE" if status is None else "UPDATE"
    change_set = f"rocket-{uuid.uuid4().hex[:12]}"
    cfn.create_change_set(
        StackName=name,
        ChangeSetName=change_set,
        ChangeSetType=change_type,
        TemplateBody=template_body,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=CAPABILITIES,
    )
    if not _change_set_ready(cfn, name, change_set):
        print(f"{name}: no changes", file=out)
        return
    cfn.execute_change_set(StackName=name, ChangeSetName=change_set)
    waiter = "stack_create_complete" if change_type == "CREATE" else "stack_update_complete"
    try:
        _wait(cfn, waiter, name)
    except DeployError:
        report_failures(cfn, name, out)
        raise
    final = stack_status(cfn, name)
    if final not in _TERMINAL_OK:
        report_failures(cfn, name, out)
        raise DeployError(f"{name}: ended in {final}")
    print(f"{name}: {final}", file=out)


def _change_set_ready(cfn: Any, name: str, change_set: str) -> bool:
    """Wait for the change set; False when it has nothing to change."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        described = cfn.describe_change_set(StackName=name, ChangeSetName=change_set)
        status = described.get("Status", "")
        if status == "CREATE_COMPLETE":
            return True
        if status == "FAILED":
            reason = described.get("StatusReason", "")
            if "didn't contain changes" in reason or "No updates" in reason:
                cfn.delete_change_set(StackName=name, ChangeSetName=change_set)
                return False
            raise DeployError(f"{name}: change set failed: {reason}")
        time.sleep(0.5)
    raise DeployError(f"{name}: change set {change_set} not ready after 600 s")


def _wait(cfn: Any, waiter: str, name: str) -> None:
    try:
        cfn.get_waiter(waiter).wait(StackName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 900})
    except WaiterError as exc:
        raise DeployError(f"{name}: {waiter} failed: {exc}") from exc


def report_failures(cfn: Any, name: str, out: TextIO) -> list[str]:
    """Print (and return) the stack's failed resource events, newest first."""
    lines: list[str] = []
    try:
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    except ClientError:
        return lines
    for event in events:
        if any(word in event.get("ResourceStatus", "") for word in _FAILED):
            lines.append(
                f"{event.get('LogicalResourceId')} {event.get('ResourceType')} "
                f"{event.get('ResourceStatus')}: {event.get('ResourceStatusReason', '')}"
            )
    for line in lines:
        print(f"  {line}", file=out)
    return lines
