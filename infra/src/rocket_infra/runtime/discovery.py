"""What to run, read from the deployed stacks `rocket-<stage>-*` through AWS APIs only.

Nothing here is a second list: functions, event source mappings, schedules, state machines and
Glue jobs are found from each stack's resources and template, then described by their own
service's API (so what runs is what was deployed, environment variables included).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from rocket_infra import naming, templates
from rocket_infra.runtime import log
from rocket_infra.runtime.template_values import TemplateValues, UnresolvableError, substitute
from rocket_infra.runtime.workers import FunctionSpec
from rocket_infra.templates import TemplateError

ACCOUNT = naming.ACCOUNT_ID

Clients = Mapping[str, Any]


@dataclass(frozen=True)
class SqsMapping:
    uuid: str
    function_name: str
    queue_arn: str
    queue_url: str
    batch_size: int
    batching_window: int
    report_failures: bool
    visibility_timeout: int
    filters: tuple[str, ...] = ()  # FilterCriteria patterns


@dataclass(frozen=True)
class KinesisMapping:
    uuid: str
    function_name: str
    function_arn: str
    stream_arn: str
    stream_name: str
    batch_size: int
    batching_window: int
    starting_position: str
    bisect_on_error: bool
    max_retry_attempts: int  # -1: until the record expires, as on AWS
    max_record_age: int  # -1: no limit
    on_failure_arn: str | None
    report_failures: bool
    filters: tuple[str, ...] = ()  # FilterCriteria patterns


@dataclass(frozen=True)
class ScheduleTarget:
    target_id: str
    arn: str
    input: str | None


@dataclass(frozen=True)
class Schedule:
    name: str
    logical_id: str
    kind: str  # "rule" (EventBridge rule) or "scheduler" (EventBridge Scheduler)
    arn: str
    expression: str
    timezone: str
    enabled: bool
    targets: tuple[ScheduleTarget, ...]


@dataclass(frozen=True)
class StateMachineSpec:
    arn: str
    name: str
    definition: str  # resolved JSON, before the runtime rewires its Lambda tasks
    role_arn: str
    type: str  # STANDARD | EXPRESS


@dataclass
class Topology:
    functions: list[FunctionSpec] = field(default_factory=list)
    sqs: list[SqsMapping] = field(default_factory=list)
    kinesis: list[KinesisMapping] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    state_machines: list[StateMachineSpec] = field(default_factory=list)
    glue_jobs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Stack:
    name: str
    resources: tuple[tuple[str, str, str], ...]  # (logical id, physical id, type)
    template: Mapping[str, Any]
    parameters: Mapping[str, str]

    def physical(self, resource_type: str) -> Iterator[tuple[str, str]]:
        for logical_id, physical_id, rtype in self.resources:
            if rtype == resource_type and physical_id:
                yield logical_id, physical_id

    def template_resources(self, resource_type: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for logical_id, resource in dict(self.template.get("Resources") or {}).items():
            if isinstance(resource, Mapping) and resource.get("Type") == resource_type:
                yield logical_id, resource.get("Properties") or {}

    def resolve(self, value: Any) -> str | None:
        return resolve_string(value, self.parameters)


def parse_template(body: Any) -> Mapping[str, Any]:
    """A deployed stack's template as get_template returns it (botocore parses JSON bodies)."""
    if isinstance(body, Mapping):
        return body
    try:
        return templates.loads(str(body))
    except TemplateError:
        return {}


def resolve_string(value: Any, parameters: Mapping[str, str]) -> str | None:
    """A template string value that depends on the stack's parameters only (plain, `Ref`,
    `Fn::Sub`, `Fn::Join`, ...). None when it depends on anything else."""
    resolver = templates.Resolver({}, parameters, pseudo_parameters=False)
    try:
        resolved = resolver.resolve(value)
    except (TemplateError, LookupError, TypeError):
        return None
    return resolved if isinstance(resolved, str) else None


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])


def _stacks(clients: Clients, stage: str, region: str) -> list[_Stack]:
    cfn = clients["cloudformation"]
    prefix = naming.prefix(stage)
    names = sorted(
        {
            summary["StackName"]
            for summary in _pages(cfn, "list_stacks", "StackSummaries")
            if summary["StackName"].startswith(prefix)
            and summary["StackStatus"] != "DELETE_COMPLETE"
        }
    )
    stacks = []
    for name in names:
        described = cfn.describe_stacks(StackName=name)["Stacks"][0]
        parameters = {
            p["ParameterKey"]: p.get("ParameterValue", "") for p in described.get("Parameters", [])
        }
        parameters.setdefault("Stage", stage)
        parameters.update({"AWS::StackName": name, "AWS::Region": region})
        resources = tuple(
            (
                r.get("LogicalResourceId", ""),
                r.get("PhysicalResourceId", ""),
                r.get("ResourceType", ""),
            )
            for r in _pages(cfn, "list_stack_resources", "StackResourceSummaries", StackName=name)
        )
        template = parse_template(cfn.get_template(StackName=name).get("TemplateBody", {}))
        stacks.append(_Stack(name, resources, template, parameters))
    return stacks


def discover(
    clients: Clients, *, stage: str, region: str, taken_over: Collection[str] = ()
) -> Topology:
    """Everything the runtime must run. `taken_over`: mappings the runtime disabled in the
    emulator itself (any other disabled mapping stays disabled)."""
    topology = Topology()
    for stack in _stacks(clients, stage, region):
        try:
            _discover_stack(clients, stack, region, taken_over, topology)
        except ClientError as exc:  # one broken stack must not stop the others from running
            log.error("stack discovery failed", stack=stack.name, error=str(exc))
    topology.glue_jobs = sorted(set(topology.glue_jobs))
    return topology


def _discover_stack(
    clients: Clients, stack: _Stack, region: str, taken_over: Collection[str], topology: Topology
) -> None:
    functions = [
        _function(clients, physical) for _, physical in stack.physical("AWS::Lambda::Function")
    ]
    topology.functions.extend(functions)
    _mappings(clients, stack, functions, topology, taken_over)
    topology.schedules.extend(_rules(clients, stack))
    topology.schedules.extend(_scheduler_schedules(clients, stack))
    topology.state_machines.extend(_state_machines(clients, stack, region))
    topology.glue_jobs.extend(_glue_jobs(clients, stack))


def _function(clients: Clients, name: str) -> FunctionSpec:
    config = clients["lambda"].get_function_configuration(FunctionName=name)
    return FunctionSpec(
        name=config["FunctionName"],
        arn=config["FunctionArn"],
        handler=config["Handler"],
        environment=dict((config.get("Environment") or {}).get("Variables") or {}),
        timeout=int(config.get("Timeout") or 3),
        memory_size=int(config.get("MemorySize") or 128),
    )


def _mappings(
    clients: Clients,
    stack: _Stack,
    functions: list[FunctionSpec],
    topology: Topology,
    taken_over: Collection[str],
) -> None:
    enabled_in_template = {
        physical: _template_enabled(stack, logical)
        for logical, physical in stack.physical("AWS::Lambda::EventSourceMapping")
    }
    for spec in functions:
        for esm in _pages(
            clients["lambda"],
            "list_event_source_mappings",
            "EventSourceMappings",
            FunctionName=spec.name,
        ):
            uuid = esm["UUID"]
            if uuid in enabled_in_template:
                if not enabled_in_template[uuid]:
                    continue
            elif esm.get("State") == "Disabled" and uuid not in taken_over:
                continue
            source = esm["EventSourceArn"]
            if source.startswith("arn:aws:sqs:"):
                topology.sqs.append(_sqs_mapping(clients, esm, spec))
            elif source.startswith("arn:aws:kinesis:"):
                topology.kinesis.append(_kinesis_mapping(esm, spec))


def _template_enabled(stack: _Stack, logical_id: str) -> bool:
    for candidate, properties in stack.template_resources("AWS::Lambda::EventSourceMapping"):
        if candidate == logical_id:
            return str(properties.get("Enabled", True)).lower() != "false"
    return True


def _sqs_mapping(clients: Clients, esm: Mapping[str, Any], spec: FunctionSpec) -> SqsMapping:
    queue_arn = esm["EventSourceArn"]
    sqs = clients["sqs"]
    queue_url = sqs.get_queue_url(QueueName=queue_arn.split(":")[5])["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])
    return SqsMapping(
        uuid=esm["UUID"],
        function_name=spec.name,
        queue_arn=queue_arn,
        queue_url=queue_url,
        batch_size=int(esm.get("BatchSize") or 10),
        batching_window=int(esm.get("MaximumBatchingWindowInSeconds") or 0),
        report_failures="ReportBatchItemFailures" in (esm.get("FunctionResponseTypes") or []),
        visibility_timeout=int(attributes["Attributes"].get("VisibilityTimeout", 30)),
        filters=_filters(esm),
    )


def _kinesis_mapping(esm: Mapping[str, Any], spec: FunctionSpec) -> KinesisMapping:
    stream_arn = esm["EventSourceArn"]
    on_failure = ((esm.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    max_retry = esm.get("MaximumRetryAttempts")
    max_age = esm.get("MaximumRecordAgeInSeconds")
    return KinesisMapping(
        uuid=esm["UUID"],
        function_name=spec.name,
        function_arn=spec.arn,
        stream_arn=stream_arn,
        stream_name=stream_arn.split(":stream/", 1)[1],
        batch_size=int(esm.get("BatchSize") or 100),
        batching_window=int(esm.get("MaximumBatchingWindowInSeconds") or 0),
        starting_position=str(esm.get("StartingPosition") or "TRIM_HORIZON"),
        bisect_on_error=str(esm.get("BisectBatchOnFunctionError", False)).lower() == "true",
        max_retry_attempts=-1 if max_retry is None else int(max_retry),
        max_record_age=-1 if max_age is None else int(max_age),
        on_failure_arn=on_failure or None,
        report_failures="ReportBatchItemFailures" in (esm.get("FunctionResponseTypes") or []),
        filters=_filters(esm),
    )


def _filters(esm: Mapping[str, Any]) -> tuple[str, ...]:
    filters = (esm.get("FilterCriteria") or {}).get("Filters") or []
    return tuple(
        f["Pattern"] if isinstance(f["Pattern"], str) else json.dumps(f["Pattern"]) for f in filters
    )


def _rules(clients: Clients, stack: _Stack) -> Iterator[Schedule]:
    events = clients["events"]
    buses = {
        logical_id: stack.resolve(properties.get("EventBusName"))
        for logical_id, properties in stack.template_resources("AWS::Events::Rule")
    }
    for logical_id, name in stack.physical("AWS::Events::Rule"):
        bus = buses.get(logical_id)
        rule = events.describe_rule(Name=name, **({"EventBusName": bus} if bus else {}))
        expression = rule.get("ScheduleExpression")
        if not expression:
            continue
        listed = events.list_targets_by_rule(Rule=name, **({"EventBusName": bus} if bus else {}))
        targets = tuple(
            ScheduleTarget(t["Id"], t["Arn"], t.get("Input")) for t in listed.get("Targets", [])
        )
        yield Schedule(
            name=name,
            logical_id=logical_id,
            kind="rule",
            arn=rule["Arn"],
            expression=expression,
            timezone="UTC",
            enabled=rule.get("State", "ENABLED") == "ENABLED",
            targets=targets,
        )


def _scheduler_schedules(clients: Clients, stack: _Stack) -> Iterator[Schedule]:
    # moto's CloudFormation has no AWS::Scheduler::Schedule; the deploy creates them with the
    # SDK under the template's Name, so they are matched by that name.
    scheduler = clients["scheduler"]
    for logical_id, properties in stack.template_resources("AWS::Scheduler::Schedule"):
        name = _resource_name(stack, logical_id, properties)
        group = stack.resolve(properties.get("GroupName")) or "default"
        if name is None:
            continue
        try:
            schedule = scheduler.get_schedule(Name=name, GroupName=group)
        except scheduler.exceptions.ResourceNotFoundException:
            continue
        target = schedule.get("Target") or {}
        yield Schedule(
            name=name,
            logical_id=logical_id,
            kind="scheduler",
            arn=schedule.get("Arn", ""),
            expression=schedule["ScheduleExpression"],
            timezone=schedule.get("ScheduleExpressionTimezone") or "UTC",
            enabled=(schedule.get("State") or "ENABLED") == "ENABLED",
            targets=(ScheduleTarget("target", target["Arn"], target.get("Input")),)
            if target
            else (),
        )


def _state_machines(clients: Clients, stack: _Stack, region: str) -> Iterator[StateMachineSpec]:
    physical = dict(stack.physical("AWS::StepFunctions::StateMachine"))
    values = TemplateValues(
        clients=clients,
        resources={logical: (pid, rtype) for logical, pid, rtype in stack.resources if logical},
        parameters=stack.parameters,
        region=region,
        account=ACCOUNT,
        stack_name=stack.name,
    )
    for logical_id, properties in stack.template_resources("AWS::StepFunctions::StateMachine"):
        try:
            spec = _state_machine(values, properties, physical.get(logical_id, ""), region)
        except (UnresolvableError, ValueError, KeyError) as exc:
            log.error(
                "state machine unresolvable",
                stack=stack.name,
                logical_id=logical_id,
                error=str(exc),
            )
            continue
        yield spec


def _state_machine(
    values: TemplateValues, properties: Mapping[str, Any], physical: str, region: str
) -> StateMachineSpec:
    name = values.resolve(properties.get("StateMachineName")) or physical.rsplit(":", 1)[-1]
    if not name:
        raise ValueError("a state machine without a name or physical id")
    if "Definition" in properties:
        definition = json.dumps(values.resolve(properties["Definition"]))
    else:
        definition = str(values.resolve(properties["DefinitionString"]))
    substitutions = values.resolve(properties.get("DefinitionSubstitutions") or {})
    definition = substitute(definition, substitutions)
    json.loads(definition)  # fail here, by name, rather than in the emulator
    role = values.resolve(properties.get("RoleArn")) or naming.arn(
        "AWS::IAM::Role", "local-runtime", region
    )
    return StateMachineSpec(
        arn=naming.arn("AWS::StepFunctions::StateMachine", str(name), region),
        name=str(name),
        definition=definition,
        role_arn=str(role),
        type=str(values.resolve(properties.get("StateMachineType")) or "STANDARD"),
    )


def _resource_name(stack: _Stack, logical_id: str, properties: Mapping[str, Any]) -> str | None:
    """The name the deploy gives a resource moto's CloudFormation skips: its `Name`, or
    `<stack>-<logical id>` when the template leaves it out."""
    if "Name" not in properties:
        return naming.default_name(stack.name, logical_id)
    return stack.resolve(properties["Name"])


def _glue_jobs(clients: Clients, stack: _Stack) -> Iterator[str]:
    # moto's CloudFormation skips AWS::Glue::Job; the deploy creates it with the template's Name.
    glue = clients["glue"]
    names = {physical for _, physical in stack.physical("AWS::Glue::Job")}
    for logical_id, properties in stack.template_resources("AWS::Glue::Job"):
        name = _resource_name(stack, logical_id, properties)
        if name:
            names.add(name)
    for name in sorted(names):
        try:
            glue.get_job(JobName=name)
        except glue.exceptions.EntityNotFoundException:
            continue
        yield name
