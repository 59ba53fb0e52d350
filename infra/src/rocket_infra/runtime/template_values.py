"""Resolves CloudFormation intrinsic functions against a deployed stack, through AWS APIs.

Needed for state machines: with `execute_state_machine` on, moto serves the Step Functions API
from a different backend than the one its CloudFormation wrote to, so the runtime creates each
deployed state machine there itself, from the template's definition resolved here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from rocket_infra import naming, stacks
from rocket_infra.templates import Resolver, TemplateError

_SUB = re.compile(r"\$\{([^}!][^}]*)\}")


class UnresolvableError(ValueError):
    """The template value uses something this resolver cannot evaluate."""


class _Exports(Mapping[str, str]):
    """The emulator's exports, listed on first use (most values import none)."""

    def __init__(self, clients: Mapping[str, Any]) -> None:
        self._clients = clients
        self._found: dict[str, str] | None = None

    def _all(self) -> dict[str, str]:
        if self._found is None:
            self._found = stacks.exports(self._clients["cloudformation"])
        return self._found

    def __getitem__(self, name: str) -> str:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


class TemplateValues:
    """rocket_infra.templates.Resolver over a deployed stack: physical ids and attributes come
    from the stack's resources, exports from the emulator."""

    def __init__(
        self,
        *,
        clients: Mapping[str, Any],
        resources: Mapping[str, tuple[str, str]],  # logical id -> (physical id, type)
        parameters: Mapping[str, str],
        region: str,
        account: str,
        stack_name: str = "stack",
    ) -> None:
        self._clients = clients
        self._resources = resources
        self._region, self._account = region, account
        self._resolver = Resolver(
            template={"Resources": {logical: {"Type": t} for logical, (_, t) in resources.items()}},
            parameters=parameters,
            physical_ids={logical: physical for logical, (physical, _) in resources.items()},
            exports=_Exports(clients),
            get_att=self._get_att,
            stack_name=stack_name,
            region=region,
            account_id=account,
        )

    def resolve(self, value: Any) -> Any:
        try:
            return self._resolver.resolve(value)
        except TemplateError as exc:
            raise UnresolvableError(str(exc)) from exc

    def _get_att(self, logical_id: str, attribute: str) -> str:
        if logical_id not in self._resources:
            raise UnresolvableError(f"GetAtt {logical_id}.{attribute}")
        physical, resource_type = self._resources[logical_id]
        if attribute == "Arn" and resource_type == "AWS::Lambda::Function":
            config = self._clients["lambda"].get_function_configuration(FunctionName=physical)
            return str(config["FunctionArn"])
        last = physical.rstrip("/").rsplit("/", 1)[-1]
        if attribute == "Arn" and physical.startswith("arn:"):
            return physical
        if attribute == "Arn" and resource_type in naming.ARN_FORMATS:
            return naming.arn(resource_type, last, self._region, self._account)
        if resource_type == "AWS::SQS::Queue" and attribute in ("QueueName", "QueueUrl"):
            return last if attribute == "QueueName" else physical
        if attribute in ("Name", "TopicName", "StateMachineName") and physical.startswith("arn:"):
            return physical.rsplit(":", 1)[-1]
        raise UnresolvableError(f"GetAtt {resource_type}.{attribute}")


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
