"""Event type <-> schema <-> generated model, discovered from the schema files.

Every ``<domain>/<entity>-<verb>.v<N>.json`` under the schema root is one event type
``<domain>.<entity>.<verb>.v<N>`` whose model is
``rocket_contracts.models.<domain>.<entity>_<verb>_v<N>.<title>``. There is no second,
hand-kept list: adding a schema file (and running ``make models``) adds the type.

A ``<domain>/common.v<N>.json`` file holds definitions the domain's schemas share through a
cross-file ``$ref`` (see :mod:`rocket_contracts.refs`); it is not an event type.
:func:`schema_for` gives every schema bundled (self-contained), so whatever reads it sees one
document.

The schema root is ``rocket_contracts/schemas`` inside an installed wheel (a Lambda package),
and ``contracts/schemas`` in the repository otherwise.
"""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from referencing import Registry

from rocket_contracts import refs

ENVELOPE_DOMAIN = "cloudevents"
"""Schema directory of the bus envelope itself; its files are not event types."""

_FILE_NAME = re.compile(
    r"^(?P<entity>[a-z][a-z0-9]*)-(?P<verb>[a-z][a-z0-9]*)\.v(?P<version>[1-9][0-9]*)\.json$"
)
_DOMAIN = re.compile(r"^[a-z][a-z0-9]*$")
EVENT_TYPE_PATTERN = re.compile(
    r"^(?P<domain>[a-z][a-z0-9]*)\.(?P<entity>[a-z][a-z0-9]*)\.(?P<verb>[a-z][a-z0-9]*)"
    r"\.v(?P<version>[1-9][0-9]*)$"
)


class UnknownEventTypeError(KeyError):
    """No schema file defines this event type (or this class is not a contract model)."""


@dataclass(frozen=True)
class SchemaFile:
    """Where one event type is defined and where its generated model lives."""

    event_type: str
    path: Path
    relative_path: str
    module: str

    @property
    def domain(self) -> str:
        return self.event_type.split(".", 1)[0]


@cache
def schemas_root() -> Path:
    """The directory holding the schema files: packaged copy first, repository otherwise."""
    packaged = Path(__file__).resolve().parent / "schemas"
    if packaged.is_dir():
        return packaged
    repository = Path(__file__).resolve().parents[2] / "schemas"
    if repository.is_dir():
        return repository
    msg = f"no contract schemas next to {packaged} nor at {repository}"
    raise FileNotFoundError(msg)


def module_stem(schema_file_name: str) -> str:
    """``job-requested.v1.json`` -> ``job_requested_v1`` (the generated module's name)."""
    return schema_file_name.removesuffix(".json").replace("-", "_").replace(".", "_")


def discover(root: Path) -> list[SchemaFile]:
    """Every event-type schema file under ``root``; raises on a file that breaks the naming."""
    found: list[SchemaFile] = []
    for path in sorted(root.glob("*/*.json")):
        domain = path.parent.name
        if domain == ENVELOPE_DOMAIN or refs.is_definitions_file(path):
            continue
        match = _FILE_NAME.match(path.name)
        if match is None or _DOMAIN.match(domain) is None:
            msg = f"{path}: schema files are named <domain>/<entity>-<verb>.v<N>.json"
            raise ValueError(msg)
        event_type = f"{domain}.{match['entity']}.{match['verb']}.v{match['version']}"
        found.append(
            SchemaFile(
                event_type=event_type,
                path=path,
                relative_path=f"{domain}/{path.name}",
                module=f"rocket_contracts.models.{domain}.{module_stem(path.name)}",
            )
        )
    return found


@cache
def _index() -> dict[str, SchemaFile]:
    return {schema_file.event_type: schema_file for schema_file in discover(schemas_root())}


def _lookup(event_type: str) -> SchemaFile:
    try:
        return _index()[event_type]
    except KeyError:
        raise UnknownEventTypeError(event_type) from None


def event_types() -> list[str]:
    """Every event type that has a schema, sorted."""
    return sorted(_index())


def schema_file(event_type: str) -> SchemaFile:
    """Where ``event_type`` is defined."""
    return _lookup(event_type)


@cache
def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@cache
def schema_registry() -> Registry[Any]:
    """Every contract document by ``$id``: what a cross-file ``$ref`` resolves against."""
    return refs.registry_from_files(schemas_root())


@cache
def schema_for(event_type: str) -> dict[str, Any]:
    """The JSON Schema of ``event_type``'s ``data`` payload, with the shared definitions it
    references copied in (self-contained; shared, do not mutate)."""
    return refs.bundle(_load(_lookup(event_type).path), schema_registry())


def envelope_schema() -> dict[str, Any]:
    """The JSON Schema of the CloudEvents envelope (shared; do not mutate)."""
    return _load(schemas_root() / ENVELOPE_DOMAIN / "envelope.v1.json")


def received_schema() -> dict[str, Any]:
    """The JSON Schema of a CloudEvent as any producer may send it (what consumers accept)."""
    return _load(schemas_root() / ENVELOPE_DOMAIN / "received.v1.json")


def schema_id(event_type: str) -> str:
    """The schema's ``$id``: what a CloudEvent of this type carries in ``dataschema``."""
    identifier: str = schema_for(event_type)["$id"]
    return identifier


@cache
def model_for(event_type: str) -> type[BaseModel]:
    """The generated pydantic model of ``event_type``'s ``data`` payload."""
    found = _lookup(event_type)
    module = importlib.import_module(found.module)
    model = getattr(module, schema_for(event_type)["title"])
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        msg = f"{found.module} has no model class for {event_type}"
        raise TypeError(msg)
    return model


@cache
def _schema_files_by_module() -> dict[str, SchemaFile]:
    return {found.module: found for found in _index().values()}


def event_type_for(model_or_class: BaseModel | type[BaseModel]) -> str:
    """The event type of a contract model instance or class (or a subclass of one)."""
    cls = model_or_class if isinstance(model_or_class, type) else type(model_or_class)
    by_module = _schema_files_by_module()
    for candidate in cls.__mro__:
        found = by_module.get(candidate.__module__)
        if found is not None and schema_for(found.event_type)["title"] == candidate.__name__:
            return found.event_type
    raise UnknownEventTypeError(f"{cls.__module__}.{cls.__qualname__} is not a contract model")
