"""CloudFormation templates: load YAML/JSON with short-form tags and resolve intrinsic functions
against a deployed stack (parameters, physical ids, attributes, exports)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfnlint.decode import decode_str

from rocket_infra import naming

ACCOUNT_ID = naming.ACCOUNT_ID


class TemplateError(ValueError):
    """A template that cannot be read or resolved."""


class _NoValue:
    """AWS::NoValue: the property (or list item) is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()
_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


def loads(text: str, name: str = "template") -> dict[str, Any]:
    """Parse a template (YAML with !Ref/!Sub/... or JSON) into plain dicts and lists."""
    template, problems = decode_str(text)
    if problems or template is None:
        detail = "; ".join(str(p) for p in problems) or "empty template"
        raise TemplateError(f"{name}: {detail}")
    plain: dict[str, Any] = json.loads(json.dumps(template, default=str))
    return plain


def load(path: Path) -> dict[str, Any]:
    return loads(path.read_text(), str(path))


def parameter_values(template: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, Any]:
    """The template's parameters: given values, else defaults (lists split for list types)."""
    values: dict[str, Any] = {}
    for name, spec in template.get("Parameters", {}).items():
        if name in given:
            value: Any = given[name]
        elif "Default" in spec:
            value = spec["Default"]
        else:
            raise TemplateError(f"parameter {name} has no value and no default")
        if str(spec.get("Type", "")).startswith("List<") or spec.get("Type") == (
            "CommaDelimitedList"
        ):
            value = value if isinstance(value, list) else str(value).split(",")
        else:
            value = str(value)
        values[name] = value
    return values


AttributeLookup = Callable[[str, str], Any]


def _no_attributes(logical_id: str, attribute: str) -> Any:
    raise TemplateError(f"no attribute lookup for {logical_id}.{attribute}")


@dataclass
class Resolver:
    """Resolves intrinsic functions for one stack."""

    template: Mapping[str, Any]
    parameters: Mapping[str, Any]
    physical_ids: Mapping[str, str] = field(default_factory=dict)
    exports: Mapping[str, str] = field(default_factory=dict)
    get_att: AttributeLookup = _no_attributes
    stack_name: str = "stack"
    region: str = "us-east-1"
    account_id: str = ACCOUNT_ID
    # off: a Ref to AWS::Region & co. is unresolvable, for values that must not depend on them
    pseudo_parameters: bool = True

    def __post_init__(self) -> None:
        self._conditions: dict[str, bool] = {}

    def pseudo(self) -> dict[str, str]:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack_name,
            "AWS::StackId": naming.arn(
                "AWS::CloudFormation::Stack", f"{self.stack_name}/x", self.region, self.account_id
            ),
        }

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            spec = self.template.get("Conditions", {}).get(name)
            if spec is None:
                raise TemplateError(f"unknown condition {name}")
            self._conditions[name] = bool(self.resolve(spec))
        return self._conditions[name]

    def resource_enabled(self, logical_id: str) -> bool:
        condition = self.template["Resources"][logical_id].get("Condition")
        return condition is None or self.condition(condition)

    def resolve(self, node: Any) -> Any:
        """`node` with every intrinsic function replaced by its value (NoValue removed)."""
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            handler = self._functions().get(key)
            if handler is not None:
                return handler(arg)
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}

    def _functions(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": self._ref,
            "Fn::Sub": self._sub,
            "Fn::GetAtt": self._getatt,
            "Fn::ImportValue": lambda arg: self._import(self.resolve(arg)),
            "Fn::Join": lambda arg: str(self.resolve(arg[0])).join(
                str(v) for v in self.resolve(arg[1])
            ),
            "Fn::Select": lambda arg: self.resolve(arg[1])[int(self.resolve(arg[0]))],
            "Fn::Split": lambda arg: str(self.resolve(arg[1])).split(str(self.resolve(arg[0]))),
            "Fn::If": self._if,
            "Fn::Equals": lambda arg: self.resolve(arg[0]) == self.resolve(arg[1]),
            "Fn::And": lambda arg: all(self.resolve(a) for a in arg),
            "Fn::Or": lambda arg: any(self.resolve(a) for a in arg),
            "Fn::Not": lambda arg: not self.resolve(arg[0]),
            "Condition": self.condition,
            "Fn::FindInMap": self._find_in_map,
            "Fn::Base64": lambda arg: base64.b64encode(str(self.resolve(arg)).encode()).decode(),
            "Fn::GetAZs": lambda _arg: [f"{self.region}{z}" for z in "abc"],
            "Fn::ToJsonString": lambda arg: json.dumps(self.resolve(arg), separators=(",", ":")),
        }

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        pseudo = self.pseudo() if self.pseudo_parameters else {}
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical_ids:
            return self.physical_ids[name]
        raise TemplateError(f"Ref to {name}: not a parameter or a deployed resource")

    def _getatt(self, arg: Any) -> Any:
        if isinstance(arg, str):
            logical_id, _, attribute = arg.partition(".")
        else:
            logical_id, attribute = arg[0], self.resolve(arg[1])
        return self.get_att(logical_id, attribute)

    def _import(self, name: str) -> str:
        if name not in self.exports:
            raise TemplateError(f"Fn::ImportValue {name}: no such export")
        return self.exports[name]

    def _if(self, arg: list[Any]) -> Any:
        return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])

    def _find_in_map(self, arg: list[Any]) -> Any:
        name, top, second = (self.resolve(a) for a in arg[:3])
        return self.template["Mappings"][name][top][second]

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, str):
            text, variables = arg, {}
        else:
            text, variables = arg[0], {k: self.resolve(v) for k, v in arg[1].items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] in self.template.get("Resources", {}):
                logical_id, attribute = name.split(".", 1)
                return str(self.get_att(logical_id, attribute))
            return str(self._ref(name))

        # ${!Literal} stays as the literal ${Literal}
        return _SUB_VAR.sub(replace, text).replace("${!", "${")
