"""Arbitrary text in an amount column is read as the number it writes, or not at all.

The text is pieced together from digits, separators, signs, currency, letters DuckDB's casts
know (`e`, `x`, `_`) and spaces; a strict reading of the forms the README lists says what each
value is. Every value the service keeps must be that number: the test fails on any value kept
that the reading refuses, or kept as another number. (Refusing a value the reading takes is
allowed: a file of both forms refuses its `1.234`s.)
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
from etl_layers.transform import TransformResult

Rows = Callable[[TransformResult], list[dict[str, Any]]]
PIECES = (
    *"0129.,-+eEx_ ()DC%'",
    "12",
    "123",
    "1234",
    "R$",
    "$",
    "\u2212",
    "\u00a0",
    "0.5",
    "1.234",
    "1,234",
)
_COMMA_BODY = re.compile(r"(\d{1,3}(\.\d{3})+|\d+)(,\d+)?")
_THOUSANDS_POINT = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?")
_POINT_BODY = re.compile(r"(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _value(rng: random.Random) -> str:
    while True:
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 6)))
        if text.strip():
            return text


def reading(text: str, comma: bool) -> float | None:
    """The number `text` writes in a file of decimal commas (`comma`) or points, else None."""
    t = re.sub(r"R\$|\$|\s", "", text.replace("\u2212", "-"))
    signs = 0
    if letter := re.fullmatch(r"([\d.,]+)([DC])", t):
        t, signs = letter.group(1), int(letter.group(2) == "D")
    if re.fullmatch(r"\+[\d.]", t[:2]):
        t = t[1:]
    if re.fullmatch(r"\([\d.,]+\)|-[\d.,]+|[\d.,]+-", t):
        t, signs = t.strip("()-"), signs + 1
    if signs > 1:
        return None
    if comma:
        if not _COMMA_BODY.fullmatch(t):
            return None
        t = t.replace(".", "").replace(",", ".")
    elif _THOUSANDS_POINT.fullmatch(t):
        t = t.replace(",", "")
    elif not _POINT_BODY.fullmatch(t):
        return None
    try:
        number = Decimal(t)
    except InvalidOperation:
        return None
    return float(-number if signs else number)


@pytest.mark.parametrize("seed", range(12))
def test_arbitrary_text_is_read_as_written_or_refused(
    run_transform: Any, trusted_of: Rows, seed: int
) -> None:
    rng = random.Random(seed)
    comma = seed % 2 == 0
    decider = "2,50" if comma else "2.50"
    lines = ["id;name;amount;date;category"]
    lines += [f"{i};decider;{decider};2024-01-02;x" for i in range(10_000, 10_300)]
    values = {i: _value(rng) for i in range(1, 500)}
    lines += [f'{i};fuzz;"{v}";2024-01-02;x' for i, v in values.items()]
    result = run_transform("\n".join(lines) + "\n")
    assert result.decimal.comma is comma
    kept = {r["id"]: r["amount"] for r in trusted_of(result) if r["name"] == "fuzz"}
    wrong = {
        values[i]: (amount, reading(values[i], comma))
        for i, amount in kept.items()
        if reading(values[i], comma) != amount
    }
    assert not wrong, wrong
    assert len(kept) >= 20  # not a reading that refuses everything
