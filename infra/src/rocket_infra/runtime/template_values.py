"""Resolves CloudFormation intrinsic functions against a deployed stack, through AWS APIs.

Needed for state machines: with `execute_state_machine` on, moto serves the Step Functions API
from a different backend than the one its CloudFormation wrote to, so the runtime creates each
deployed state machine there itself, from the template's definition resolved here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from rocket_infra import naming

_SUB = re.compile(r"\$\{([^}!][^}]*)\}")


class UnresolvableError(ValueError):
    """The template value uses something this resolver cannot evaluate."""


class TemplateValues:
    def __init__(
        self,
        *,
        clients: Mapping[str, Any],
        resources: Mapping[str, tuple[str, str]],  # logical id -> (physical id, type)
        parameters: Mapping[str, str],
        region: str,
        account: str,
    ) -> None:
        self._clients = clients
        self._resources = resources
        self._parameters = {
            **parameters,
            "AWS::Region": region,
            "AWS::AccountId": account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, Mapping):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            function = self._functions().get(key)
            if function is not None:
                return function(arg)
        return {key: self.resolve(item) for key, item in value.items()}

    def _functions(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::Join": lambda arg: str(arg[0]).join(
                str(self.resolve(p)) for p in self.resolve(arg[1])
            ),
            "Fn::ImportValue": self._import_value,
            "Fn::Select": lambda arg: self.resolve(arg[1])[int(self.resolve(arg[0]))],
            "Fn::Split": lambda arg: str(self.resolve(arg[1])).split(str(arg[0])),
        }

    def _join(self, arg: Any) -> str:
        return str(arg[0]).join(str(self.resolve(part)) for part in self.resolve(arg[1]))

    def _ref(self, name: Any) -> str:
        if name in self._parameters:
            return self._parameters[name]
        if name in self._resources:
            return self._resources[name][0]
        raise UnresolvableError(f"Ref {name}")

    def _get_att(self, arg: Any) -> str:
        logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
        if logical_id not in self._resources:
            raise UnresolvableError(f"GetAtt {logical_id}.{attribute}")
        physical, resource_type = self._resources[logical_id]
        return self._attribute(physical, resource_type, str(attribute))

    def _attribute(self, physical: str, resource_type: str, attribute: str) -> str:
        if attribute == "Arn" and resource_type == "AWS::Lambda::Function":
            config = self._clients["lambda"].get_function_configuration(FunctionName=physical)
            return str(config["FunctionArn"])
        last = physical.rstrip("/").rsplit("/", 1)[-1]
        if attribute == "Arn" and physical.startswith("arn:"):
            return physical
        if attribute == "Arn" and resource_type in naming.ARN_FORMATS:
            return naming.arn(
                resource_type,
                last,
                self._parameters["AWS::Region"],
                self._parameters["AWS::AccountId"],
            )
        if resource_type == "AWS::SQS::Queue" and attribute in ("QueueName", "QueueUrl"):
            return last if attribute == "QueueName" else physical
        if attribute in ("Name", "TopicName", "StateMachineName") and physical.startswith("arn:"):
            return physical.rsplit(":", 1)[-1]
        raise UnresolvableError(f"GetAtt {resource_type}.{attribute}")

    def _sub(self, arg: Any) -> str:
        text, variables = (arg[0], dict(arg[1])) if isinstance(arg, list) else (arg, {})
        scope = {name: str(self.resolve(expr)) for name, expr in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in scope:
                return scope[name]
            if "." in name and name.split(".", 1)[0] in self._resources:
                return self._get_att(name)
            return self._ref(name)

        return _SUB.sub(replace, str(text)).replace("${!", "${")

    def _import_value(self, arg: Any) -> str:
        name = self.resolve(arg)
        paginator = self._clients["cloudformation"].get_paginator("list_exports")
        for page in paginator.paginate():
            for export in page.get("Exports", []):
                if export["Name"] == name:
                    return str(export["Value"])
        raise UnresolvableError(f"ImportValue {name}")


def substitute(text: str, substitutions: Mapping[str, Any]) -> str:
    """`DefinitionSubstitutions`: `${key}` in a state machine definition."""

    def replace(match: re.Match[str]) -> str:
        value = substitutions.get(match.group(1))
        return (
            match.group(0)
            if value is None
            else (value if isinstance(value, str) else json.dumps(value))
        )

    return _SUB.sub(replace, text)
