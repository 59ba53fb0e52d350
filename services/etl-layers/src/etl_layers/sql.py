"""Quoting for the SQL the service builds: identifiers and literals, in one place."""

from __future__ import annotations


def q(name: str) -> str:
    """An identifier, double-quoted."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: object) -> str:
    """A literal: booleans and numbers as themselves, anything else as a quoted string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"
