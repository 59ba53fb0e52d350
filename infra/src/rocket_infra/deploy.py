"""Deploy one stack, to AWS or to the emulator, through change sets; then (emulator only)
reconcile what the emulator's CloudFormation skips."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import sys
import time
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import ClientError

from rocket_infra import aws, glue_assets, project, templates
from rocket_infra import parameters as stack_parameters
from rocket_infra.project import Service

logger = logging.getLogger(__name__)

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
_FAILED = ("FAILED", "ROLLBACK")
_TERMINAL_OK = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}


@dataclass(frozen=True)
class Deployed:
    """A deployed stack: its name, outputs and every resource's physical id."""

    stack: str
    outputs: dict[str, str]
    physical_ids: dict[str, str]


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
    overrides: Mapping[str, str] | None = None,
) -> Deployed:
    """Package (service stacks), deploy through a change set, wait; on the emulator, reconcile.
    `overrides`: values for parameters the template declares (ParameterError on any other)."""
    from rocket_infra import reconcile

    out = out or sys.stderr
    root = repo_root or project.repo_root()
    template_text = service.template.read_text()
    template = templates.loads(template_text, str(service.template))
    on_emulator = endpoint_url is not None
    stack_parameters.check(template, overrides or {}, str(service.template))
    if on_emulator:
        reconcile.check_supported(template, str(service.template))
    cfn = aws.client("cloudformation", endpoint_url=endpoint_url, region=region)
    parameters = {"Stage": stage}
    declared = template.get("Parameters", {})
    if "CodeKey" in declared:
        parameters["CodeKey"] = _package_and_upload(
            service, stage, endpoint_url, region, root, package, cfn
        )
    scripts = glue_scripts(service)
    if scripts:  # before the stack, so a job never points at a script that is not there yet
        upload_glue_scripts(
            aws.client("s3", endpoint_url=endpoint_url, region=region),
            artifact_bucket(cfn, stage),
            scripts,
        )
    s3 = aws.client("s3", endpoint_url=endpoint_url, region=region)
    glue_assets.publish(  # the wheels (and scripts) the Glue jobs load, also before the stack
        service, template, root=root, stage=stage, parameters=overrides or {}, cfn=cfn, s3=s3
    )
    parameters = {k: v for k, v in parameters.items() if k in declared} | dict(overrides or {})
    name = project.stack_name(stage, service.name)
    start = time.monotonic()
    if on_emulator:
        apply_direct(cfn, name, {"TemplateBody": template_text}, parameters, out)
    else:
        source = _template_source(cfn, stage, region, name, template_text)
        apply_change_set(cfn, name, source, parameters, out)
    ssm = None
    ids = physical_ids(cfn, name)
    if on_emulator:
        ids = reconcile.reconcile(
            template,
            stack=name,
            parameters=parameters,
            endpoint_url=endpoint_url,
            region=region,
        )
        ssm = aws.client("ssm", endpoint_url=endpoint_url, region=region)
    logger.info(
        "stack deployed",
        extra={"stack": name, "seconds": round(time.monotonic() - start, 2)},
    )
    return Deployed(name, stack_outputs(cfn, name, ssm), ids)


TEMPLATE_BODY_LIMIT = 51_200


def _template_source(
    cfn: Any, stage: str, region: str, name: str, template_text: str
) -> dict[str, str]:
    """TemplateBody, or above CloudFormation's 51,200-byte body limit a TemplateURL in the
    artifact bucket."""
    if len(template_text.encode()) <= TEMPLATE_BODY_LIMIT:
        return {"TemplateBody": template_text}
    bucket = exports(cfn).get(f"rocket-{stage}-ArtifactBucketName")
    if bucket is None:
        raise DeployError(f"{name}: template above 51,200 bytes needs the platform's bucket")
    key = f"templates/{name}/{hashlib.sha256(template_text.encode()).hexdigest()[:16]}.yaml"
    aws.client("s3", region=region).put_object(Bucket=bucket, Key=key, Body=template_text.encode())
    return {"TemplateURL": f"https://{bucket}.s3.{region}.amazonaws.com/{key}"}


def glue_scripts(service: Service) -> dict[str, Path]:
    """S3 key -> file of the service's Glue scripts: `services/<svc>/glue/**.py` go to
    `<svc>/glue/...` in the artifact bucket, where the templates' ScriptLocation points."""
    folder = service.root / "glue"
    if service.is_platform or not folder.is_dir():
        return {}
    return {
        f"{service.name}/glue/{path.relative_to(folder).as_posix()}": path
        for path in sorted(folder.rglob("*.py"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def upload_glue_scripts(s3: Any, bucket: str, scripts: dict[str, Path]) -> None:
    for key, path in scripts.items():
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
        logger.info("glue script uploaded", extra={"bucket": bucket, "key": key})


def artifact_bucket(cfn: Any, stage: str) -> str:
    """The platform stack's artifact bucket (Lambda zips, Glue scripts, large templates)."""
    bucket_export = f"rocket-{stage}-ArtifactBucketName"
    bucket = exports(cfn).get(bucket_export)
    if bucket is None:
        raise DeployError(f"export {bucket_export} missing: deploy the platform stack first")
    return bucket


def _package_and_upload(
    service: Service,
    stage: str,
    endpoint_url: str | None,
    region: str,
    root: Path,
    package: Path | None,
    cfn: Any,
) -> str:
    bucket = artifact_bucket(cfn, stage)
    s3 = aws.client("s3", endpoint_url=endpoint_url, region=region)
    if endpoint_url is not None:
        return upload_package(
            s3, bucket, service, source_zip(service, root), f"{service.name}/local.zip"
        )
    if package is None:
        from rocket_infra import build

        package = build.build(service, root)
    return upload_package(s3, bucket, service, package.read_bytes(), None)


def apply_change_set(
    cfn: Any,
    name: str,
    template: dict[str, str],
    parameters: dict[str, str],
    out: TextIO,
    poll: float = 5.0,
) -> None:
    """Create or update `name` through a change set and wait; raise DeployError with the failed
    events when it does not complete. `template`: TemplateBody or TemplateURL."""
    status = _recover_failed_create(cfn, name, poll)
    change_type = "CREATE" if status is None else "UPDATE"
    change_set = f"rocket-{uuid.uuid4().hex[:12]}"
    cfn.create_change_set(
        StackName=name,
        ChangeSetName=change_set,
        ChangeSetType=change_type,
        Parameters=_parameter_list(parameters),
        Capabilities=CAPABILITIES,
        **template,
    )
    if not _change_set_ready(cfn, name, change_set, poll):
        print(f"{name}: no changes", file=out)
        return
    cfn.execute_change_set(StackName=name, ChangeSetName=change_set)
    _finish(cfn, name, out, poll)


def apply_direct(
    cfn: Any, name: str, template: dict[str, str], parameters: dict[str, str], out: TextIO
) -> None:
    """The emulator's path: CreateStack/UpdateStack. moto 5.2.5's ExecuteChangeSet registers no
    exports (so no service stack could import the platform's) and leaves replaced resources
    behind on updates, while its CreateStack/UpdateStack do both right."""
    status = _recover_failed_create(cfn, name, poll=0.1)
    arguments = {
        "StackName": name,
        "Parameters": _parameter_list(parameters),
        "Capabilities": CAPABILITIES,
        **template,
    }
    try:
        if status is None:
            cfn.create_stack(**arguments)
        else:
            cfn.update_stack(**arguments)
    except ClientError as exc:  # the emulator creates synchronously and fails in this call
        if "No updates are to be performed" in str(exc):
            print(f"{name}: no changes", file=out)
            return
        report_failures(cfn, name, out)
        raise DeployError(
            f"{name}: {'create' if status is None else 'update'} failed: {exc}"
        ) from exc
    _finish(cfn, name, out, poll=0.1)


def _parameter_list(parameters: dict[str, str]) -> list[dict[str, str]]:
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]


def _recover_failed_create(cfn: Any, name: str, poll: float) -> str | None:
    """A stack whose first create rolled back cannot be updated: delete it and start over."""
    status = stack_status(cfn, name)
    if status == "ROLLBACK_COMPLETE":
        cfn.delete_stack(StackName=name)
        _wait_stack(cfn, name, poll)
        return None
    if status is not None and status.endswith("_IN_PROGRESS"):
        raise DeployError(f"{name}: {status}, another deploy is running")
    return status


def _finish(cfn: Any, name: str, out: TextIO, poll: float) -> None:
    final = _wait_stack(cfn, name, poll)
    if final not in _TERMINAL_OK:
        report_failures(cfn, name, out)
        raise DeployError(f"{name}: ended in {final}")
    print(f"{name}: {final}", file=out)


def _wait_stack(cfn: Any, name: str, poll: float, timeout: float = 3600.0) -> str | None:
    """Poll until the stack leaves every *_IN_PROGRESS status; its final status."""
    deadline = time.monotonic() + timeout
    while True:
        status = stack_status(cfn, name)
        if status is None or not status.endswith("_IN_PROGRESS"):
            return status
        if time.monotonic() > deadline:
            raise DeployError(f"{name}: still {status} after {timeout:.0f} s")
        time.sleep(poll)


def _change_set_ready(cfn: Any, name: str, change_set: str, poll: float) -> bool:
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
        time.sleep(poll)
    raise DeployError(f"{name}: change set {change_set} not ready after 600 s")


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
