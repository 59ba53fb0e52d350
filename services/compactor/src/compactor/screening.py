"""Screening landing lines before they are parsed into columns.

Each non-blank line of a landing file must be a JSON object whose declared fields are present
(when required) and of the declared type. A line that is not is set aside with its file, line
number and reason; it is never coerced and never fails the range. What passes is written on,
byte for byte, to the one file the range's columns are parsed from.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

import orjson

from compactor.domains import FieldSpec, FieldType

INVALID_JSON = "invalid_json"
INVALID_ENCODING = "invalid_encoding"
NOT_AN_OBJECT = "not_an_object"
# The reasons of a record that breaks the domain's declared fields (`missing:<field>`,
# `type:<field>`), as against a line that is not a record at all.
CONTRACT_REASONS = ("missing:", "type:")
# A quarantined line keeps this much of its text: enough to see the problem, bounded in size.
RAW_KEPT = 4096

# fullmatch, not `$`: `$` also matches before a trailing newline, and the value is checked as
# written, never trimmed.
_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?"
).fullmatch
# The form most producers write (UTC, whole seconds): the same strings the general pattern
# accepts, matched in half the time because nothing in it is optional.
_COMMON_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z").fullmatch
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}").fullmatch


# A day's records share a handful of dates: each is checked once, not once per record.
@functools.lru_cache(maxsize=1024)
def _is_day(day: str) -> bool:
    try:
        date.fromisoformat(day)
    except ValueError:
        return False
    return True


def _is_timestamp(value: object) -> bool:
    if not isinstance(value, str):
        return False
    if _COMMON_TIMESTAMP(value) is None and _TIMESTAMP(value) is None:
        return False
    return _is_day(value[:10])


def _is_date(value: object) -> bool:
    return isinstance(value, str) and _DATE(value) is not None and _is_day(value[:10])


_CHECKS: dict[FieldType, Callable[[object], bool]] = {
    FieldType.STRING: lambda v: isinstance(v, str),
    FieldType.BIGINT: lambda v: isinstance(v, int) and not isinstance(v, bool),
    # An integer is a double's value: widening it loses nothing.
    FieldType.DOUBLE: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    FieldType.BOOLEAN: lambda v: isinstance(v, bool),
    FieldType.TIMESTAMP: _is_timestamp,
    FieldType.DATE: _is_date,
    FieldType.OBJECT: lambda v: isinstance(v, dict),
    FieldType.ARRAY: lambda v: isinstance(v, list),
}


class Sink(Protocol):
    """Where the lines that pass go: a file, or a range's chunks."""

    def write(self, data: bytes, /) -> object: ...


@dataclass(frozen=True)
class Rejection:
    key: str
    line: int
    reason: str
    raw: str

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "line": self.line, "reason": self.reason, "raw": self.raw}


@dataclass
class Screened:
    """What the lines of a range gave: counts, set-aside lines and every field name seen."""

    lines: int = 0
    passed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    rejections: list[Rejection] = field(default_factory=list)
    fields_seen: set[str] = field(default_factory=set)

    @property
    def rejected(self) -> int:
        return self.lines - self.passed


# A declared field's check: its name, required, the one Python type that passes without a
# closer look (None: always look), and the closer look. Most values are of the exact type, so
# the common case costs one type() comparison instead of a call.
Check = tuple[str, bool, type | None, Callable[[object], bool]]

_EXACT: dict[FieldType, type] = {
    FieldType.STRING: str,
    FieldType.BIGINT: int,
    FieldType.DOUBLE: float,
    FieldType.BOOLEAN: bool,
    FieldType.OBJECT: dict,
    FieldType.ARRAY: list,
}


@functools.cache
def checks_of(fields: tuple[FieldSpec, ...]) -> tuple[Check, ...]:
    return tuple(
        (spec.name, spec.required, _EXACT.get(spec.type), _CHECKS[spec.type]) for spec in fields
    )


def _violation(record: dict[str, Any], checks: tuple[Check, ...]) -> str | None:
    for name, required, exact, check in checks:
        value = record.get(name)
        if value is None:
            if required:
                return f"missing:{name}"
            continue
        if type(value) is not exact and not check(value):
            return f"type:{name}"
    return None


def violation(record: dict[str, Any], fields: tuple[FieldSpec, ...]) -> str | None:
    """The first declared field the record breaks, as a reason code, or None."""
    return _violation(record, checks_of(fields))


def _reason_for_unparsable(line: bytes) -> str:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return INVALID_ENCODING
    return INVALID_JSON


def screen(key: str, data: bytes, fields: tuple[FieldSpec, ...], out: Sink, into: Screened) -> None:
    """Screen one landing file's lines into `into`, writing the lines that pass to `out`."""
    checks = checks_of(fields)
    loads, seen = orjson.loads, into.fields_seen.update
    passed: list[bytes] = []
    lines = 0
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line or line.isspace():
            continue
        lines += 1
        reason: str | None
        try:
            record = loads(line)
        except orjson.JSONDecodeError:
            reason = _reason_for_unparsable(line)
        else:
            reason = _violation(record, checks) if type(record) is dict else NOT_AN_OBJECT
        if reason is None:
            seen(record)
            passed.append(line)
            continue
        into.reasons[reason] += 1
        raw = line[:RAW_KEPT].decode("utf-8", errors="replace")
        into.rejections.append(Rejection(key, number, reason, raw))
    into.lines += lines
    if passed:
        into.passed += len(passed)
        if len(passed) == lines and b"\r" not in data:
            # Every line passed: the file's own bytes are the lines (blank lines are skipped by
            # the parse), so nothing is copied.
            out.write(data if data.endswith(b"\n") else data + b"\n")
            return
        passed.append(b"")
        out.write(b"\n".join(line.rstrip(b"\r") for line in passed))
