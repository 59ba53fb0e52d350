"""What untrusted input must look like before a service builds names from it or decodes it.

The rule (every service, every consumer): a value that arrives from outside (a message field,
the key of an incoming S3 object, a file name, a dataset, domain or table name, an asset id) and
becomes part of an S3 key, a local path, a DynamoDB key or a Glue name is checked with
:func:`key_problem` / :func:`segment_problem` first. A value that fails is *rejected*, through
the service's usual bad-input path (quarantine or DLQ, with the reason these functions return
and the service's invalid-input metric), never cleaned silently: a cleaned name could collide
with a legitimate one, and the sender would never learn its input was wrong. Where a contract
pattern already restricts a field, the contract is the check (and a test proves it rejects
these inputs).

Refused in a key: nothing at all, a leading ``/`` (absolute), a backslash (a separator on some
readers), control and invisible formatting characters (``\\x00``-``\\x1f``, ``\\x7f``-``\\x9f``,
bidirectional overrides such as U+202E, zero-width characters, line separators, lone
surrogates), empty segments (``a//b``, a trailing ``/``), ``.`` and ``..`` segments (also when
percent-encoded, ``%2e%2e``, in case a reader decodes once more), and more than
:data:`MAX_KEY_BYTES` bytes of UTF-8 (S3's own limit).

:func:`loads` is the JSON decoder for bodies from outside: it refuses duplicate object keys
(which member wins differs between parsers, so two readers could act on different values),
nesting deeper than :data:`MAX_JSON_DEPTH`, and the non-JSON constants ``NaN``/``Infinity``.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any
from urllib.parse import unquote

MAX_KEY_BYTES = 1024
"""S3 refuses object keys longer than this (UTF-8 bytes); no Rocket name needs more."""

MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays and objects accepted; the deepest contract message (an SNS
notification's CloudEvent with its data) nests fewer than 10 levels."""

# Control characters (Cc), invisible formatting characters including the bidirectional
# overrides (Cf), lone surrogates from a JSON escape (Cs), and line/paragraph separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_DOT_SEGMENTS = frozenset({".", ".."})


class UnsafeInputError(ValueError):
    """Input refused at the edge; ``reason`` says why in words fit for a quarantine record."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _character_problem(value: str) -> str | None:
    for index, char in enumerate(value):
        if char == "\\":
            return f"backslash at {index}"
        if unicodedata.category(char) in _UNSAFE_CATEGORIES:
            return f"control or formatting character U+{ord(char):04X} at {index}"
    return None


def _plain_key_problem(key: str, max_bytes: int) -> str | None:
    if not key:
        return "empty"
    # surrogatepass: a lone surrogate is refused below, by name, not by an encoding error.
    size = len(key.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        return f"{size} bytes long, more than {max_bytes}"
    if key.startswith("/"):
        return "absolute (starts with '/')"
    problem = _character_problem(key)
    if problem is not None:
        return problem
    for index, segment in enumerate(key.split("/")):
        if not segment:
            return f"empty segment {index}"
        if segment in _DOT_SEGMENTS:
            return f"{segment!r} segment {index}"
    return None


def key_problem(key: object, *, max_bytes: int = MAX_KEY_BYTES) -> str | None:
    """Why ``key`` cannot be (part of) an S3 key or relative path, or None when it can."""
    if not isinstance(key, str):
        return f"not a string ({type(key).__name__})"
    problem = _plain_key_problem(key, max_bytes)
    if problem is None and "%" in key:
        decoded = unquote(key)
        if decoded != key:
            problem = _plain_key_problem(decoded, max_bytes)
            if problem is not None:
                problem += " once percent-decoded"
    return problem


def segment_problem(value: object, *, max_bytes: int = 255) -> str | None:
    """Why ``value`` cannot be one segment (a name between two ``/``), or None when it can."""
    if isinstance(value, str) and "/" in value:
        return f"'/' at {value.index('/')}"
    return key_problem(value, max_bytes=max_bytes)


def require_key(key: object, *, what: str = "key", max_bytes: int = MAX_KEY_BYTES) -> str:
    """``key`` itself when it is safe; UnsafeInputError('unsafe <what>: ...') otherwise."""
    problem = key_problem(key, max_bytes=max_bytes)
    if problem is not None:
        raise UnsafeInputError(f"unsafe {what}: {problem}")
    return key  # type: ignore[return-value]  # key_problem proved it a str


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise UnsafeInputError(f"duplicate key {name!r}")
            seen.add(name)
    return document


def _refuse_constant(name: str) -> Any:
    raise UnsafeInputError(f"{name} is not JSON")


def _depth(document: Any) -> int:
    deepest = 0
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def loads(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Decode JSON from outside; UnsafeInputError for duplicate keys, deep nesting, NaN.

    Malformed JSON raises ``json.JSONDecodeError`` (a ValueError) as ``json.loads`` does.
    """
    try:
        document = json.loads(
            text, object_pairs_hook=_unique_members, parse_constant=_refuse_constant
        )
    except RecursionError:
        raise UnsafeInputError(f"nested more than {max_depth} levels deep") from None
    if _depth(document) > max_depth:
        raise UnsafeInputError(f"nested more than {max_depth} levels deep")
    return document


__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_KEY_BYTES",
    "UnsafeInputError",
    "key_problem",
    "loads",
    "require_key",
    "segment_problem",
]
