"""Stack parameter overrides given on the command line (`--parameter`), checked against what a
template declares before anything is deployed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Set by `rocket` itself from --stage and the package it uploads: overriding them would deploy
# a stack whose name or code disagrees with its parameters.
RESERVED = frozenset({"Stage", "CodeKey"})


class ParameterError(ValueError):
    """A malformed `--parameter`, or one the template does not declare."""


def parse(assignment: str) -> tuple[str, str]:
    """`Name=value` -> (Name, value); the value may contain `=` and may be empty."""
    name, equals, value = assignment.partition("=")
    if not equals or not name.strip():
        raise ParameterError(f"--parameter {assignment!r}: expected Name=value")
    return name.strip(), value


def parse_many(assignments: Iterable[str]) -> dict[str, str]:
    """Repeated `Name=value` options; the last one of a name wins, as on most command lines."""
    return dict(parse(a) for a in assignments)


def parse_per_service(assignments: Iterable[str]) -> dict[str, dict[str, str]]:
    """Repeated `service:Name=value` options -> {service: {Name: value}}."""
    found: dict[str, dict[str, str]] = {}
    for assignment in assignments:
        service, colon, rest = assignment.partition(":")
        if not colon or not service.strip() or "=" in service:
            raise ParameterError(f"--parameter {assignment!r}: expected service:Name=value")
        name, value = parse(rest)
        found.setdefault(service.strip(), {})[name] = value
    return found


def check(template: Mapping[str, Any], overrides: Mapping[str, str], where: str) -> None:
    """Raise ParameterError naming every override the template does not declare (or reserves)."""
    declared = set(template.get("Parameters", {}) or {})
    reserved = sorted(set(overrides) & RESERVED)
    if reserved:
        raise ParameterError(f"{where}: {', '.join(reserved)} cannot be overridden (set by rocket)")
    unknown = sorted(set(overrides) - declared)
    if unknown:
        settable = ", ".join(sorted(declared - RESERVED)) or "none"
        raise ParameterError(
            f"{where}: unknown parameter {', '.join(unknown)} (declared: {settable})"
        )
