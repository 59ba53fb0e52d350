"""The message wiring the templates declare agrees with the contracts and the code.

For every service: what its template subscribes to on the shared topic, what its
messages.yaml says it consumes and produces, the contract registry, and the handler modules
must tell the same story. A type nobody has a schema for, a subscription with no handler, or a
consumed type the template never subscribes to fails here instead of in production.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.decode import decode, decode_str
from rocket_contracts.registry import event_types
from rocket_infra.policy.template_rules import props, referenced_ids, resources

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICE_DIRS = sorted(p.parent for p in (REPO_ROOT / "services").glob("*/pyproject.toml"))
EVENT_TOPIC_EXPORT = "rocket-${Stage}-EventTopicArn"

Body = dict[str, Any]
ModuleExists = Callable[[str], bool]


def module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def is_shared_topic(topic_arn: Any) -> bool:
    return bool(topic_arn == {"Fn::ImportValue": {"Fn::Sub": EVENT_TOPIC_EXPORT}})


def filter_types(subscription: Body) -> list[Any]:
    policy = props(subscription).get("FilterPolicy")
    if isinstance(policy, str):
        policy = json.loads(policy)
    return list((policy or {}).get("type") or [])


def handlers_fed_by(body: Body, queue_id: str) -> set[str]:
    """Handler modules of the functions an event source mapping feeds from this queue."""
    functions = resources(body, "AWS::Lambda::Function")
    modules = set()
    for mapping in resources(body, "AWS::Lambda::EventSourceMapping").values():
        p = props(mapping)
        if queue_id not in referenced_ids(p.get("EventSourceArn")):
            continue
        for function_id in referenced_ids(p.get("FunctionName")) & set(functions):
            handler = str(props(functions[function_id]).get("Handler", ""))
            modules.add(handler.rsplit(".", 1)[0])
    return modules


def _subscription_problems(
    lid: str, subscription: Body, body: Body, messages: Body, known: set[str]
) -> tuple[set[str], list[str]]:
    p = props(subscription)
    problems = []
    types = filter_types(subscription)
    if not types:
        problems.append(f"{lid}: no FilterPolicy on `type`: it would receive every event")
    if p.get("FilterPolicyScope", "MessageAttributes") != "MessageAttributes":
        problems.append(f"{lid}: FilterPolicyScope must be MessageAttributes")
    if p.get("RawMessageDelivery") not in (True, "true"):
        problems.append(f"{lid}: RawMessageDelivery must be true")
    queues = referenced_ids(p.get("Endpoint")) & set(resources(body, "AWS::SQS::Queue"))
    fed = set().union(*(handlers_fed_by(body, q) for q in queues))
    consumes = messages.get("consumes") or {}
    subscribed = set()
    for event_type in types:
        if not isinstance(event_type, str) or event_type not in known:
            problems.append(f"{lid}: filters on {event_type!r}, which has no contract schema")
            continue
        subscribed.add(event_type)
        module = consumes.get(event_type)
        if module is None:
            problems.append(
                f"{lid}: subscribes to {event_type} but messages.yaml does not consume it"
            )
        elif module not in fed:
            problems.append(
                f"{lid}: {event_type} is consumed by {module}, but the subscribed queue feeds "
                f"{sorted(fed) or 'no function'}"
            )
    return subscribed, problems


def bus_subscriptions(body: Body, messages: Body, known: set[str]) -> tuple[set[str], list[str]]:
    """The types the stack subscribes to on the shared topic, and what is wrong with them."""
    subscribed: set[str] = set()
    problems = []
    for lid, subscription in resources(body, "AWS::SNS::Subscription").items():
        topic = props(subscription).get("TopicArn")
        if referenced_ids(topic) & set(body.get("Resources") or {}):
            continue  # a topic of the service's own, not the shared bus
        if not is_shared_topic(topic):
            problems.append(f"{lid}: TopicArn must import {EVENT_TOPIC_EXPORT}")
        types, found = _subscription_problems(lid, subscription, body, messages, known)
        subscribed |= types
        problems += found
    return subscribed, problems


def wiring_problems(
    package: str,
    body: Body,
    messages: Body,
    known: set[str],
    exists: ModuleExists = module_exists,
) -> list[str]:
    """Everything that disagrees between a template, its messages.yaml, the registry and code."""
    problems = []
    unknown_keys = set(messages) - {"consumes", "produces"}
    if unknown_keys:
        problems.append(f"messages.yaml: unknown keys {sorted(unknown_keys)}")
    consumes = messages.get("consumes") or {}
    produces = messages.get("produces") or []
    subscribed, found = bus_subscriptions(body, messages, known)
    problems += found
    for event_type, module in consumes.items():
        if event_type not in known:
            problems.append(f"consumes {event_type}, which has no contract schema")
        if event_type not in subscribed:
            problems.append(f"consumes {event_type}, but no subscription in template.yaml has it")
        if not str(module).startswith(f"{package}."):
            problems.append(f"{event_type}: handler {module} is not in package {package}")
        elif not exists(str(module)):
            problems.append(f"{event_type}: handler module {module} does not exist")
    problems += [f"produces {t}, which has no contract schema" for t in produces if t not in known]
    if produces and not can_publish(body):
        problems.append("produces events, but no role in template.yaml may publish to the topic")
    return problems


def can_publish(body: Body) -> bool:
    """Some role of the stack is allowed sns:Publish on the shared topic."""
    topic = {"Fn::ImportValue": {"Fn::Sub": EVENT_TOPIC_EXPORT}}
    for role in resources(body, "AWS::IAM::Role").values():
        for policy in props(role).get("Policies") or []:
            statements = (policy.get("PolicyDocument") or {}).get("Statement") or []
            for statement in statements if isinstance(statements, list) else [statements]:
                actions = statement.get("Action")
                actions = actions if isinstance(actions, list) else [actions]
                targets = statement.get("Resource")
                targets = targets if isinstance(targets, list) else [targets]
                if (
                    statement.get("Effect") == "Allow"
                    and "sns:Publish" in actions
                    and topic in targets
                ):
                    return True
    return False


def load_service(service_dir: Path) -> tuple[Body, Body]:
    body, decode_problems = decode(str(service_dir / "template.yaml"))
    assert not decode_problems, [str(p) for p in decode_problems]
    messages = yaml.safe_load((service_dir / "messages.yaml").read_text("utf-8"))
    assert isinstance(body, dict)
    assert isinstance(messages, dict), "messages.yaml must be a mapping"
    return body, messages


# ---------------------------------------------------------------- every service in the repo


@pytest.mark.parametrize("service_dir", SERVICE_DIRS, ids=[d.name for d in SERVICE_DIRS])
def test_service_wiring_agrees_with_contracts_and_code(service_dir: Path) -> None:
    assert (service_dir / "template.yaml").is_file(), "no template.yaml"
    assert (service_dir / "messages.yaml").is_file(), "no messages.yaml"
    body, messages = load_service(service_dir)
    package = service_dir.name.replace("-", "_")
    assert wiring_problems(package, body, messages, set(event_types())) == []


# ---------------------------------------------------------------- the checks catch what they should

WIRED = """
Resources:
  Queue:
    Type: AWS::SQS::Queue
  OtherQueue:
    Type: AWS::SQS::Queue
  Subscription:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: {"Fn::ImportValue": !Sub "rocket-${Stage}-EventTopicArn"}
      Protocol: sqs
      Endpoint: !GetAtt Queue.Arn
      RawMessageDelivery: true
      FilterPolicy: {type: [a.b.requested.v1]}
  Fn:
    Type: AWS::Lambda::Function
    Properties: {Handler: svc.handlers.work.handler}
  Other:
    Type: AWS::Lambda::Function
    Properties: {Handler: svc.handlers.other.handler}
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties: {EventSourceArn: !GetAtt Queue.Arn, FunctionName: !Ref Fn}
  OtherMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties: {EventSourceArn: !GetAtt OtherQueue.Arn, FunctionName: !Ref Other}
  Role:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: publish
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: sns:Publish
                Resource: {"Fn::ImportValue": !Sub "rocket-${Stage}-EventTopicArn"}
"""
KNOWN = {"a.b.requested.v1", "a.b.done.v1", "c.d.done.v1"}
MODULES = {"svc.handlers.work", "svc.handlers.other"}


def wired(**replace: str) -> Body:
    text = WIRED
    for old, new in replace.items():
        text = text.replace(old, new)
    body, problems = decode_str(text)
    assert not problems
    assert isinstance(body, dict)
    return body


def check(body: Body, messages: Body) -> list[str]:
    return wiring_problems("svc", body, messages, KNOWN, MODULES.__contains__)


def test_consistent_wiring_passes() -> None:
    messages = {"consumes": {"a.b.requested.v1": "svc.handlers.work"}, "produces": ["a.b.done.v1"]}
    assert check(wired(), messages) == []


def test_a_producer_needs_permission_to_publish() -> None:
    messages = {"consumes": {"a.b.requested.v1": "svc.handlers.work"}, "produces": ["a.b.done.v1"]}
    assert check(wired(**{"Action: sns:Publish": "Action: sns:Subscribe"}), messages) == [
        "produces events, but no role in template.yaml may publish to the topic"
    ]


def test_subscription_to_an_unknown_topic_fails() -> None:
    body = wired(**{'TopicArn: {"Fn::ImportValue"': 'TopicArn: {"Fn::GetAZs"'})
    messages = {"consumes": {"a.b.requested.v1": "svc.handlers.work"}}
    assert check(body, messages) == [
        "Subscription: TopicArn must import rocket-${Stage}-EventTopicArn"
    ]


def test_filter_on_a_type_without_schema_fails() -> None:
    body = wired(**{"[a.b.requested.v1]": "[a.b.requested.v1, x.y.typo.v1]"})
    messages = {"consumes": {"a.b.requested.v1": "svc.handlers.work"}}
    assert check(body, messages) == [
        "Subscription: filters on 'x.y.typo.v1', which has no contract schema"
    ]


def test_subscribed_type_must_be_consumed_by_the_handler_its_queue_feeds() -> None:
    assert check(wired(), {"consumes": {}}) == [
        "Subscription: subscribes to a.b.requested.v1 but messages.yaml does not consume it"
    ]
    assert check(wired(), {"consumes": {"a.b.requested.v1": "svc.handlers.other"}}) == [
        "Subscription: a.b.requested.v1 is consumed by svc.handlers.other, but the subscribed "
        "queue feeds ['svc.handlers.work']"
    ]


def test_consumed_type_must_be_subscribed_known_and_handled_in_the_service() -> None:
    messages = {
        "consumes": {
            "a.b.requested.v1": "svc.handlers.work",
            "c.d.done.v1": "svc.handlers.missing",
            "e.f.gone.v1": "other_service.handlers.work",
        },
        "produces": ["a.b.done.v1", "z.z.unknown.v1"],
    }
    assert check(wired(), messages) == [
        "consumes c.d.done.v1, but no subscription in template.yaml has it",
        "c.d.done.v1: handler module svc.handlers.missing does not exist",
        "consumes e.f.gone.v1, which has no contract schema",
        "consumes e.f.gone.v1, but no subscription in template.yaml has it",
        "e.f.gone.v1: handler other_service.handlers.work is not in package svc",
        "produces z.z.unknown.v1, which has no contract schema",
    ]


def test_subscription_without_filter_or_raw_delivery_fails() -> None:
    body = wired(
        **{
            "      FilterPolicy: {type: [a.b.requested.v1]}\n": "",
            "RawMessageDelivery: true": "RawMessageDelivery: false",
        }
    )
    assert check(body, {}) == [
        "Subscription: no FilterPolicy on `type`: it would receive every event",
        "Subscription: RawMessageDelivery must be true",
    ]
