"""Statement headers as banks write them: accents, case, spaces and units do not matter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from etl_layers.readers import normalize_header
from etl_layers.transform import TransformResult

Rows = Callable[[TransformResult], list[dict[str, Any]]]


@pytest.mark.parametrize(
    ("header", "normal"),
    [
        ("Descrição", "descricao"),
        ("DESCRIÇÃO", "descricao"),
        ("Data Lançamento", "data_lancamento"),
        ("Valor (R$)", "valor"),
        (" Histórico ", "historico"),
        ("Categoria.", "categoria"),
    ],
)
def test_headers_are_folded(header: str, normal: str) -> None:
    assert normalize_header(header) == normal


def test_latin1_statement_with_accented_headers(run_transform: Any, trusted_of: Rows) -> None:
    content = (
        "ID;Data Lançamento;Descrição;Valor (R$);Categoria\r\n"
        "1;02/01/2024;PIX ENVIADO MARIA JOSÉ;150,00;Transferência\r\n"
        "2;03/01/2024;PAGTO CONTA LUZ;89,90;Serviços\r\n"
    ).encode("latin-1")
    result = run_transform(content)
    rows = sorted(trusted_of(result), key=lambda r: r["id"])
    assert [(r["name"], r["amount"], r["date"], r["category"]) for r in rows] == [
        ("PIX ENVIADO MARIA JOSÉ", 150.0, "2024-01-02", "Transferência"),
        ("PAGTO CONTA LUZ", 89.9, "2024-01-03", "Serviços"),
    ]
    assert all("defaulted:name" not in r["quality_flags"] for r in rows)
