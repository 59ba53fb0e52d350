"""The SQL helpers give the same values as the plain DuckDB functions they stand for."""

from __future__ import annotations

import duckdb
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


def test_trimmed_or_null_is_nullif_trim_for_every_edge() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[v] for v in TEXTS])
    rows = con.execute(f"SELECT v, {trimmed_or_null('v')}, NULLIF(trim(v), '') FROM t").fetchall()
    assert [(v, got) for v, got, _ in rows] == [(v, want) for v, _, want in rows]
    # The texts with spaces at an end did lose them (the guard is not always taken).
    assert ("  Descrição  ", "Descrição") in [(v, got) for v, got, _ in rows]
    assert ("\u00a0R$ 1,00\u00a0", "R$ 1,00") in [(v, got) for v, got, _ in rows]
