"""Files Excel saves as "Unicode Text": UTF-16 with a byte-order mark, tab-separated, CRLF."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from typing import Any

import pytest
from etl_layers.readers import UnreadableFileError
from etl_layers.transform import TransformResult

Rows = Callable[[TransformResult], list[dict[str, Any]]]
STATEMENT = (
    "Data\tDescrição\tValor (R$)\tID\tCategoria\r\n"
    "02/01/2024\tPAGTO CONTA LUZ\t-1.234,56\t1\tCasa\r\n"
    "15/01/2024\tSALÁRIO\t5.000,00\t2\tRenda\r\n"
)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_an_excel_unicode_text_export_is_read(
    run_transform: Any, trusted_of: Rows, codec: str
) -> None:
    bom = codecs.BOM_UTF16_LE if codec == "utf-16-le" else codecs.BOM_UTF16_BE
    result = run_transform(bom + STATEMENT.encode(codec), name="extrato.txt")
    assert result.read.encoding == "utf-16"
    got = [(r["id"], str(r["date"]), r["name"], r["amount"]) for r in trusted_of(result)]
    assert got == [
        (1, "2024-01-02", "PAGTO CONTA LUZ", -1234.56),
        (2, "2024-01-15", "SALÁRIO", 5000.0),
    ]


def test_bytes_that_are_no_utf16_refuse_the_file_saying_so(run_transform: Any) -> None:
    # A lone high surrogate (D800) is no UTF-16 text.
    body = codecs.BOM_UTF16_LE + STATEMENT.encode("utf-16-le") + b"\x00\xd8A\x00"
    with pytest.raises(UnreadableFileError, match="byte-order mark, but its bytes near byte"):
        run_transform(body, name="extrato.txt")
