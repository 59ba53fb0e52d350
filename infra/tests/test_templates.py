"""The template loader and the intrinsic-function resolver."""

from __future__ import annotations

from typing import Any

import pytest
from rocket_infra import templates
from rocket_infra.templates import Resolver, TemplateError

TEMPLATE = """
Parameters:
  Stage: {Type: String, Default: dev}
  Names: {Type: CommaDelimitedList, Default: "a,b"}
Mappings:
  Sizes:
    dev: {Memory: 256}
    prod: {Memory: 1024}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  NotProd: !Not [!Condition IsProd]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub rocket-${Stage}-q
  Extra:
    Type: AWS::SQS::Queue
    Condition: IsProd
Outputs:
  Arn:
    Value: !GetAtt Queue.Arn
"""


def resolver(stage: str = "dev", **kwargs: Any) -> Resolver:
    template = templates.loads(TEMPLATE)
    return Resolver(
        template,
        templates.parameter_values(template, {"Stage": stage}),
        physical_ids={"Queue": "https://sqs/123/rocket-dev-q"},
        exports={"rocket-dev-EventTopicArn": "arn:aws:sns:us-east-1:1:events"},
        get_att=lambda lid, attr: f"{lid}.{attr}",
        stack_name="rocket-dev-probe",
        **kwargs,
    )


def test_loads_short_form_tags_as_intrinsic_functions() -> None:
    template = templates.loads(TEMPLATE)
    assert template["Resources"]["Queue"]["Properties"]["QueueName"] == {
        "Fn::Sub": "rocket-${Stage}-q"
    }
    assert template["Outputs"]["Arn"]["Value"] == {"Fn::GetAtt": ["Queue", "Arn"]}


def test_loads_rejects_broken_yaml() -> None:
    with pytest.raises(TemplateError):
        templates.loads("Resources: [unclosed")


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ({"Fn::Sub": "rocket-${Stage}-${AWS::Region}"}, "rocket-dev-us-east-1"),
        ({"Fn::Sub": "${Queue.Arn}/x ${!Literal}"}, "Queue.Arn/x ${Literal}"),
        ({"Fn::Sub": ["${A}-${Stage}", {"A": {"Ref": "AWS::AccountId"}}]}, "123456789012-dev"),
        ({"Ref": "Queue"}, "https://sqs/123/rocket-dev-q"),
        ({"Fn::GetAtt": "Queue.Arn"}, "Queue.Arn"),
        (
            {"Fn::ImportValue": {"Fn::Sub": "rocket-${Stage}-EventTopicArn"}},
            "arn:aws:sns:us-east-1:1:events",
        ),
        ({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}, "a-dev"),
        ({"Fn::Select": [1, {"Fn::Split": [",", "x,y,z"]}]}, "y"),
        ({"Fn::Select": [0, {"Ref": "Names"}]}, "a"),
        ({"Fn::If": ["IsProd", "big", "small"]}, "small"),
        ({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]}, 256),
        ({"Fn::ToJsonString": {"a": {"Ref": "Stage"}}}, '{"a":"dev"}'),
        ({"Ref": "AWS::StackName"}, "rocket-dev-probe"),
    ],
)
def test_resolves_intrinsic_functions(node: Any, expected: Any) -> None:
    assert resolver().resolve(node) == expected


def test_no_value_removes_the_property_and_the_list_item() -> None:
    node = {
        "Keep": 1,
        "Drop": {"Fn::If": ["IsProd", "x", {"Ref": "AWS::NoValue"}]},
        "List": ["a", {"Ref": "AWS::NoValue"}],
    }
    assert resolver().resolve(node) == {"Keep": 1, "List": ["a"]}


def test_conditions_follow_parameters() -> None:
    assert resolver("prod").condition("IsProd") is True
    assert resolver("dev").condition("NotProd") is True
    assert resolver("dev").resource_enabled("Extra") is False
    assert resolver("prod").resource_enabled("Extra") is True


@pytest.mark.parametrize(
    "node",
    [{"Ref": "Missing"}, {"Fn::ImportValue": "no-such-export"}, {"Condition": "Nope"}],
)
def test_unknown_references_fail_by_name(node: Any) -> None:
    with pytest.raises(TemplateError):
        resolver().resolve(node)


def test_parameter_without_value_or_default_fails() -> None:
    template = templates.loads("Parameters:\n  Needed: {Type: String}\nResources: {}\n")
    with pytest.raises(TemplateError, match="Needed"):
        templates.parameter_values(template, {})
