"""What the emulator's CloudFormation skips, applied with SDK calls read from the same template.

moto 5.2.5 creates the types in NATIVE itself (measured; see infra/README.md) but ignores a few of
their properties (PROPERTY_FIXES); it silently skips every other type. The types in RECONCILED are
created here; any other type fails the deploy by name instead of being skipped. What is done for
each type lives in its own module under rocket_infra.resources.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from rocket_infra import aws, naming, stacks, templates
from rocket_infra.resources import TYPES, base
from rocket_infra.resources.base import Context, PropertyFix, Reconciler, Remover
from rocket_infra.templates import Resolver, TemplateError

logger = logging.getLogger(__name__)

# moved to rocket_infra.resources.base with the per-type modules; reconcile.<name> for callers
coerce = base.coerce
call = base.call

# Types moto 5.2.5's CloudFormation creates itself.
NATIVE: frozenset[str] = frozenset(
    {
        "AWS::DynamoDB::Table",
        "AWS::Events::EventBus",
        "AWS::Events::Rule",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::Policy",
        "AWS::IAM::Role",
        "AWS::KMS::Alias",
        "AWS::KMS::Key",
        "AWS::Kinesis::Stream",
        "AWS::Lambda::EventSourceMapping",
        "AWS::Lambda::Function",
        "AWS::Lambda::LayerVersion",
        "AWS::Lambda::Permission",
        "AWS::Lambda::Version",
        "AWS::Logs::LogGroup",
        "AWS::S3::Bucket",
        "AWS::SNS::Topic",
        "AWS::SQS::Queue",
        "AWS::SSM::Parameter",
        "AWS::StepFunctions::StateMachine",
    }
)


class UnsupportedResourceError(ValueError):
    """A resource type the local platform can neither deploy nor reconcile."""


RECONCILED: dict[str, Reconciler] = {
    name: kind.create for name, kind in TYPES.items() if kind.create is not None
}
REMOVERS: dict[str, Remover] = {
    name: kind.remove for name, kind in TYPES.items() if kind.remove is not None
}
# type -> (the fix, the only properties it reads: the rest of the resource is moto's business
# and is not resolved here)
PROPERTY_FIXES: dict[str, tuple[PropertyFix, tuple[str, ...]]] = {
    name: (kind.fix, kind.fix_keys) for name, kind in TYPES.items() if kind.fix is not None
}


# --- attributes (Fn::GetAtt) of deployed resources ------------------------------------------

# Types whose Arn attribute is their ARN format filled with the physical id (a queue's name).
_ARNS_FROM_NAMES = (
    "AWS::SQS::Queue",
    "AWS::S3::Bucket",
    "AWS::Lambda::Function",
    "AWS::Kinesis::Stream",
    "AWS::DynamoDB::Table",
    "AWS::KMS::Key",
    "AWS::Logs::LogGroup",
    "AWS::Events::Rule",
    "AWS::CloudWatch::Alarm",
    "AWS::Scheduler::Schedule",
)


def _attribute(ctx: Context, logical_id: str, attribute: str) -> Any:
    kind = ctx.resources[logical_id]["Type"]
    physical = ctx.physical_ids.get(logical_id)
    if physical is None:
        raise TemplateError(f"{logical_id} ({kind}) is not deployed yet")
    region = ctx.region
    name = physical.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    # the name each type's ARN is made of: a queue's URL ends in it, a log group's path is it
    arn_of = {"AWS::SQS::Queue": name}.get(kind, physical)
    simple: dict[tuple[str, str], str] = {
        ("AWS::SQS::Queue", "QueueName"): name,
        ("AWS::SQS::Queue", "QueueUrl"): physical,
        ("AWS::SNS::Topic", "TopicArn"): physical,
        ("AWS::SNS::Topic", "TopicName"): name,
        ("AWS::S3::Bucket", "DomainName"): f"{physical}.s3.amazonaws.com",
        ("AWS::S3::Bucket", "RegionalDomainName"): f"{physical}.s3.{region}.amazonaws.com",
        ("AWS::KMS::Key", "KeyId"): physical,
        ("AWS::StepFunctions::StateMachine", "Arn"): physical,
        ("AWS::StepFunctions::StateMachine", "Name"): name,
        ("AWS::SNS::Subscription", "Arn"): physical,
    }
    for arn_type in _ARNS_FROM_NAMES:
        simple[(arn_type, "Arn")] = naming.arn(arn_type, arn_of, region)
    if (kind, attribute) in simple:
        return simple[(kind, attribute)]
    if kind == "AWS::DynamoDB::Table" and attribute == "StreamArn":
        return ctx.client("dynamodb").describe_table(TableName=physical)["Table"]["LatestStreamArn"]
    if kind == "AWS::IAM::Role" and attribute in ("Arn", "RoleId"):
        return ctx.client("iam").get_role(RoleName=physical)["Role"][attribute]
    raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute} ({kind}) is not supported locally")


# --- the entry points ----------------------------------------------------------------------


def check_supported(template: Mapping[str, Any], name: str) -> None:
    """Fail, naming each one, on resource types that would be silently skipped."""
    supported = NATIVE | RECONCILED.keys()
    unsupported = [
        f"{logical_id} ({resource.get('Type')})"
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") not in supported
    ]
    if unsupported:
        raise UnsupportedResourceError(
            f"{name}: resource types the local platform can neither deploy nor reconcile: "
            + ", ".join(unsupported)
        )


def reconcile(
    template: Mapping[str, Any],
    *,
    stack: str,
    parameters: Mapping[str, str],
    endpoint_url: str | None,
    region: str,
) -> dict[str, str]:
    """Create the skipped resources and apply the ignored properties of `template` to the
    deployed `stack`; returns every resource's physical id."""
    resources: Mapping[str, Any] = template.get("Resources", {})
    cfn = aws.client("cloudformation", endpoint_url=endpoint_url, region=region)
    ctx = Context(
        stack=stack,
        region=region,
        endpoint_url=endpoint_url,
        resources=resources,
        physical_ids=stacks.physical_ids(cfn, stack),
    )
    ctx.resolver = Resolver(
        template,
        templates.parameter_values(template, parameters),
        physical_ids=ctx.physical_ids,
        exports=stacks.exports(cfn),
        get_att=lambda logical_id, attribute: _attribute(ctx, logical_id, attribute),
        stack_name=stack,
        region=region,
    )
    enabled = [lid for lid in resources if ctx.resolver.resource_enabled(lid)]
    _create_reconciled(ctx, [lid for lid in enabled if resources[lid]["Type"] in RECONCILED])
    _remove_left_behind(ctx, _recorded(ctx))
    for logical_id in enabled:
        entry = PROPERTY_FIXES.get(resources[logical_id]["Type"])
        if entry is not None and logical_id in ctx.physical_ids:
            fix, keys = entry
            fix(ctx, logical_id, _properties(ctx, logical_id, keys))
    stacks.save_local_outputs(cfn, ctx.client("ssm"), stack, _outputs(ctx, template))
    return dict(ctx.physical_ids)


# --- reconciled resources that left the template --------------------------------------------
#
# moto's CloudFormation does not know the reconciled resources, so an update cannot delete
# them: each deploy records what it reconciled (one SSM parameter per resource, next to the
# stack) and the next deploy removes what is no longer in the template, or was renamed.

_REMOVAL_KEYS = ("GroupName", "DatabaseName", "Queues", "Queue", "Topics", "Bucket")


def _record_path(stack: str) -> str:
    return f"/rocket/local-reconciled/{stack}/"


def _recorded(ctx: Context) -> dict[str, dict[str, Any]]:
    ssm = ctx.client("ssm")
    found: dict[str, dict[str, Any]] = {}
    paginator = ssm.get_paginator("get_parameters_by_path")
    folder = _record_path(ctx.stack)
    for page in paginator.paginate(Path=folder.rstrip("/"), Recursive=True):
        for parameter in page.get("Parameters", []):
            parent, _, logical_id = parameter["Name"].rpartition("/")
            if parent + "/" == folder:  # not a stack whose name only starts the same
                found[logical_id] = json.loads(parameter["Value"])
    return found


def _remove_left_behind(ctx: Context, previous: Mapping[str, dict[str, Any]]) -> None:
    ssm = ctx.client("ssm")
    for logical_id, record in previous.items():
        current = ctx.reconciled.get(logical_id)
        if current is not None and current["id"] == record["id"]:
            continue
        remover = REMOVERS.get(record["type"])
        if remover is not None:
            try:
                remover(ctx, record)
            except ClientError as exc:
                if not _is_not_found(exc):
                    raise stacks.DeployError(
                        f"{ctx.stack}: removing {logical_id} ({record['type']}) failed: {exc}"
                    ) from exc
            logger.info(
                "reconciled resource removed",
                extra={"stack": ctx.stack, "logical_id": logical_id, "type": record["type"]},
            )
        if current is None:
            ssm.delete_parameter(Name=_record_path(ctx.stack) + logical_id)
    for logical_id, record in ctx.reconciled.items():
        if previous.get(logical_id) != record:
            ssm.put_parameter(
                Name=_record_path(ctx.stack) + logical_id,
                Value=json.dumps(record),
                Type="String",
                Overwrite=True,
            )


def _is_not_found(exc: ClientError) -> bool:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return any(word in code for word in ("NotFound", "NonExistent", "DoesNotExist", "NoSuch"))


def _properties(ctx: Context, logical_id: str, keys: tuple[str, ...] = ()) -> dict[str, Any]:
    """The resource's properties resolved (only `keys` when given)."""
    properties = ctx.resources[logical_id].get("Properties", {})
    if keys:
        properties = {k: v for k, v in properties.items() if k in keys}
    resolved: dict[str, Any] = ctx.resolver.resolve(properties)
    return resolved


def _create_reconciled(ctx: Context, pending: list[str]) -> None:
    """Create in dependency order: a resource whose Ref/GetAtt is not known yet waits a pass."""
    while pending:
        waiting: list[str] = []
        errors: dict[str, str] = {}
        for logical_id in pending:
            kind = ctx.resources[logical_id]["Type"]
            try:
                props = _properties(ctx, logical_id)
            except TemplateError as exc:
                waiting.append(logical_id)
                errors[logical_id] = str(exc)
                continue
            try:
                ctx.physical_ids[logical_id] = RECONCILED[kind](ctx, logical_id, props)
                ctx.reconciled[logical_id] = {
                    "type": kind,
                    "id": ctx.physical_ids[logical_id],
                    **{k: props[k] for k in _REMOVAL_KEYS if k in props},
                }
            except ClientError as exc:
                raise stacks.DeployError(
                    f"{ctx.stack}: reconciling {logical_id} ({kind}) failed: {exc}"
                ) from exc
            logger.info(
                "resource reconciled",
                extra={"stack": ctx.stack, "logical_id": logical_id, "type": kind},
            )
        if len(waiting) == len(pending):
            detail = "; ".join(f"{lid}: {err}" for lid, err in errors.items())
            raise stacks.DeployError(f"{ctx.stack}: cannot reconcile {detail}")
        pending = waiting


def _outputs(ctx: Context, template: Mapping[str, Any]) -> dict[str, str]:
    """The template's outputs resolved here (moto drops those that refer to skipped types)."""
    outputs: dict[str, str] = {}
    for key, spec in template.get("Outputs", {}).items():
        if "Condition" in spec and not ctx.resolver.condition(spec["Condition"]):
            continue
        try:
            value = ctx.resolver.resolve(spec["Value"])
        except TemplateError:
            continue
        outputs[key] = ",".join(value) if isinstance(value, list) else str(value)
    return outputs
