"""Generated statements: every date and amount is read back exactly or quarantined with a why.

Seeded, so a failure names its seed and reproduces; no value may come back different.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from etl_layers.transform import TransformResult

Rows = Callable[[TransformResult], list[dict[str, Any]]]
SEPARATORS = ("/", "-", ".")
# The statements are Latin-1, which has no U+2212 minus: test_amounts has it, in UTF-8.
SIGNS = ("-{}", "{}-", "({})", "R$ -{}", " - R$ {}", "-R$ {}", "{} D", "R$ {}D")
CREDITS = ("+{}", "+R$ {}", "R$ +{}", "{} C", "R$ {}C")


def _comma_amount(cents: int, rng: random.Random) -> str:
    units, rest = divmod(abs(cents), 100)
    text = f"{units:,}".replace(",", ".") + f",{rest:02d}"
    if rng.random() < 0.5:
        text = "R$ " + text
    if cents < 0:
        text = rng.choice(SIGNS).format(text.removeprefix("R$ "))
    elif rng.random() < 0.2:
        text = rng.choice(CREDITS).format(text.removeprefix("R$ "))
    return text


def _render(day: date, form: str, sep: str) -> str:
    if form == "iso":
        return day.isoformat()
    if form == "yy-MM-dd":
        return f"{day.year % 100:02d}-{day.month:02d}-{day.day:02d}"
    year = f"{day.year % 100:02d}" if form.endswith("yy") else str(day.year)
    first, second = (day.day, day.month) if form.startswith("dd") else (day.month, day.day)
    return sep.join((f"{first:02d}", f"{second:02d}", year))


def _statement(seed: int) -> tuple[str, dict[int, tuple[str, float]]]:
    rng = random.Random(seed)
    form = rng.choice(("iso", "dd/MM/yyyy", "dd/MM/yy", "MM/dd/yyyy", "yy-MM-dd"))
    sep = rng.choice(SEPARATORS)
    low = date(1970, 1, 1) if "yy-" in form or form.endswith("yy") else date(1900, 1, 1)
    lines, expected = ["id;descrição;valor;data;categoria"], {}
    for i in range(1, 41):
        day = low + timedelta(days=rng.randrange((date(2026, 11, 1) - low).days))
        if i == 1:
            day = day.replace(day=25)  # proves the order of the numeric forms
        cents = rng.randrange(-10_000_000, 10_000_000)
        lines.append(f"{i};LANC {i};{_comma_amount(cents, rng)};{_render(day, form, sep)};C")
        expected[i] = (day.isoformat(), cents / 100)
    return "\r\n".join(lines) + "\r\n", expected


@pytest.mark.parametrize("seed", range(12))
def test_generated_values_round_trip_or_are_quarantined_with_a_reason(
    run_transform: Any, trusted_of: Rows, quarantine_of: Rows, seed: int
) -> None:
    content, expected = _statement(seed)
    result = run_transform(content.encode("latin-1"))
    for row in trusted_of(result):
        assert (row["date"], row["amount"]) == expected[row["id"]], (seed, row)
    for row in quarantine_of(result):
        assert row["error"], (seed, row)
    read = {r["id"] for r in trusted_of(result)}
    quarantined = {int(json.loads(r["raw_record"])["id"]) for r in quarantine_of(result)}
    assert read | quarantined == set(expected)
    assert len(read) >= 30, seed  # not a rule that quarantines everything
