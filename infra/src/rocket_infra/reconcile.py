"""What the emulator's CloudFormation skips, applied with SDK calls read from the same template.

moto 5.2.5 creates the types in NATIVE itself (measured; see infra/README.md) but ignores a few of
their properties (PROPERTY_FIXES); it silently skips every other type. The types in RECONCILED are
created here; any other type fails the deploy by name instead of being skipped.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from rocket_infra import aws, naming, stacks, templates
from rocket_infra.templates import Resolver, TemplateError

logger = logging.getLogger(__name__)

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


@dataclass
class Context:
    """One stack being reconciled: its resolver, the physical ids known so far, the clients."""

    stack: str
    region: str
    endpoint_url: str | None
    resources: Mapping[str, Any]
    physical_ids: dict[str, str]
    resolver: Resolver = field(init=False)
    # logical id -> what a later removal needs: type, physical id and a few properties
    reconciled: dict[str, dict[str, Any]] = field(default_factory=dict)
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, name: str) -> Any:
        if name not in self._clients:
            self._clients[name] = aws.client(
                name, endpoint_url=self.endpoint_url, region=self.region
            )
        return self._clients[name]

    def default_name(self, logical_id: str) -> str:
        return naming.default_name(self.stack, logical_id)


Reconciler = Callable[[Context, str, dict[str, Any]], str]


def coerce(shape: Any, value: Any) -> Any:
    """`value` converted to what the API's input shape wants: template values are often strings
    (a Number parameter, a !Sub) where the API takes an integer or a boolean."""
    kind = getattr(shape, "type_name", None)
    if kind == "structure" and isinstance(value, dict):
        members = shape.members
        return {k: coerce(members[k], v) if k in members else v for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [coerce(shape.member, v) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: coerce(shape.value, v) for k, v in value.items()}
    if kind in ("integer", "long") and isinstance(value, str):
        return int(value)
    if kind in ("float", "double") and isinstance(value, str | int):
        return float(value)
    if kind == "boolean" and isinstance(value, str):
        return value.lower() == "true"
    if kind == "string" and isinstance(value, bool | int | float):
        return str(value).lower() if isinstance(value, bool) else str(value)
    return value


def call(ctx: Context, service: str, operation: str, **params: Any) -> Any:
    """Call `service.operation` with `params` coerced to the operation's input shape."""
    client = ctx.client(service)
    model = client.meta.service_model.operation_model(operation)
    return getattr(client, _snake(operation))(**coerce(model.input_shape, params))


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


# --- reconciled types: created here, returning their physical id ---------------------------


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _subscription(ctx: Context, _logical_id: str, props: dict[str, Any]) -> str:
    sns = ctx.client("sns")
    attributes = {
        "RawMessageDelivery": str(props.get("RawMessageDelivery", False)).lower(),
    }
    for key in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy"):
        if key in props:
            attributes[key] = _json(props[key])
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


def _local_policy(document: Any) -> str | None:
    """The policy without its TLS-only statements: the emulator serves plain HTTP on 127.0.0.1
    and moto enforces bucket policies, so `aws:SecureTransport: false` would deny every call."""
    if isinstance(document, str):
        document = json.loads(document)
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept = [
        s for s in statements if "aws:SecureTransport" not in json.dumps(s.get("Condition", {}))
    ]
    return json.dumps({**document, "Statement": kept}) if kept else None


def _queue_policy(ctx: Context, logical_id: str, props: dict[str, Any]) -> str:
    policy = _local_policy(props["PolicyDocument"])
    for url in props["Queues"] if policy else []:
        ctx.client("sqs").set_queue_attributes(
            QueueUrl=_local_queue_url(ctx, url), Attributes={"Policy": policy}
        )
    return ctx.default_name(logical_id)


def _queue_inline_policy(ctx: Context, logical_id: str, props: dict[str, Any]) -> str:
    return _queue_policy(ctx, logical_id, {**props, "Queues": [props["Queue"]]})


def _local_queue_url(ctx: Context, url: str) -> str:
    return str(
        ctx.client("sqs").get_queue_url(QueueName=url.rstrip("/").rsplit("/", 1)[-1])["QueueUrl"]
    )


def _topic_policy(ctx: Context, logical_id: str, props: dict[str, Any]) -> str:
    policy = _local_policy(props["PolicyDocument"])
    for arn in props["Topics"] if policy else []:
        ctx.client("sns").set_topic_attributes(
            TopicArn=arn, AttributeName="Policy", AttributeValue=policy
        )
    return ctx.default_name(logical_id)


def _bucket_policy(ctx: Context, _logical_id: str, props: dict[str, Any]) -> str:
    policy = _local_policy(props["PolicyDocument"])
    if policy:
        ctx.client("s3").put_bucket_policy(Bucket=props["Bucket"], Policy=policy)
    return str(props["Bucket"])


def _glue_database(ctx: Context, logical_id: str, props: dict[str, Any]) -> str:
    glue = ctx.client("glue")
    database = dict(props["DatabaseInput"])
    database.setdefault("Name", ctx.default_name(logical_id).lower())
    try:
        call(ctx, "glue", "CreateDatabase", DatabaseInput=database)
    except glue.exceptions.AlreadyExistsException:
        call(ctx, "glue", "UpdateDatabase", Name=database["Name"], DatabaseInput=database)
    return str(database["Name"])


def _glue_table(ctx: Context, logical_id: str, props: dict[str, Any]) -> str:
    glue = ctx.client("glue")
    table = dict(props["TableInput"])
    table.setdefault("Name", ctx.default_name(logical_id).lower())
    try:
        call(ctx, "glue", "CreateTable", DatabaseName=props["DatabaseName"], TableInput=table)
    except glue.exceptions.AlreadyExistsException:
        call(ctx, "glue", "UpdateTable", DatabaseName=props["DatabaseName"], TableInput=table)
    return str(table["Name"])


_GLUE_JOB_KEYS = (
    "Description",
    "LogUri",
    "Role",
    "ExecutionProperty",
    "Command",
    "DefaultArguments",
    "NonOverridableArguments",
    "Connections",
    "MaxRetries",
    "Timeout",
    "MaxCapacity",
    "SecurityConfiguration",
    "NotificationProperty",
    "GlueVersion",
    "NumberOfWorkers",
    "WorkerType",
    "ExecutionClass",
)


def _glue_job(ctx: Context, logical_id: str, props: dict[str, Any]) -> str:
    glue = ctx.client("glue")
    name = str(props.get("Name") or ctx.default_name(logical_id))
    job = {key: props[key] for key in _GLUE_JOB_KEYS if key in props}
    if "MaxConcurrentRuns" in props:  # a flat property in some templates; the API nests it
        job["ExecutionProperty"] = {"MaxConcurrentRuns": int(props["MaxConcurrentRuns"])}
    # moto 5.2.5 has no UpdateJob: a changed job is created again (this path is emulator-only)
    with contextlib.suppress(glue.exceptions.EntityNotFoundException):
        glue.get_job(JobName=name)
        glue.delete_job(JobName=name)
    call(ctx, "glue", "CreateJob", Name=name, Tags=props.get("Tags", {}), **job)
    return name


_ALARM_KEYS = (
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
)


def _alarm(ctx: Context, logical_id: str, props: dict[str, Any]) -> str:
    name = str(props.get("AlarmName") or ctx.default_name(logical_id))
    alarm = {key: props[key] for key in _ALARM_KEYS if key in props}
    call(ctx, "cloudwatch", "PutMetricAlarm", AlarmName=name, **alarm)
    return name


def _schedule_group(ctx: Context, logical_id: str, props: dict[str, Any]) -> str:
    scheduler = ctx.client("scheduler")
    name = str(props.get("Name") or ctx.default_name(logical_id))
    with contextlib.suppress(scheduler.exceptions.ConflictException):
        scheduler.create_schedule_group(Name=name)
    return name


_SCHEDULE_KEYS = (
    "GroupName",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "Description",
    "State",
    "FlexibleTimeWindow",
    "Target",
    "KmsKeyArn",
)


def _schedule(ctx: Context, logical_id: str, props: dict[str, Any]) -> str:
    scheduler = ctx.client("scheduler")
    name = str(props.get("Name") or ctx.default_name(logical_id))
    schedule = {key: props[key] for key in _SCHEDULE_KEYS if key in props}
    schedule.setdefault("FlexibleTimeWindow", {"Mode": "OFF"})
    try:
        call(ctx, "scheduler", "CreateSchedule", Name=name, **schedule)
    except scheduler.exceptions.ConflictException:
        call(ctx, "scheduler", "UpdateSchedule", Name=name, **schedule)
    return name


RECONCILED: dict[str, Reconciler] = {
    "AWS::SNS::Subscription": _subscription,
    "AWS::SNS::TopicPolicy": _topic_policy,
    "AWS::SQS::QueuePolicy": _queue_policy,
    "AWS::SQS::QueueInlinePolicy": _queue_inline_policy,
    "AWS::S3::BucketPolicy": _bucket_policy,
    "AWS::Glue::Database": _glue_database,
    "AWS::Glue::Table": _glue_table,
    "AWS::Glue::Job": _glue_job,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::Scheduler::ScheduleGroup": _schedule_group,
    "AWS::Scheduler::Schedule": _schedule,
}


# --- properties of native types that moto ignores ------------------------------------------


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
    # No NotificationConfiguration means none, as CloudFormation applies it: one removed from
    # the template is removed from the bucket.
    wanted = _notifications(props.get("NotificationConfiguration", {}))
    current = s3.get_bucket_notification_configuration(Bucket=bucket)
    current.pop("ResponseMetadata", None)
    # a changed configuration makes S3 send an s3:TestEvent: only put what changed
    if _comparable(current) != _comparable(wanted):
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=wanted)


def _fix_table(ctx: Context, logical_id: str, props: dict[str, Any]) -> None:
    spec = props.get("TimeToLiveSpecification")
    if not spec:
        return
    dynamodb = ctx.client("dynamodb")
    table = ctx.physical_ids[logical_id]
    enabled = spec.get("Enabled") in (True, "true")
    status = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    if (status.get("TimeToLiveStatus") == "ENABLED") == enabled:
        return
    dynamodb.update_time_to_live(
        TableName=table,
        TimeToLiveSpecification={"AttributeName": spec["AttributeName"], "Enabled": enabled},
    )


def _fix_state_machine(ctx: Context, logical_id: str, props: dict[str, Any]) -> None:
    definition = props.get("DefinitionString")
    if "Definition" in props:
        definition = json.dumps(props["Definition"])
    for key, value in props.get("DefinitionSubstitutions", {}).items():
        definition = (definition or "").replace("${" + key + "}", str(value))
    stepfunctions = ctx.client("stepfunctions")
    arn = ctx.physical_ids[logical_id]
    try:
        deployed = stepfunctions.describe_state_machine(stateMachineArn=arn)
    except stepfunctions.exceptions.StateMachineDoesNotExist:
        # With execute_state_machine on, moto serves the API from a second backend that its
        # CloudFormation does not write to: the machine must be created through the API.
        stepfunctions.create_state_machine(
            name=arn.rsplit(":", 1)[-1],
            definition=definition or "{}",
            roleArn=props["RoleArn"],
            type=props.get("StateMachineType", "STANDARD"),
        )
        return
    if definition is not None and deployed.get("definition") != definition:
        stepfunctions.update_state_machine(stateMachineArn=arn, definition=definition)


def _fix_function(ctx: Context, logical_id: str, props: dict[str, Any]) -> None:
    # moto resolves a Ref to a skipped resource (a Glue job, a subscription...) to nothing.
    wanted = props.get("Environment", {}).get("Variables", {})
    if not wanted:
        return
    wanted = {key: str(value) for key, value in wanted.items()}
    lambda_ = ctx.client("lambda")
    name = ctx.physical_ids[logical_id]
    deployed = lambda_.get_function_configuration(FunctionName=name).get("Environment", {})
    if deployed.get("Variables", {}) != wanted:
        lambda_.update_function_configuration(FunctionName=name, Environment={"Variables": wanted})


PropertyFix = Callable[[Context, str, dict[str, Any]], None]

# type -> (the fix, the only properties it reads: the rest of the resource is moto's business
# and is not resolved here)
PROPERTY_FIXES: dict[str, tuple[PropertyFix, tuple[str, ...]]] = {
    "AWS::S3::Bucket": (
        _fix_bucket,
        ("VersioningConfiguration", "PublicAccessBlockConfiguration", "NotificationConfiguration"),
    ),
    "AWS::DynamoDB::Table": (_fix_table, ("TimeToLiveSpecification",)),
    "AWS::StepFunctions::StateMachine": (
        _fix_state_machine,
        (
            "Definition",
            "DefinitionString",
            "DefinitionSubstitutions",
            "RoleArn",
            "StateMachineType",
        ),
    ),
    "AWS::Lambda::Function": (_fix_function, ("Environment",)),
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


def _remove_subscription(ctx: Context, record: dict[str, Any]) -> None:
    ctx.client("sns").unsubscribe(SubscriptionArn=record["id"])


def _remove_queue_policy(ctx: Context, record: dict[str, Any]) -> None:
    urls = record.get("Queues") or ([record["Queue"]] if "Queue" in record else [])
    for url in urls:
        ctx.client("sqs").set_queue_attributes(
            QueueUrl=_local_queue_url(ctx, url), Attributes={"Policy": ""}
        )


def _remove_bucket_policy(ctx: Context, record: dict[str, Any]) -> None:
    ctx.client("s3").delete_bucket_policy(Bucket=record["Bucket"])


def _remove_glue_database(ctx: Context, record: dict[str, Any]) -> None:
    ctx.client("glue").delete_database(Name=record["id"])


def _remove_glue_table(ctx: Context, record: dict[str, Any]) -> None:
    ctx.client("glue").delete_table(DatabaseName=record["DatabaseName"], Name=record["id"])


def _remove_glue_job(ctx: Context, record: dict[str, Any]) -> None:
    ctx.client("glue").delete_job(JobName=record["id"])


def _remove_alarm(ctx: Context, record: dict[str, Any]) -> None:
    ctx.client("cloudwatch").delete_alarms(AlarmNames=[record["id"]])


def _remove_schedule_group(ctx: Context, record: dict[str, Any]) -> None:
    ctx.client("scheduler").delete_schedule_group(Name=record["id"])


def _remove_schedule(ctx: Context, record: dict[str, Any]) -> None:
    ctx.client("scheduler").delete_schedule(
        Name=record["id"], GroupName=record.get("GroupName", "default")
    )


Remover = Callable[[Context, dict[str, Any]], None]

# A topic policy left behind is harmless here (moto does not enforce it): not removed.
REMOVERS: dict[str, Remover] = {
    "AWS::SNS::Subscription": _remove_subscription,
    "AWS::SQS::QueuePolicy": _remove_queue_policy,
    "AWS::SQS::QueueInlinePolicy": _remove_queue_policy,
    "AWS::S3::BucketPolicy": _remove_bucket_policy,
    "AWS::Glue::Database": _remove_glue_database,
    "AWS::Glue::Table": _remove_glue_table,
    "AWS::Glue::Job": _remove_glue_job,
    "AWS::CloudWatch::Alarm": _remove_alarm,
    "AWS::Scheduler::ScheduleGroup": _remove_schedule_group,
    "AWS::Scheduler::Schedule": _remove_schedule,
}


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
