"""Formats the contracts use are checked, whatever optional libraries are installed."""

from __future__ import annotations

import pytest
from rocket_contracts.validation import CHECKED_FORMATS, errors


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        ("date-time", "2026-11-22T03:00:00Z", "2026-11-22T03:00:00"),
        ("date", "2026-11-22", "22/11/2026"),
        ("uri", "https://schemas.rocket.dev/ingest/job-requested.v1.json", "not a uri"),
    ],
)
def test_format_is_checked(fmt: str, good: str, bad: str) -> None:
    schema = {"type": "string", "format": fmt}

    assert fmt in CHECKED_FORMATS
    assert errors(schema, good) == []
    assert errors(schema, bad) == [f"$: {bad!r} is not a {fmt!r}"]


def test_errors_are_ordered_and_placed_under_the_given_path() -> None:
    schema = {
        "type": "object",
        "required": ["a", "b"],
        "properties": {"b": {"type": "integer"}, "c": {"type": "string"}},
    }

    assert errors({**schema}, {"b": "x", "c": 1}, at="$.data") == [
        "$.data: 'a' is a required property",
        "$.data.b: 'x' is not of type 'integer'",
        "$.data.c: 1 is not of type 'string'",
    ]
