"""The rules every CloudFormation stack of the repository keeps, beyond what cfn-lint checks:
every queue is encrypted and has a DLQ, buckets are private, encrypted and TLS-only, functions
have log retention and an error alarm, IAM grants no wildcards, event sources report partial
batch failures, names carry the stage and the service, and so on.

Each rule takes a template body (plain dicts, as `rocket_infra.templates` loads it) and returns
the problems it finds, one line each naming the resource; no problem, an empty list.
`tests/infra/test_templates.py` runs them over every template and proves each one catches what
it is meant to catch.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rocket_infra import templates
from rocket_infra.templates import TemplateError

_SKIPPED_DIRS = {"node_modules", "dist", "build", "tests", "__pycache__"}
_TEMPLATE_SUFFIXES = {".yaml", ".yml", ".json", ".template"}

Body = dict[str, Any]

# Actions that have no resource-level permissions in IAM: `Resource: "*"` is the only choice.
RESOURCE_STAR_ALLOWED = frozenset(
    {
        "cloudwatch:PutMetricData",  # Metrics API (scope it with a cloudwatch:namespace condition)
        "xray:PutTraceSegments",  # Tracer
        "xray:PutTelemetryRecords",  # Tracer
        "xray:GetSamplingRules",  # Tracer
        "xray:GetSamplingTargets",  # Tracer
    }
)

# Event sources whose mappings do not support FunctionResponseTypes.
_NO_BATCH_RESPONSE_SOURCES = (
    "SelfManagedEventSource",
    "AmazonManagedKafkaEventSourceConfig",
    "SelfManagedKafkaEventSourceConfig",
    "DocumentDBEventSourceConfig",
    "Queues",
)


@dataclass(frozen=True)
class Template:
    path: Path
    text: str
    body: Body
    name: str  # the path from the repository root, with forward slashes


# ---------------------------------------------------------------- discovery and loading


def _candidate_files(root: Path) -> Iterator[Path]:
    for entry in sorted(root.iterdir()):
        if entry.is_dir():
            if entry.name not in _SKIPPED_DIRS and not entry.name.startswith("."):
                yield from _candidate_files(entry)
        elif entry.suffix in _TEMPLATE_SUFFIXES:
            yield entry


def _is_cloudformation(text: str) -> bool:
    return "AWSTemplateFormatVersion" in text or (
        re.search(r"^Resources:", text, re.MULTILINE) is not None and "AWS::" in text
    )


def discover_templates(root: Path) -> list[Path]:
    """Every CloudFormation template under `root` (the repository), YAML or JSON. Fixtures
    under any `tests/` directory are not deployable stacks and are left out."""
    return [p for p in _candidate_files(root) if _is_cloudformation(p.read_text("utf-8"))]


def load(path: Path, root: Path) -> Template:
    """A template file of the repository at `root` (TemplateError when it does not parse)."""
    text = path.read_text("utf-8")
    return Template(path, text, loads(text, str(path)), path.relative_to(root).as_posix())


def loads(text: str, name: str = "template") -> Body:
    return templates.loads(text, name)


# ---------------------------------------------------------------- intrinsic helpers


def resources(body: Body, resource_type: str) -> dict[str, Body]:
    found = body.get("Resources") or {}
    return {lid: res for lid, res in found.items() if res.get("Type") == resource_type}


def props(resource: Body) -> Body:
    value = resource.get("Properties") or {}
    if not isinstance(value, dict):
        raise TemplateError(f"Properties must be a mapping, not {value!r}")
    return value


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def render(value: Any) -> str | None:
    """A name-like value as a `${...}` template string, or None when it cannot be told."""
    if isinstance(value, str | int):
        return str(value)
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((fn, arg),) = value.items()
    if fn == "Ref":
        return "${" + str(arg) + "}"
    if fn == "Fn::GetAtt":
        return "${" + (".".join(arg) if isinstance(arg, list) else str(arg)) + "}"
    if fn == "Fn::Sub":
        if isinstance(arg, str):
            return arg
        text, variables = arg
        for key, var in variables.items():
            rendered = render(var)
            if rendered is None:
                return None
            text = text.replace("${" + key + "}", rendered)
        return str(text)
    if fn == "Fn::Join":
        parts = [render(part) for part in arg[1]]
        return None if None in parts else str(arg[0]).join(p for p in parts if p is not None)
    return None


def referenced_ids(value: Any) -> set[str]:
    """Logical ids a value points at through Ref, Fn::GetAtt or Fn::Sub."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= referenced_ids(item)
    elif isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                found.add(arg[0] if isinstance(arg, list) else str(arg).split(".")[0])
            elif key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text)}
                if isinstance(arg, list):
                    found |= referenced_ids(arg[1])
            else:
                found |= referenced_ids(arg)
    return found


def is_true(value: Any) -> bool:
    return value is True or value == "true"


def is_false(value: Any) -> bool:
    return value is False or value == "false"


# ---------------------------------------------------------------- the rules


def queue_problems(body: Body) -> list[str]:
    """Every queue is encrypted, and every queue that is not itself a DLQ has one."""
    queues = resources(body, "AWS::SQS::Queue")
    dead_letter_ids: set[str] = set()
    for queue in queues.values():
        redrive = props(queue).get("RedrivePolicy")
        if isinstance(redrive, str):
            redrive = json.loads(redrive)
        if isinstance(redrive, dict):
            dead_letter_ids |= referenced_ids(redrive.get("deadLetterTargetArn"))
    problems = []
    for lid, queue in queues.items():
        p = props(queue)
        if not (is_true(p.get("SqsManagedSseEnabled")) or p.get("KmsMasterKeyId")):
            problems.append(f"{lid}: no SSE (SqsManagedSseEnabled: true or KmsMasterKeyId)")
        if lid in dead_letter_ids or "RedriveAllowPolicy" in p:
            continue
        redrive = p.get("RedrivePolicy")
        if isinstance(redrive, str):
            redrive = json.loads(redrive)
        if not (
            isinstance(redrive, dict)
            and redrive.get("deadLetterTargetArn")
            and redrive.get("maxReceiveCount")
        ):
            problems.append(f"{lid}: no DLQ (RedrivePolicy with deadLetterTargetArn)")
    return problems


def _denies_insecure_transport(statement: Body) -> bool:
    condition = statement.get("Condition") or {}
    secure = (condition.get("Bool") or {}).get("aws:SecureTransport")
    actions = as_list(statement.get("Action"))
    return (
        statement.get("Effect") == "Deny"
        and is_false(secure)
        and ("s3:*" in actions or "*" in actions)
    )


# The platform's bucket for every bucket's server access logs (rocket-<stage>-<name>).
ACCESS_LOG_EXPORT = "AccessLogBucketName"


def _receives_access_logs(statement: Body) -> bool:
    principal = statement.get("Principal") or {}
    return (
        statement.get("Effect") == "Allow"
        and "logging.s3.amazonaws.com" in as_list(principal.get("Service"))
        and "s3:PutObject" in as_list(statement.get("Action"))
    )


def _access_log_problems(lid: str, p: Body, log_targets: set[str]) -> list[str]:
    if lid in log_targets:
        return []  # where the access logs go: logging its own writes into itself would loop
    target = (p.get("LoggingConfiguration") or {}).get("DestinationBucketName")
    if not target:
        return [f"{lid}: no server access logging (LoggingConfiguration)"]
    if _import_of(target) == ACCESS_LOG_EXPORT or referenced_ids(target) & log_targets:
        return []
    return [f"{lid}: access logs go elsewhere than the platform's access-log bucket"]


def bucket_problems(body: Body) -> list[str]:
    """Every bucket blocks public access, is encrypted, has a policy denying non-TLS, and logs
    its accesses (server access logging) unless it is itself where the access logs go."""
    tls_only: set[str] = set()
    log_targets: set[str] = set()
    for policy in resources(body, "AWS::S3::BucketPolicy").values():
        p = props(policy)
        statements = as_list((p.get("PolicyDocument") or {}).get("Statement"))
        if any(_denies_insecure_transport(s) for s in statements):
            tls_only |= referenced_ids(p.get("Bucket"))
        if any(_receives_access_logs(s) for s in statements):
            log_targets |= referenced_ids(p.get("Bucket"))
    problems = []
    for lid, bucket in resources(body, "AWS::S3::Bucket").items():
        p = props(bucket)
        block = p.get("PublicAccessBlockConfiguration") or {}
        flags = (
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        )
        if not all(is_true(block.get(flag)) for flag in flags):
            problems.append(f"{lid}: PublicAccessBlockConfiguration must set all four flags true")
        rules = as_list((p.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration"))
        if not any(
            (r.get("ServerSideEncryptionByDefault") or {}).get("SSEAlgorithm") for r in rules
        ):
            problems.append(f"{lid}: no default encryption (BucketEncryption)")
        if lid not in tls_only:
            problems.append(f"{lid}: no bucket policy denying aws:SecureTransport false")
        problems += _access_log_problems(lid, p, log_targets)
    return problems


# `rocket-${Stage}-<service>-<role>-${AWS::AccountId}-${AWS::Region}`: unique per stage,
# service, account and region (bucket names are global), and told apart by a glance.
BUCKET_NAME = "rocket-${{Stage}}-{service}-<role>-${{AWS::AccountId}}-${{AWS::Region}}"
_ROLE = r"[a-z0-9]+(?:-[a-z0-9]+)*"
S3_NAME_LIMIT = 63
# The longest stage deployed to AWS (dev, prod: the workflows' environments; `local` lives in
# the emulator only) and the longest region name. A longer stage needs shorter roles.
LONGEST_STAGE = "prod"
LONGEST_REGION = "ap-southeast-2"
ACCOUNT_ID_LENGTH = 12


def bucket_name_problems(body: Body, service: str) -> list[str]:
    """Every bucket is named `rocket-${Stage}-<service>-<role>-${AWS::AccountId}-${AWS::Region}`
    (service "platform" for the platform stack) and fits S3's 63 characters."""
    problems = []
    for lid, bucket in resources(body, "AWS::S3::Bucket").items():
        name = render(props(bucket).get("BucketName"))
        pattern = re.escape(BUCKET_NAME.format(service=service)).replace("<role>", _ROLE)
        if name is None or not re.fullmatch(pattern, name):
            expected = BUCKET_NAME.format(service=service)
            problems.append(f"{lid}: BucketName {name!r} is not {expected}")
            continue
        longest = _bucket_name(str(name), LONGEST_STAGE, LONGEST_REGION)
        if len(longest) > S3_NAME_LIMIT:
            problems.append(f"{lid}: BucketName reaches {len(longest)} characters ({longest})")
    return problems


def _bucket_name(name: str, stage: str, region: str) -> str:
    """A `BucketName` as deployed: the stage, a 12-digit account and the region put in."""
    return (
        name.replace("${Stage}", stage)
        .replace("${AWS::AccountId}", "0" * ACCOUNT_ID_LENGTH)
        .replace("${AWS::Region}", region)
    )


def bucket_length_problems(body: Body, stage: str, region: str) -> list[str]:
    """The buckets whose names would pass S3's 63 characters with this stage in this region,
    saying the longest stage that fits: S3 refuses such a name only once the stack is being
    created, after the others of its stage are."""
    named = {
        lid: str(name)
        for lid, bucket in resources(body, "AWS::S3::Bucket").items()
        if (name := render(props(bucket).get("BucketName"))) is not None
    }
    problems = []
    for lid, name in named.items():
        full = _bucket_name(name, stage, region)
        if len(full) > S3_NAME_LIMIT:
            fits = S3_NAME_LIMIT - (len(full) - len(stage))
            problems.append(
                f"{lid}: bucket {full} would be {len(full)} characters, S3 allows "
                f"{S3_NAME_LIMIT}: in {region} this stack takes a stage of at most {fits} "
                f"characters, not {stage!r} ({len(stage)})"
            )
    return problems


def concurrency_problems(body: Body) -> list[str]:
    """Every queue consumer has a concurrency cap: its mapping's ScalingConfig
    MaximumConcurrency, or the function's ReservedConcurrentExecutions. Without one a flood of
    messages scales the function to the account's limit (and its bill with it)."""
    functions = resources(body, "AWS::Lambda::Function")
    problems = []
    for lid, mapping in resources(body, "AWS::Lambda::EventSourceMapping").items():
        p = props(mapping)
        source = _mapping_source(body, mapping)
        if source is None or source[1].get("Type") != "AWS::SQS::Queue":
            continue
        if (p.get("ScalingConfig") or {}).get("MaximumConcurrency") is not None:
            continue
        targets = referenced_ids(p.get("FunctionName")) & set(functions)
        if not any(
            props(functions[f]).get("ReservedConcurrentExecutions") is not None for f in targets
        ):
            problems.append(
                f"{lid}: no ScalingConfig.MaximumConcurrency (nor reserved concurrency on "
                "its function)"
            )
    return problems


_SECRET_NAME = re.compile(r"passw(or)?d|secret|token|api_?key|private_?key|credential", re.I)
# A secret-like variable may hold where the secret is, never the secret itself.
_REFERENCE_SUFFIXES = ("_ARN", "_PARAMETER", "_PARAMETER_NAME", "_SECRET_ID", "_NAME")
_SECRET_VALUES = (
    (re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"), "an AWS access key id"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"aws_secret_access_key", re.I), "an AWS secret access key"),
)
_RESOLVED_SECRET = re.compile(r"\{\{resolve:(secretsmanager|ssm-secure):")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _configuration_variables(body: Body) -> Iterator[tuple[str, str, Any]]:
    """(resource, name, value) of what a function or a job is configured with in plain text."""
    for lid, function in resources(body, "AWS::Lambda::Function").items():
        variables = (props(function).get("Environment") or {}).get("Variables") or {}
        for name, value in variables.items():
            yield lid, str(name), value
    for lid, job in resources(body, "AWS::Glue::Job").items():
        for name, value in (props(job).get("DefaultArguments") or {}).items():
            yield lid, str(name).lstrip("-").upper().replace("-", "_"), value


def secret_problems(body: Body) -> list[str]:
    """No secret in the template, in a function's environment or in a job's arguments.

    A secret lives in Secrets Manager or SSM (SecureString); the configuration carries only its
    ARN or name, and the code reads it at run time. Environment variables and job arguments
    are shown in plain text to anyone who may read the configuration, a `{{resolve:...}}`
    dynamic reference there included, and a NoEcho parameter only hides the value from the
    stack's own API.
    """
    problems = []
    for text in _strings(body):
        for pattern, what in _SECRET_VALUES:
            if pattern.search(text):
                problems.append(f"the template holds {what}")
    no_echo = {
        name
        for name, parameter in (body.get("Parameters") or {}).items()
        if is_true((parameter or {}).get("NoEcho"))
    }
    for name in body.get("Parameters") or {}:
        if _SECRET_NAME.search(name) and name not in no_echo:
            problems.append(f"parameter {name}: looks like a secret but is not NoEcho")
    for lid, name, value in _configuration_variables(body):
        if _SECRET_NAME.search(name) and not name.endswith(_REFERENCE_SUFFIXES):
            problems.append(
                f"{lid}: {name} looks like a secret; pass its Secrets Manager or SSM "
                "reference (…_ARN, …_PARAMETER_NAME) and read it at run time"
            )
        if any(_RESOLVED_SECRET.search(text) for text in _strings(value)):
            problems.append(f"{lid}: {name} resolves a secret into plain-text configuration")
        if referenced_ids(value) & no_echo:
            problems.append(f"{lid}: {name} puts a NoEcho parameter into plain-text configuration")
    return problems


def encryption_problems(body: Body) -> list[str]:
    """Topics and tables are encrypted with KMS at rest (queues and buckets: their own rules)."""
    problems = []
    for lid, topic in resources(body, "AWS::SNS::Topic").items():
        if not props(topic).get("KmsMasterKeyId"):
            problems.append(f"{lid}: no KmsMasterKeyId (alias/aws/sns at least)")
    for lid, table in resources(body, "AWS::DynamoDB::Table").items():
        if not is_true((props(table).get("SSESpecification") or {}).get("SSEEnabled")):
            problems.append(f"{lid}: no SSESpecification with SSEEnabled true (KMS at rest)")
    return problems


def _function_names(lid: str, function: Body) -> set[str]:
    names = {"${" + lid + "}"}
    rendered = render(props(function).get("FunctionName"))
    if rendered is not None:
        names.add(rendered)
    return names


def _alarm_watches_errors(alarm: Body, names: set[str]) -> bool:
    p = props(alarm)
    metrics = [p] + [
        (m.get("MetricStat") or {}).get("Metric") or {} for m in as_list(p.get("Metrics"))
    ]
    for metric in metrics:
        if metric.get("Namespace") != "AWS/Lambda" or metric.get("MetricName") != "Errors":
            continue
        for dim in as_list(metric.get("Dimensions")):
            if dim.get("Name") == "FunctionName" and render(dim.get("Value")) in names:
                return True
    return False


def _log_group_ids(body: Body, lid: str, function: Body) -> list[str]:
    """Logical ids of the log groups a function writes to (by LoggingConfig or by name)."""
    names = {f"/aws/lambda/{n}" for n in _function_names(lid, function)}
    configured = referenced_ids((props(function).get("LoggingConfig") or {}).get("LogGroup"))
    return [
        gid
        for gid, group in resources(body, "AWS::Logs::LogGroup").items()
        if gid in configured or render(props(group).get("LogGroupName")) in names
    ]


def lambda_problems(body: Body) -> list[str]:
    """Every function has its log group with a retention, and an Errors alarm with an action."""
    log_groups = resources(body, "AWS::Logs::LogGroup")
    alarms = resources(body, "AWS::CloudWatch::Alarm")
    problems = []
    for lid, function in resources(body, "AWS::Lambda::Function").items():
        groups = [props(log_groups[gid]) for gid in _log_group_ids(body, lid, function)]
        if not groups:
            problems.append(f"{lid}: no AWS::Logs::LogGroup /aws/lambda/<function name>")
        elif not all(group.get("RetentionInDays") for group in groups):
            problems.append(f"{lid}: its log group has no RetentionInDays")
        names = _function_names(lid, function)
        watching = [a for a in alarms.values() if _alarm_watches_errors(a, names)]
        if not watching:
            problems.append(f"{lid}: no AWS::CloudWatch::Alarm on AWS/Lambda Errors")
        elif not all(props(a).get("AlarmActions") for a in watching):
            problems.append(f"{lid}: its Errors alarm notifies nobody (AlarmActions)")
    return problems


# What a function's role needs for AWS to let it run at all, per source, and the AWS managed
# policies that grant the same.
_SOURCE_ACTIONS = {
    "AWS::SQS::Queue": (
        ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"),
        "AWSLambdaSQSQueueExecutionRole",
    ),
    "AWS::Kinesis::Stream": (
        (
            "kinesis:GetRecords",
            "kinesis:GetShardIterator",
            "kinesis:DescribeStream",
            "kinesis:ListShards",
        ),
        "AWSLambdaKinesisExecutionRole",
    ),
}
_LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
_LOG_MANAGED = (
    "AWSLambdaBasicExecutionRole",
    "AWSLambdaSQSQueueExecutionRole",
    "AWSLambdaKinesisExecutionRole",
)


def _role_statements(body: Body, role_id: str) -> list[Body]:
    documents = [
        policy.get("PolicyDocument") or {}
        for policy in as_list(props(body["Resources"][role_id]).get("Policies"))
    ]
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for policy in resources(body, kind).values():
            if role_id in referenced_ids(props(policy).get("Roles")):
                documents.append(props(policy).get("PolicyDocument") or {})
    return [
        branch
        for document in documents
        for statement in as_list(document.get("Statement"))
        for branch in _branches(statement)
        if branch.get("Effect") == "Allow"
    ]


def _grants(statements: list[Body], action: str, target_id: str, target_name: str | None) -> bool:
    """Does an Allow statement cover this action on the resource (by reference or by name)?"""
    for statement in statements:
        actions = [str(a).lower() for a in as_list(statement.get("Action"))]
        if not any(fnmatch.fnmatchcase(action.lower(), a) for a in actions):
            continue
        for resource in as_list(statement.get("Resource")):
            rendered = render(resource) or ""
            if target_id in referenced_ids(resource) or (target_name and target_name in rendered):
                return True
    return False


def function_role_problems(body: Body) -> list[str]:
    """A function's own role lets it write its logs and read its event sources.

    AWS refuses an event source mapping whose function cannot read the source, and a function
    that cannot write its log group runs with no logs at all; the emulator checks neither.
    """
    roles = resources(body, "AWS::IAM::Role")
    problems = []
    for lid, function in resources(body, "AWS::Lambda::Function").items():
        role_ids = referenced_ids(props(function).get("Role")) & set(roles)
        if not role_ids:
            continue  # a role from outside this template: nothing to check here
        (role_id,) = role_ids
        statements = _role_statements(body, role_id)
        managed = " ".join(
            str(render(a)) for a in as_list(props(roles[role_id]).get("ManagedPolicyArns"))
        )
        for gid in _log_group_ids(body, lid, function):
            name = render(props(body["Resources"][gid]).get("LogGroupName"))
            missing = [a for a in _LOG_ACTIONS if not _grants(statements, a, gid, name)]
            if missing and not any(m in managed for m in _LOG_MANAGED):
                problems.append(f"{lid}: role {role_id} cannot {missing} on log group {gid}")
        for mapping in resources(body, "AWS::Lambda::EventSourceMapping").values():
            if lid not in referenced_ids(props(mapping).get("FunctionName")):
                continue
            source = _mapping_source(body, mapping)
            if source is None or source[1].get("Type") not in _SOURCE_ACTIONS:
                continue
            actions, managed_name = _SOURCE_ACTIONS[source[1]["Type"]]
            missing = [a for a in actions if not _grants(statements, a, source[0], None)]
            if missing and managed_name not in managed:
                problems.append(f"{lid}: role {role_id} cannot {missing} on {source[0]}")
    return problems


def _identity_policy_documents(body: Body) -> Iterator[tuple[str, Body]]:
    for kind in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
        for lid, res in resources(body, kind).items():
            for policy in as_list(props(res).get("Policies")):
                yield f"{lid}/{policy.get('PolicyName')}", policy.get("PolicyDocument") or {}
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for lid, res in resources(body, kind).items():
            yield lid, props(res).get("PolicyDocument") or {}


def _statement_problems(where: str, statement: Body) -> list[str]:
    if statement.get("Effect") != "Allow":
        return []
    if "NotAction" in statement or "NotResource" in statement:
        return [f"{where}: Allow with NotAction/NotResource"]
    actions = [a for a in as_list(statement.get("Action")) if isinstance(a, str)]
    problems = [f"{where}: wildcard action {a!r}" for a in actions if a == "*" or a.endswith(":*")]
    if "*" in as_list(statement.get("Resource")):
        scoped = sorted(a for a in actions if a not in RESOURCE_STAR_ALLOWED)
        if scoped:
            problems.append(f"{where}: Resource '*' for actions that support resources: {scoped}")
    return problems


def _branches(statement: Any) -> list[Body]:
    """A statement, or both branches of an `Fn::If` that chooses one."""
    if isinstance(statement, dict) and "Fn::If" in statement:
        _, when_true, when_false = statement["Fn::If"]
        return _branches(when_true) + _branches(when_false)
    return [statement] if isinstance(statement, dict) and "Ref" not in statement else []


def iam_problems(body: Body) -> list[str]:
    """No Allow with `*` actions; `*` resources only for actions that have no resource scope."""
    problems = []
    for where, document in _identity_policy_documents(body):
        for index, statement in enumerate(as_list(document.get("Statement"))):
            for branch in _branches(statement):
                problems += _statement_problems(f"{where}[{index}]", branch)
    return problems


# ---------------------------------------------------------------- least privilege

# Platform exports a service role may name, and the only actions it may take on them.
SHARED_IMPORTS = {
    "EventTopicArn": frozenset({"sns:Publish"}),
    "EventTopicKeyArn": frozenset({"kms:GenerateDataKey", "kms:Decrypt"}),
}
# Reading code and scripts: s3:GetObject under `<service>/` of the artifact bucket, nothing more.
ARTIFACT_EXPORT = "ArtifactBucketName"
ARTIFACT_ACTIONS = frozenset({"s3:GetObject"})
_ARN_HEAD = r"^arn:\$\{AWS::Partition\}:"
_HERE = r"\$\{AWS::Region\}:\$\{AWS::AccountId\}"


@dataclass(frozen=True)
class SharedResource:
    """A resource outside the stack a statement may name: its ARN pattern (as `render` prints
    it), the actions allowed on it, the services allowed (None: any), the condition key the
    statement must carry (None: none), and why."""

    pattern: str
    actions: frozenset[str]
    why: str
    services: frozenset[str] | None = None
    condition: str | None = None


SHARED_RESOURCES = (
    SharedResource(
        _ARN_HEAD + r"glue:" + _HERE + r":catalog$",
        frozenset(
            {
                "glue:GetTable",
                "glue:CreateTable",
                "glue:UpdateTable",
                "glue:GetPartition",
                "glue:CreatePartition",
                "glue:UpdatePartition",
                "glue:BatchCreatePartition",
            }
        ),
        "every Data Catalog call on a database or table also names the account's catalog",
    ),
    SharedResource(
        _ARN_HEAD + r"logs:" + _HERE + r":log-group:/aws-glue/\*$",
        frozenset({"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}),
        "Glue jobs write to the account's fixed /aws-glue/ log groups",
    ),
    SharedResource(
        _ARN_HEAD + r"kms:" + _HERE + r":key/\*$",
        frozenset({"kms:Decrypt"}),
        "records of a stream on the AWS managed aws/kinesis key, whose ARN a template cannot "
        "name; only through Kinesis (kms:ViaService)",
        condition="kms:ViaService",
    ),
    SharedResource(
        _ARN_HEAD + r"glue:" + _HERE + r":job/rocket-\$\{Stage\}-etl-layers-reprocess$",
        frozenset({"glue:StartJobRun", "glue:GetJobRuns", "glue:GetJob"}),
        "the gate exists to start allow-listed jobs, the etl-layers reprocess job among them",
        services=frozenset({"ingest-gate"}),
    ),
    SharedResource(
        r"^arn:aws:glue:\*:\*:job/",
        frozenset({"glue:StartJobRun", "glue:GetJobRuns", "glue:GetJob"}),
        "jobs the operator adds to the gate's allow-list (AdditionalJobNames), pinned to the "
        "stack's region by aws:RequestedRegion; Glue jobs have no cross-account access",
        services=frozenset({"ingest-gate"}),
        condition="aws:RequestedRegion",
    ),
)


def _import_of(value: Any) -> str | None:
    """`X` for `Fn::ImportValue: !Sub rocket-${Stage}-X`, else None."""
    if isinstance(value, dict) and set(value) == {"Fn::ImportValue"}:
        name = render(value["Fn::ImportValue"]) or ""
        if name.startswith("rocket-${Stage}-"):
            return name.removeprefix("rocket-${Stage}-")
        return name
    return None


def _condition_keys(statement: Body) -> set[str]:
    return {
        key
        for operator in (statement.get("Condition") or {}).values()
        if isinstance(operator, dict)
        for key in operator
    }


def _artifact_read(value: Any) -> str | None:
    """The ARN pattern of an `Fn::Sub [..., {Var: ImportValue ArtifactBucketName}]`, with the
    variable as `${ArtifactBucket}`; None when the value names no artifact bucket."""
    if not (isinstance(value, dict) and isinstance(value.get("Fn::Sub"), list)):
        return None
    text, variables = value["Fn::Sub"]
    names = [k for k, v in variables.items() if _import_of(v) == ARTIFACT_EXPORT]
    for name in names:
        text = text.replace("${" + name + "}", "${ArtifactBucket}")
    return str(text) if names else None


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)


def _arn_parts(text: str) -> list[str] | None:
    """An ARN's six parts (the pseudo parameters stood in for), or None for another text."""
    for pseudo in ("Partition", "Region", "AccountId"):
        text = text.replace("${AWS::" + pseudo + "}", pseudo.lower())
    parts = text.split(":", 5)
    return parts if text.startswith("arn:") and len(parts) == 6 else None


def _any_region_or_account(text: str) -> bool:
    parts = _arn_parts(text)
    return parts is not None and "*" in (parts[3], parts[4])


def _names_own_resource(text: str, own: set[str]) -> bool:
    """The text is an own resource's ARN (`${Queue.Arn}`, `${Bucket.Arn}/x/*`) or an ARN whose
    resource names one (`...:database/${CatalogDatabase}`, `arn:...:s3:::${Bucket}/*`)."""
    parts = _arn_parts(text)
    head = parts[5] if parts is not None else text
    match = re.match(r"^(?:[A-Za-z-]+/)?\$\{([A-Za-z0-9]+)", head)
    return match is not None and match.group(1) in own


def _import_problem(imported: str, statement: Body, actions: set[str]) -> str | None:
    allowed = SHARED_IMPORTS.get(imported)
    if allowed is None:
        return f"names the platform export {imported}, which no function may use"
    if actions - allowed:
        return f"{sorted(actions - allowed)} on {imported} (only {sorted(allowed)})"
    if imported == "EventTopicKeyArn" and "kms:ViaService" not in _condition_keys(statement):
        return "uses the topic key without a kms:ViaService condition"
    return None


def _artifact_problem(artifact: str, service: str, actions: set[str]) -> str | None:
    parts = _arn_parts(artifact)
    if parts is None or not parts[5].startswith(f"${{ArtifactBucket}}/{service}/"):
        return f"reads the artifact bucket outside {service}/ ({artifact})"
    if actions - ARTIFACT_ACTIONS:
        return f"{sorted(actions - ARTIFACT_ACTIONS)} on the artifact bucket (only reads)"
    return None


def _shared_problem(
    texts: list[str], service: str, statement: Body, actions: set[str]
) -> str | None:
    shown = " ".join(texts)
    for shared in SHARED_RESOURCES:
        if not any(re.search(shared.pattern, text) for text in texts):
            continue
        if shared.services is not None and service not in shared.services:
            continue
        if actions - shared.actions:
            return f"{sorted(actions - shared.actions)} on {shown} (only {sorted(shared.actions)})"
        if shared.condition and shared.condition not in _condition_keys(statement):
            return f"names {shown} without a {shared.condition} condition"
        return None
    return f"{shown} is not this stack's, the shared topic's or its artifacts"


def _resource_problem(
    body: Body, service: str, statement: Body, actions: set[str], resource: Any
) -> str | None:
    """Why this statement may not name this resource, or None when it may."""
    if resource == "*":
        scoped = sorted(actions - RESOURCE_STAR_ALLOWED)
        return f"Resource '*' for actions that support resources: {scoped}" if scoped else None
    imported = _import_of(resource)
    if imported is not None:
        return _import_problem(imported, statement, actions)
    artifact = _artifact_read(resource)
    if artifact is not None:
        return _artifact_problem(artifact, service, actions)
    rendered = render(resource)
    texts = [rendered] if rendered is not None else list(_leaves(resource))
    if not any(_any_region_or_account(text) for text in texts):
        own = set(body.get("Resources") or {})
        if any(_names_own_resource(text, own) for text in texts):
            return None  # one of the stack's own resources
        own_name = re.escape(f"rocket-${{Stage}}-{service}") + r"($|[-/:*])"
        if any(re.search(own_name, text) for text in texts):
            return None  # one of the stack's own names
    return _shared_problem(texts, service, statement, actions)


# What runs with a role, and the property naming it.
_ROLE_USERS = {
    "AWS::Lambda::Function": "Role",
    "AWS::Glue::Job": "Role",
    "AWS::StepFunctions::StateMachine": "RoleArn",
}


def _role_problems(body: Body) -> list[str]:
    """Whatever runs uses a role of its own stack, which only an AWS service may assume and
    whose every statement is in the template (no managed policy to take on trust)."""
    roles = resources(body, "AWS::IAM::Role")
    problems = []
    for kind, key in _ROLE_USERS.items():
        for lid, user in resources(body, kind).items():
            if not referenced_ids(props(user).get(key)) & set(roles):
                problems.append(f"{lid}: runs with a role from outside the stack")
    for lid, role in roles.items():
        p = props(role)
        if p.get("ManagedPolicyArns"):
            problems.append(f"{lid}: managed policies grant what no test can read; write it inline")
        trust = as_list((p.get("AssumeRolePolicyDocument") or {}).get("Statement"))
        for statement in trust:
            principal = statement.get("Principal") or {}
            if not isinstance(principal, dict) or set(principal) != {"Service"}:
                problems.append(f"{lid}: assumable by {principal!r}, not only by an AWS service")
    return problems


def least_privilege_problems(body: Body, service: str) -> list[str]:
    """Every Allow of every identity policy in the stack: no wildcard action, `*` only for the
    actions that have no resource scope (RESOURCE_STAR_ALLOWED), and every resource one of the
    stack's own, the shared topic and its key (SHARED_IMPORTS), the stack's own prefix of the
    artifact bucket (reads only), or a documented SHARED_RESOURCES exception. Every function,
    job and state machine runs with a role of the stack that only its service may assume."""
    problems = _role_problems(body)
    for where, document in _identity_policy_documents(body):
        for index, statement in enumerate(as_list(document.get("Statement"))):
            for branch in _branches(statement):
                if branch.get("Effect") != "Allow":
                    continue
                if "NotAction" in branch or "NotResource" in branch:
                    problems.append(f"{where}[{index}]: Allow with NotAction/NotResource")
                    continue
                actions = {a for a in as_list(branch.get("Action")) if isinstance(a, str)}
                problems += [
                    f"{where}[{index}]: wildcard action {a!r}" for a in sorted(actions) if "*" in a
                ]
                for resource in as_list(branch.get("Resource")):
                    found = _resource_problem(body, service, branch, actions, resource)
                    if found is not None:
                        problems.append(f"{where}[{index}]: {found}")
    return problems


# Resource policies and where their document is.
_RESOURCE_POLICIES = {
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::KMS::Key": "KeyPolicy",
}
# Condition keys that pin a service principal's request to this account or one resource.
_SOURCE_KEYS = {"aws:SourceArn", "aws:SourceAccount", "aws:SourceOwner"}
_OWN_ACCOUNT = "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"


def _principal_problem(statement: Body) -> str | None:
    principal = statement.get("Principal")
    if not isinstance(principal, dict) or set(principal) - {"Service", "AWS"}:
        return f"Allow to {principal!r}"
    accounts = [render(a) for a in as_list(principal.get("AWS"))]
    if any(a != _OWN_ACCOUNT for a in accounts):
        return f"Allow to {accounts} (only this account's root)"
    if principal.get("Service") and not _condition_keys(statement) & _SOURCE_KEYS:
        return "Allow to an AWS service without an aws:SourceArn or aws:SourceAccount condition"
    return None


def resource_policy_problems(body: Body) -> list[str]:
    """Queue, topic, bucket and key policies let in only this account (its root, so IAM
    decides) or an AWS service acting for one of its resources (a source condition, against
    the confused deputy), and so do a function's invoke permissions. Denies are always fine."""
    problems = []
    for kind, key in _RESOURCE_POLICIES.items():
        for lid, policy in resources(body, kind).items():
            statements = as_list((props(policy).get(key) or {}).get("Statement"))
            for index, statement in enumerate(statements):
                if statement.get("Effect") != "Allow":
                    continue
                if "NotPrincipal" in statement:
                    problems.append(f"{lid}[{index}]: Allow with NotPrincipal")
                    continue
                found = _principal_problem(statement)
                if found is not None:
                    problems.append(f"{lid}[{index}]: {found}")
    for lid, permission in resources(body, "AWS::Lambda::Permission").items():
        p = props(permission)
        if not (p.get("SourceArn") or p.get("SourceAccount")):
            problems.append(f"{lid}: invoke permission without SourceArn or SourceAccount")
    return problems


def event_source_mapping_problems(body: Body) -> list[str]:
    """Queue and stream consumers report partial batch failures."""
    problems = []
    for lid, mapping in resources(body, "AWS::Lambda::EventSourceMapping").items():
        p = props(mapping)
        if any(key in p for key in _NO_BATCH_RESPONSE_SOURCES):
            continue
        if "ReportBatchItemFailures" not in as_list(p.get("FunctionResponseTypes")):
            problems.append(f"{lid}: FunctionResponseTypes must include ReportBatchItemFailures")
    return problems


def _number(body: Body, value: Any, default: int) -> int | None:
    """A numeric property, following a Ref to a parameter's Default; None when unknowable."""
    if value is None:
        return default
    if isinstance(value, dict) and set(value) == {"Ref"}:
        value = ((body.get("Parameters") or {}).get(value["Ref"]) or {}).get("Default")
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _mapping_source(body: Body, mapping: Body) -> tuple[str, Body] | None:
    """The template resource an event source mapping reads from: (logical id, resource)."""
    all_resources = body.get("Resources") or {}
    for lid in referenced_ids(props(mapping).get("EventSourceArn")):
        if lid in all_resources:
            return lid, all_resources[lid]
    return None


def _stream_mapping_problems(lid: str, p: Body) -> list[str]:
    problems = []
    retries = p.get("MaximumRetryAttempts")
    if retries is None or retries == -1:
        problems.append(f"{lid}: stream mapping needs a bounded MaximumRetryAttempts")
    if not ((p.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination"):
        problems.append(f"{lid}: stream mapping needs an OnFailure destination for dropped records")
    return problems


def event_source_wiring_problems(body: Body) -> list[str]:
    """What AWS refuses or silently loses but the emulator accepts.

    - SQS: CreateEventSourceMapping fails when the queue's visibility timeout is shorter than
      the function's timeout.
    - Kinesis / DynamoDB streams: with unbounded retries a bad record blocks its shard until
      it expires; with no OnFailure destination the records given up on are lost silently.
    """
    functions = resources(body, "AWS::Lambda::Function")
    problems = []
    for lid, mapping in resources(body, "AWS::Lambda::EventSourceMapping").items():
        p = props(mapping)
        source = _mapping_source(body, mapping)
        if source is None:
            continue
        source_id, source_resource = source
        kind = source_resource.get("Type")
        if kind in ("AWS::Kinesis::Stream", "AWS::DynamoDB::Table"):
            problems += _stream_mapping_problems(lid, p)
        if kind != "AWS::SQS::Queue":
            continue
        visibility = _number(body, props(source_resource).get("VisibilityTimeout"), 30)
        for function_id in referenced_ids(p.get("FunctionName")) & set(functions):
            timeout = _number(body, props(functions[function_id]).get("Timeout"), 3)
            if visibility is not None and timeout is not None and visibility < timeout:
                problems.append(
                    f"{lid}: {source_id} VisibilityTimeout {visibility}s is shorter than "
                    f"{function_id} Timeout {timeout}s"
                )
    return problems


def _queue_policies_allowing(body: Body, service: str) -> dict[str, str]:
    """Queue logical id -> logical id of a QueuePolicy letting this AWS service send to it."""
    allowed: dict[str, str] = {}
    for policy_id, policy in resources(body, "AWS::SQS::QueuePolicy").items():
        p = props(policy)
        for statement in as_list((p.get("PolicyDocument") or {}).get("Statement")):
            principal = statement.get("Principal") or {}
            if (
                statement.get("Effect") == "Allow"
                and service in as_list(principal.get("Service"))
                and "sqs:SendMessage" in as_list(statement.get("Action"))
                and statement.get("Condition")
            ):
                allowed |= dict.fromkeys(referenced_ids(p.get("Queues")), policy_id)
    return allowed


def subscription_problems(body: Body) -> list[str]:
    """Queues fed by a topic or a bucket have a queue policy letting that source send.

    Without it AWS drops every SNS delivery, and refuses a bucket notification unless the
    policy exists before the bucket (DependsOn). The emulator checks neither.
    """
    from_sns = _queue_policies_allowing(body, "sns.amazonaws.com")
    from_s3 = _queue_policies_allowing(body, "s3.amazonaws.com")
    problems = []
    for lid, subscription in resources(body, "AWS::SNS::Subscription").items():
        p = props(subscription)
        if p.get("Protocol") != "sqs":
            continue
        for queue in sorted(referenced_ids(p.get("Endpoint")) - set(from_sns)):
            problems.append(
                f"{lid}: queue {queue} has no QueuePolicy allowing sns.amazonaws.com "
                "sqs:SendMessage (with a source condition)"
            )
    for lid, bucket in resources(body, "AWS::S3::Bucket").items():
        notifications = props(bucket).get("NotificationConfiguration") or {}
        depends_on = set(as_list(bucket.get("DependsOn")))
        for target in as_list(notifications.get("QueueConfigurations")):
            for queue in sorted(referenced_ids(target.get("Queue"))):
                if queue not in from_s3:
                    problems.append(
                        f"{lid}: queue {queue} has no QueuePolicy allowing s3.amazonaws.com "
                        "sqs:SendMessage (with a source condition)"
                    )
                elif from_s3[queue] not in depends_on:
                    problems.append(f"{lid}: must DependsOn {from_s3[queue]} (queue {queue})")
    return problems


def _imports(resource: Any, export: str) -> bool:
    return bool(resource == {"Fn::ImportValue": {"Fn::Sub": "rocket-${Stage}-" + export}})


def _grants_on_import(statements: list[Body], action: str, export: str) -> bool:
    return any(
        any(fnmatch.fnmatchcase(action.lower(), str(a).lower()) for a in as_list(s.get("Action")))
        and any(_imports(r, export) for r in as_list(s.get("Resource")))
        for s in statements
    )


def topic_key_problems(body: Body) -> list[str]:
    """A role that publishes to the KMS-encrypted shared topic may also use its key.

    Without kms:GenerateDataKey and kms:Decrypt on the topic's key every Publish fails with
    KMS.AccessDeniedException on AWS; the emulator does not encrypt, so only this catches it.
    """
    problems = []
    for role_id in resources(body, "AWS::IAM::Role"):
        statements = _role_statements(body, role_id)
        if not _grants_on_import(statements, "sns:Publish", "EventTopicArn"):
            continue
        missing = [
            action
            for action in ("kms:GenerateDataKey", "kms:Decrypt")
            if not _grants_on_import(statements, action, "EventTopicKeyArn")
        ]
        if missing:
            problems.append(f"{role_id}: publishes to the event topic but cannot {missing} its key")
    return problems


def transform_problems(body: Body) -> list[str]:
    """Plain CloudFormation only: the local emulator silently skips SAM resources."""
    transforms = as_list(body.get("Transform"))
    return [f"Transform {t!r} is not allowed (plain CloudFormation)" for t in transforms]


def service_stack_problems(body: Body, service: str) -> list[str]:
    """A service stack takes Stage and CodeKey; its functions run its package from CodeKey."""
    parameters = body.get("Parameters") or {}
    problems = []
    if (parameters.get("Stage") or {}).get("Default") != "local":
        problems.append("parameter Stage with Default 'local' is missing")
    if (parameters.get("CodeKey") or {}).get("Default") != f"{service}/local.zip":
        problems.append(f"parameter CodeKey with Default '{service}/local.zip' is missing")
    package = service.replace("-", "_")
    handler = re.compile(rf"^{package}\.handlers\.[a-z_][a-z0-9_]*\.handler$")
    for lid, function in resources(body, "AWS::Lambda::Function").items():
        p = props(function)
        if p.get("Runtime") != "python3.12":
            problems.append(f"{lid}: Runtime must be python3.12")
        if not handler.match(str(p.get("Handler"))):
            problems.append(f"{lid}: Handler must be {package}.handlers.<function>.handler")
        if (p.get("Code") or {}).get("S3Key") != {"Ref": "CodeKey"}:
            problems.append(f"{lid}: Code.S3Key must be !Ref CodeKey")
    return problems


# Name properties: two stages (or two services) in one account must never collide.
NAME_PROPERTIES = {
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Kinesis::Stream": "Name",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::Glue::Job": "Name",
    "AWS::IAM::Role": "RoleName",
    "AWS::Events::Rule": "Name",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::Logs::LogGroup": "LogGroupName",
}


def stack_service(template_path: Path, root: Path) -> str:
    """The service a template deploys (`services/<service>/template.yaml`), else "platform"."""
    relative = template_path.relative_to(root).parts
    if len(relative) == 3 and relative[0] == "services" and relative[2] == "template.yaml":
        return relative[1]
    return "platform"


def name_prefix(template_path: Path, root: Path) -> str:
    """`rocket-${Stage}-<service>` for a service stack, `rocket-${Stage}-` otherwise."""
    relative = template_path.relative_to(root).parts
    if len(relative) == 3 and relative[0] == "services" and relative[2] == "template.yaml":
        return "rocket-${Stage}-" + relative[1]
    return "rocket-${Stage}-"


def naming_problems(body: Body, prefix: str) -> list[str]:
    """Every explicit resource name carries the stage and the service."""
    problems = []
    for resource_type, name_property in NAME_PROPERTIES.items():
        for lid, resource in resources(body, resource_type).items():
            if name_property not in props(resource):
                continue
            name = render(props(resource)[name_property])
            if name is None or prefix not in name:
                problems.append(f"{lid}: {name_property} {name!r} does not contain {prefix!r}")
    return problems


RULES = [
    queue_problems,
    bucket_problems,
    encryption_problems,
    lambda_problems,
    iam_problems,
    event_source_mapping_problems,
    event_source_wiring_problems,
    subscription_problems,
    function_role_problems,
    topic_key_problems,
    transform_problems,
    concurrency_problems,
    secret_problems,
    resource_policy_problems,
]


def silenced_checks_without_reason(text: str) -> list[str]:
    """cfn-lint checks silenced in a template with no comment saying why, or errors silenced."""
    problems = []
    lines = text.splitlines()
    for number, line in enumerate(lines):
        inline = re.match(r"^(\s*)ignore_checks:\s*\[(.*)\]", line)
        block = re.match(r"^(\s*)ignore_checks:\s*(#.*)?$", line)
        if inline:
            reason = lines[number - 1].strip().startswith("#") or "#" in line
            for check in re.findall(r"[A-Z]\d+", inline.group(2)):
                problems += _silenced_problem(check, reason)
        elif block:
            indent = len(block.group(1))
            has_comment = False
            for item in lines[number + 1 :]:
                stripped = item.strip()
                if stripped and len(item) - len(item.lstrip()) <= indent:
                    break
                if stripped.startswith("#"):
                    has_comment = True
                elif stripped.startswith("-"):
                    check = stripped.lstrip("- ").split("#")[0].strip().strip("\"'")
                    problems += _silenced_problem(check, has_comment or "#" in stripped)
                    has_comment = False
    return problems


def _silenced_problem(check: str, has_reason: bool) -> list[str]:
    if check.startswith("E"):
        return [f"{check}: errors may not be silenced"]
    return [] if has_reason else [f"{check}: silenced without a comment saying why"]
