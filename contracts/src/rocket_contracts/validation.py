"""JSON Schema 2020-12 validation with every format the contracts use actually checked.

jsonschema only checks a format when its optional checker library is installed, and an
unchecked format passes silently. The checker here adds the formats the contracts rely on that
would otherwise go unchecked, so ``format`` means the same in every environment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any, cast

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

from rocket_contracts.registry import schema_registry

# RFC 3986 absolute URI: a scheme, then something without spaces or control characters.
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s\x00-\x1f\x7f]+$")
# RFC 3986 URI-reference (what CloudEvents allows in source): absolute or relative, so any
# non-empty text without spaces or control characters.
_URI_REFERENCE = re.compile(r"^[^\s\x00-\x1f\x7f]+$")

FORMAT_CHECKER = FormatChecker()


@FORMAT_CHECKER.checks("uri")
def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or _URI.fullmatch(value) is not None


@FORMAT_CHECKER.checks("uri-reference")
def _is_uri_reference(value: object) -> bool:
    return not isinstance(value, str) or _URI_REFERENCE.fullmatch(value) is not None


for _name, _check in Draft202012Validator.FORMAT_CHECKER.checkers.items():
    if _name not in FORMAT_CHECKER.checkers:
        FORMAT_CHECKER.checkers[_name] = _check

CHECKED_FORMATS = frozenset(FORMAT_CHECKER.checkers)
"""Formats whose values are really checked; a schema may only use these."""


@cache
def _ecma(pattern: str) -> str:
    # JSON Schema patterns are ECMA-262, where `$` matches only at the end of the text; Python's
    # `$` also matches before a final newline, so "tx-1\n" passed `^[A-Za-z0-9._:-]+$` and could
    # reach a key. `\Z` is ECMA's `$`. Escapes and character classes are copied as they are.
    out: list[str] = []
    index, in_class = 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index : index + 2])
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            char = r"\Z"
        out.append(char)
        index += 1
    return "".join(out)


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not re.search(_ecma(pattern), instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_DRAFT = Draft202012Validator.VALIDATORS


def _pattern_properties(
    validator: Any, patterns: dict[str, Any], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    ecma = {_ecma(pattern): subschema for pattern, subschema in patterns.items()}
    yield from _DRAFT["patternProperties"](validator, ecma, instance, schema)


def _additional_properties(
    validator: Any, additional: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    # Which properties count as additional depends on patternProperties: the same `$`.
    patterns = schema.get("patternProperties") if isinstance(schema, dict) else None
    if patterns:
        schema = {**schema, "patternProperties": {_ecma(p): s for p, s in patterns.items()}}
    yield from _DRAFT["additionalProperties"](validator, additional, instance, schema)


# extend() builds a Draft 2020-12 validator class with these keywords replaced.
_Validator = cast(
    "type[Draft202012Validator]",
    validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator,
        {
            "pattern": _pattern,
            "patternProperties": _pattern_properties,
            "additionalProperties": _additional_properties,
        },
    ),
)


@cache
def _validator(schema_text: str) -> Draft202012Validator:
    # The registry resolves a cross-file $ref of a schema that was not bundled (the registry's
    # schemas are) against the contract documents; nothing is fetched.
    return _Validator(
        json.loads(schema_text), format_checker=FORMAT_CHECKER, registry=schema_registry()
    )


# Registry schemas are loaded once and never mutated, so their identity is a cheap cache key;
# the dict itself is kept in the entry, so its id cannot be reused while the entry lives.
_BY_IDENTITY: dict[int, tuple[dict[str, Any], Draft202012Validator]] = {}


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A (cached) Draft 2020-12 validator for ``schema`` that checks formats and resolves
    references into the other contract documents."""
    known = _BY_IDENTITY.get(id(schema))
    if known is not None and known[0] is schema:
        return known[1]
    built = _validator(json.dumps(schema, sort_keys=True))
    if len(_BY_IDENTITY) < 1024:
        _BY_IDENTITY[id(schema)] = (schema, built)
    return built


def errors(schema: dict[str, Any], instance: object, *, at: str = "$") -> list[str]:
    """Every validation error as ``<json path>: <message>``, in a stable order.

    ``at`` is the JSON path of ``instance`` in the message, e.g. ``$.data``.
    """
    found = sorted(
        validator(schema).iter_errors(instance), key=lambda error: (error.json_path, error.message)
    )
    return [f"{at}{error.json_path[1:]}: {error.message}" for error in found]


def _resolve(schema: Any, root: dict[str, Any]) -> Any:
    # Local references only: registry.schema_for bundles shared definitions into the schema.
    hops = 0
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and hops < 32:
        reference: str = schema["$ref"]
        if not reference.startswith("#"):
            break
        target: Any = root
        for part in reference.lstrip("#").strip("/").split("/"):
            if part:
                target = target[part.replace("~1", "/").replace("~0", "~")]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        hops += 1
    return schema


def _known(schema: Any, root: dict[str, Any], instance: Any, at: str, ignored: list[str]) -> Any:
    schema = _resolve(schema, root)
    if not isinstance(schema, dict):
        return instance
    if isinstance(instance, dict):
        declared: dict[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        kept: dict[str, Any] = {}
        for name, value in instance.items():
            path = f"{at}.{name}"
            if name in declared:
                kept[name] = _known(declared[name], root, value, path, ignored)
            elif extra is False and not schema.get("patternProperties"):
                ignored.append(path)
            else:
                kept[name] = _known(extra, root, value, path, ignored)
        return kept
    if isinstance(instance, list) and isinstance(schema.get("items"), dict):
        prefix: list[Any] = schema.get("prefixItems", [])
        return [
            _known(
                prefix[index] if index < len(prefix) else schema["items"],
                root,
                item,
                f"{at}[{index}]",
                ignored,
            )
            for index, item in enumerate(instance)
        ]
    return instance


def known_part(schema: dict[str, Any], instance: Any, *, at: str = "$") -> tuple[Any, list[str]]:
    """``instance`` without the properties that ``schema``'s closed objects do not declare,
    and the JSON paths of what was left out.

    This is the tolerant reader: a consumer validates what it receives against the schema it
    was built on, but a property added to that schema later (an optional field a newer
    producer already sends, which the compatibility gate allows within a major version) is
    ignored instead of failing the message. Everything the consumer's schema declares is still
    validated strictly; writers stay strict (``bus.publish`` validates against the full schema).
    Objects under ``anyOf``/``oneOf``/``allOf`` are left as they are (validated strictly).
    """
    ignored: list[str] = []
    return _known(schema, schema, instance, at, ignored), ignored
