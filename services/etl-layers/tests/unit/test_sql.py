"""The SQL helpers give the same values as the plain DuckDB expressions they stand for."""

from __future__ import annotations

from typing import Any

import duckdb
from etl_layers.dates import iso_expr
from etl_layers.sql import trimmed_or_null

TEXTS = [
    "",
    " ",
    "   ",
    "a",
    " a",
    "a ",
    "  Descrição  ",
    "\u00a0R$ 1,00\u00a0",
    "\u2003x",
    "x\u3000",
    "\tTab\t",
    "line\r",
    "é",
    "café",
    "~!",
    "\x7fdel",
    "Transaction 1 customer c4ca4238a0b923820dcc509a",
    None,
]


def _both(values: list[str | None], helper: str, plain: str) -> list[tuple[str | None, Any]]:
    """Each value with what `helper` gives for it, once asserted the same as `plain` gives
    (both SQL over a column `v`)."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t (v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[v] for v in values])
    rows = con.execute(f"SELECT v, {helper}, {plain} FROM t").fetchall()
    assert [(v, got) for v, got, _ in rows] == [(v, want) for v, _, want in rows]
    return [(v, got) for v, got, _ in rows]


def test_trimmed_or_null_is_nullif_trim_for_every_edge() -> None:
    rows = _both(TEXTS, trimmed_or_null("v"), "NULLIF(trim(v), '')")
    # The texts with spaces at an end did lose them (the guard is not always taken).
    assert ("  Descrição  ", "Descrição") in rows
    assert ("\u00a0R$ 1,00\u00a0", "R$ 1,00") in rows


DATE_STARTS = [
    "2024-01-02",
    "2024-1-2",
    "2024-",
    " 2024-01-02",
    "202-01-02",
    "20245-01-02",
    "2024/01/02",
    "02/01/2024",
    "\u0662\u0660\u0662\u0664-01-02",  # Arabic-Indic digits are no \d to RE2
    "\uff12\uff10\uff12\uff14-01-02",  # nor are fullwidth ones
    "2024-01-02\n",
    "",
    None,
]


def test_the_iso_check_is_the_regex_it_stands_for() -> None:
    rows = _both(DATE_STARTS, iso_expr("v"), "regexp_matches(v, '^\\d{4}-')")
    assert [v for v, got in rows if got] == ["2024-01-02", "2024-1-2", "2024-", "2024-01-02\n"]
