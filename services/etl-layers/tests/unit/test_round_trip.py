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


def _amount(cents: int, rng: random.Random, style: str) -> str:
    """`cents` as a statement writes it: `1.234,56` (comma), `1,234.56` (point) or, for a
    statement of whole reais, `1.234` (whole: `cents` is a multiple of 100)."""
    units, rest = divmod(abs(cents), 100)
    if style == "point":
        text = f"{units:,}.{rest:02d}"
    else:
        text = f"{units:,}".replace(",", ".") + ("" if style == "whole" else f",{rest:02d}")
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
    style = ("comma", "point", "whole")[seed % 3]
    form = rng.choice(("iso", "dd/MM/yyyy", "dd/MM/yy", "MM/dd/yyyy", "yy-MM-dd"))
    sep = rng.choice(SEPARATORS)
    low = date(1970, 1, 1) if "yy-" in form or form.endswith("yy") else date(1900, 1, 1)
    lines, expected = ["id;descrição;valor;data;categoria"], {}
    for i in range(1, 41):
        day = low + timedelta(days=rng.randrange((date(2026, 11, 1) - low).days))
        if i == 1:
            day = day.replace(day=25)  # proves the order of the numeric forms
        cents = rng.randrange(-10_000_000, 10_000_000)
        if style == "whole":
            # Mostly below a thousand, so most of the statement shows no separator at all.
            cents = rng.choice((cents, cents // 1000)) // 100 * 100
        lines.append(f"{i};LANC {i};{_amount(cents, rng, style)};{_render(day, form, sep)};C")
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
    if seed % 3 == 2:
        # Whole reais: no amount shows the separator, so exactly the amounts of a thousand
        # and more (`1.234`, a fraction with a decimal point) fail, saying why.
        assert quarantined == {i for i, (_, amount) in expected.items() if abs(amount) >= 1000}
        assert all("no number of the file decides" in r["error"] for r in quarantine_of(result))
        assert len(read) >= 10, seed
    else:
        assert len(read) >= 30, seed  # not a rule that quarantines everything
