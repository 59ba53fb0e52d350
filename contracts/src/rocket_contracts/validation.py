"""JSON Schema 2020-12 validation with every format the contracts use actually checked.

jsonschema only checks a format when its optional checker library is installed, and an
unchecked format passes silently. The checker here adds the formats the contracts rely on that
would otherwise go unchecked, so ``format`` means the same in every environment.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

# RFC 3986 absolute URI: a scheme, then something without spaces or control characters.
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s\x00-\x1f\x7f]+$")

FORMAT_CHECKER = FormatChecker()


@FORMAT_CHECKER.checks("uri")
def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or _URI.match(value) is not None


for _name, _check in Draft202012Validator.FORMAT_CHECKER.checkers.items():
    if _name not in FORMAT_CHECKER.checkers:
        FORMAT_CHECKER.checkers[_name] = _check

CHECKED_FORMATS = frozenset(FORMAT_CHECKER.checkers)
"""Formats whose values are really checked; a schema may only use these."""


@cache
def _validator(schema_text: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_text), format_checker=FORMAT_CHECKER)


# Registry schemas are loaded once and never mutated, so their identity is a cheap cache key;
# the dict itself is kept in the entry, so its id cannot be reused while the entry lives.
_BY_IDENTITY: dict[int, tuple[dict[str, Any], Draft202012Validator]] = {}


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A (cached) Draft 2020-12 validator for ``schema`` that checks formats."""
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
