"""Line endings as hand-edited exports have them, and reasons without engine internals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import pytest
from etl_layers.readers import FileFormat, engine_reason
from etl_layers.transform import TransformResult

Rows = Callable[[TransformResult], list[dict[str, Any]]]
HEADER = "id;descrição;valor;data;categoria"
ROWS = ("1;PIX RECEBIDO;1.500,00;02/01/2024;Pix", "2;TARIFA DOC;8,50;03/01/2024;Tarifas")


@pytest.mark.parametrize(
    "content",
    [
        HEADER + "\n" + "\r\n".join(ROWS) + "\r\n",  # header saved by one editor, rows by another
        HEADER + "\r" + "\r".join(ROWS) + "\r",  # classic Mac
        HEADER + "\r\n" + ROWS[0] + "\n" + ROWS[1] + "\r\n",
    ],
)
def test_mixed_and_cr_only_line_endings_are_read(
    run_transform: Any, trusted_of: Rows, content: str
) -> None:
    result = run_transform(content.encode("latin-1"))
    rows = sorted(trusted_of(result), key=lambda r: r["id"])
    assert [(r["id"], r["name"], r["amount"], r["category"]) for r in rows] == [
        (1, "PIX RECEBIDO", 1500.0, "Pix"),
        (2, "TARIFA DOC", 8.5, "Tarifas"),
    ]


@pytest.mark.parametrize(
    "message",
    [
        "Invalid Input Error: The CSV Parser state machine reached an invalid state.\n"
        "Possible fixes:\n  file = /tmp/etl-abc/raw/statement.csv\n",
        'Invalid Input Error: Error in file "/tmp/etl-abc/raw/statement.csv": bad bytes\n',
    ],
)
def test_reasons_carry_no_engine_internals_or_local_paths(message: str) -> None:
    reason = engine_reason(FileFormat.CSV, duckdb.InvalidInputException(message))
    assert reason.startswith("csv file ")
    assert "/tmp" not in reason
    assert "Possible fixes" not in reason
    assert "Invalid Input Error" not in reason


def test_line_endings_that_change_after_the_first_64_kib_are_read(
    run_transform: Any, trusted_of: Rows
) -> None:
    # An export appended to by hand: a long LF part, then rows saved by another editor.
    early = [f"{n};PIX RECEBIDO {n:05d};1.500,00;02/01/2024;Pix" for n in range(3, 2003)]
    content = HEADER + "\n" + "\n".join(early) + "\n" + "\r\n".join(ROWS) + "\r\n"
    assert content.index("\r\n") > 64 * 1024
    rows = {r["id"]: r for r in trusted_of(run_transform(content.encode("latin-1")))}
    assert len(rows) == 2002
    assert (rows[2]["name"], rows[2]["amount"], rows[2]["category"]) == (
        "TARIFA DOC",
        8.5,
        "Tarifas",
    )
    assert {r["category"] for r in rows.values()} == {"Pix", "Tarifas"}
