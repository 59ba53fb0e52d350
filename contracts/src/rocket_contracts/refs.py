"""``$ref`` between schema files: a registry of every contract document, and bundling.

A schema may point into a definitions file of the contracts (``<domain>/common.v<N>.json``),
e.g. ``{"$ref": "common.v1.json#/$defs/asset"}``, resolved against the schema's ``$id`` the way
JSON Schema resolves any relative reference. The ``referencing`` registry below (the library
jsonschema itself resolves with) holds every contract document by ``$id``; a reference to
anything else fails instead of being fetched.

:func:`bundle` turns such a schema into one self-contained document: every definition it
reaches in another file is copied into its own ``$defs`` and the ``$ref`` made local. What the
validator, the tolerant reader and the compatibility gate see is then the same structure a
schema with its own copy of the definition has, so moving a definition into a shared file
changes nothing for them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

Schema = dict[str, Any]

DEFINITIONS_PREFIX = "common.v"
"""A file ``<domain>/common.v<N>.json`` holds ``$defs`` shared by that domain's schemas."""

_DEFS = "/$defs/"
# Keywords whose values are data, not schemas: a "$ref" key inside them is not a reference.
_DATA_KEYWORDS = frozenset({"examples", "const", "enum", "default"})
# Keywords whose value maps names to schemas.
_SCHEMA_MAPS = frozenset({"properties", "$defs", "patternProperties", "dependentSchemas"})


class ReferenceError(ValueError):
    """A ``$ref`` that does not name a definition of a contract document."""


def is_definitions_file(path: Path) -> bool:
    """Whether ``path`` is a shared-definitions file rather than an event type's schema."""
    return path.name.startswith(DEFINITIONS_PREFIX) and path.suffix == ".json"


def registry_of(documents: Iterable[Schema]) -> Registry[Any]:
    """A ``referencing`` registry holding ``documents`` by their ``$id`` (nothing is fetched)."""
    resources = [
        (document["$id"], Resource.from_contents(document, default_specification=DRAFT202012))
        for document in documents
    ]
    return Registry().with_resources(resources).crawl()


def registry_from_files(root: Path) -> Registry[Any]:
    """Every schema file under ``root`` (``<domain>/<file>.json``) by its ``$id``."""
    return registry_of(
        json.loads(path.read_text(encoding="utf-8")) for path in sorted(root.glob("*/*.json"))
    )


class _Bundler:
    """One schema being bundled: the definitions copied in so far, by the reference they
    answer."""

    def __init__(self, schema: Schema, registry: Registry[Any]) -> None:
        self.base = str(schema["$id"])
        resource = Resource.from_contents(schema, default_specification=DRAFT202012)
        self.resolver = registry.with_resource(self.base, resource).resolver(self.base)
        self.local_defs: Schema = schema.get("$defs", {})
        self.added: dict[str, Schema] = {}
        self.keys: dict[str, str] = {}

    def rewrite(self, node: Any, document: str) -> Any:
        if isinstance(node, list):
            return [self.rewrite(item, document) for item in node]
        if not isinstance(node, dict):
            return node
        out: Schema = {}
        for keyword, value in node.items():
            if keyword == "$ref" and isinstance(value, str):
                out[keyword] = self.local_ref(value, document)
            elif keyword in _DATA_KEYWORDS:
                out[keyword] = value
            elif keyword in _SCHEMA_MAPS and isinstance(value, dict):
                # Their keys are names, not keywords (a property may be called "enum").
                out[keyword] = {name: self.rewrite(sub, document) for name, sub in value.items()}
            else:
                out[keyword] = self.rewrite(value, document)
        return out

    def local_ref(self, reference: str, document: str) -> str:
        where, _, fragment = urljoin(document, reference).partition("#")
        if where == self.base:
            return f"#{fragment}"
        return f"#{_DEFS}{self.embed(where, fragment)}"

    def embed(self, document: str, fragment: str) -> str:
        target = f"{document}#{fragment}"
        if target in self.keys:
            return self.keys[target]
        name = fragment[len(_DEFS) :]
        if not fragment.startswith(_DEFS) or not name or "/" in name:
            msg = (
                f"{self.base}: a $ref into another file must name <file>#/$defs/<name>,"
                f" not {target}"
            )
            raise ReferenceError(msg)
        try:
            contents = self.resolver.lookup(target).contents
        except Unresolvable as exc:
            msg = f"{self.base}: $ref {target} is not a contract definition"
            raise ReferenceError(msg) from exc
        key = name
        if key in self.local_defs or key in self.added:
            key = f"{document.rsplit('/', 1)[-1].removesuffix('.json')}.{name}"
        self.keys[target] = key
        self.added[key] = {}  # reserved first, so a definition that refers to itself terminates
        self.added[key] = self.rewrite(contents, document)
        return key


def bundle(schema: Schema, registry: Registry[Any]) -> Schema:
    """``schema`` with every definition it references in another document copied into its
    ``$defs`` (under the definition's own name, or ``<file stem>.<name>`` when the schema
    already has a different definition of that name) and every ``$ref`` made local.

    Only ``<document>#/$defs/<name>`` may be referenced across files. ``schema`` is not
    changed; a schema without cross-file references comes back equal to itself.
    """
    bundler = _Bundler(schema, registry)
    result: Schema = bundler.rewrite(schema, bundler.base)
    if bundler.added:
        result["$defs"] = {**result.get("$defs", {}), **bundler.added}
    return result


def external_refs(schema: Any) -> list[str]:
    """Every ``$ref`` in ``schema`` that points outside the document (sorted, no repeats)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for keyword, value in node.items():
                if keyword == "$ref" and isinstance(value, str) and not value.startswith("#"):
                    found.add(value)
                elif keyword in _SCHEMA_MAPS and isinstance(value, dict):
                    walk(list(value.values()))
                elif keyword not in _DATA_KEYWORDS:
                    walk(value)

    walk(schema)
    return sorted(found)
