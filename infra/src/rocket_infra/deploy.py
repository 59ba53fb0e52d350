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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import ClientError

from rocket_infra import aws, glue_assets, naming, project, reconcile, stacks, templates
from rocket_infra import parameters as stack_parameters
from rocket_infra.policy import template_rules
from rocket_infra.project import Service

# Stack lookups live in rocket_infra.stacks (reconcile needs them, and deploy needs reconcile);
# `deploy.<name>` stays where callers have always found them.
DeployError = stacks.DeployError
artifact_bucket = stacks.artifact_bucket
exports = stacks.exports
physical_ids = stacks.physical_ids
report_failures = stacks.report_failures
resources_of_type = stacks.resources_of_type
stack_outputs = stacks.stack_outputs
stack_status = stacks.stack_status
wait_stack = stacks.wait_stack

logger = logging.getLogger(__name__)

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
_TERMINAL_OK = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}


@dataclass(frozen=True)
class Deployed:
    """A deployed stack: its name, outputs and every resource's physical id."""

    stack: str
    outputs: dict[str, str]
    physical_ids: dict[str, str]


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
    out = out or sys.stderr
    root = repo_root or project.repo_root()
    template_text = service.template.read_text()
    template = templates.loads(template_text, str(service.template))
    on_emulator = endpoint_url is not None
    stack_parameters.check(template, overrides or {}, str(service.template))
    too_long = template_rules.bucket_length_problems(template, stage, region)
    if too_long:
        raise DeployError("; ".join(too_long))
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
    bucket = exports(cfn).get(naming.export_name(stage, naming.ARTIFACT_BUCKET_NAME))
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
        wait_stack(cfn, name, poll)
        return None
    if status is not None and status.endswith("_IN_PROGRESS"):
        raise DeployError(f"{name}: {status}, another deploy is running")
    return status


def _finish(cfn: Any, name: str, out: TextIO, poll: float) -> None:
    final = wait_stack(cfn, name, poll)
    if final not in _TERMINAL_OK:
        report_failures(cfn, name, out)
        raise DeployError(f"{name}: ended in {final}")
    print(f"{name}: {final}", file=out)


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
