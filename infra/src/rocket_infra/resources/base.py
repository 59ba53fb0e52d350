"""What every resource type module shares: the stack being reconciled (Context), SDK calls
with template values coerced to the API's shapes, and the description of a type."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rocket_infra import aws, naming
from rocket_infra.templates import Resolver


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


def json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def local_policy(document: Any) -> str | None:
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


def local_queue_url(ctx: Context, url: str) -> str:
    return str(
        ctx.client("sqs").get_queue_url(QueueName=url.rstrip("/").rsplit("/", 1)[-1])["QueueUrl"]
    )


PropertyFix = Callable[[Context, str, dict[str, Any]], None]


Remover = Callable[[Context, dict[str, Any]], None]


@dataclass(frozen=True)
class ResourceType:
    """What a deploy to the emulator does for one CloudFormation type beyond moto's own
    CloudFormation: `create` a type it skips (returning the physical id) and `remove` it once
    it leaves the template, or `fix` the properties (only `fix_keys`) of a type it creates but
    partly ignores."""

    name: str
    create: Reconciler | None = None
    remove: Remover | None = None
    fix: PropertyFix | None = None
    fix_keys: tuple[str, ...] = ()
