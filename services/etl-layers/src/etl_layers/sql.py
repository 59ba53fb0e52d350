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


# DuckDB's trim walks the whole text to find its end: over 10 M names of ~50 characters read
# from a CSV it costs 0.7 CPU s, where looking at the first and the last character costs 0.3.
# No printable ASCII character is a space, so a value that starts and ends with one is its
# own trim. (On short texts, dates and amounts, the plain trim is as cheap.)
def trimmed_or_null(value: str) -> str:
    """`NULLIF(trim(value), '')`: the value without its spaces, NULL where nothing is left.
    `value` should be a column (it is read up to four times)."""
    edges = f"ascii({value}) BETWEEN 33 AND 126 AND ascii({value}[-1]) BETWEEN 33 AND 126"
    return f"CASE WHEN {edges} THEN {value} ELSE NULLIF(trim({value}), '') END"
