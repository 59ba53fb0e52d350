"""Statement headers as banks write them: accents, case, spaces and units do not matter."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from etl_layers.readers import UnreadableFileError, normalize_header
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


def test_latin1_accent_after_the_first_64_kib(run_transform: Any, trusted_of: Rows) -> None:
    # A long statement whose first accented byte comes late: every row must still be read.
    rows = [f"{i};02/01/2024;PIX RECEBIDO {i:06d};10,00;Pix\r\n" for i in range(1, 3001)]
    rows.append("9999;03/01/2024;PAGAMENTO CARTÃO CRÉDITO;1.234,56;Cartão\r\n")
    content = "ID;Data Lançamento;Descricao;Valor;Categoria\r\n".replace("ç", "c") + "".join(rows)
    data = content.encode("latin-1")
    assert data.find("Ã".encode("latin-1")) > 64 * 1024
    result = run_transform(data)
    assert result.read.encoding == "latin-1"
    assert (result.rows_in, result.rows_out, result.rows_quarantined) == (3001, 3001, 0)
    (card,) = [r for r in trusted_of(result) if r["id"] == 9999]
    assert (card["name"], card["amount"], card["category"]) == (
        "PAGAMENTO CARTÃO CRÉDITO",
        1234.56,
        "Cartão",
    )


@pytest.mark.parametrize("name", ["statement.json", "statement.ndjson"])
def test_json_keys_are_folded_like_csv_headers(
    run_transform: Any, trusted_of: Rows, name: str
) -> None:
    records = [
        {
            "ID": 1,
            "Data Lançamento": "02/01/2024",
            "Descrição": "PIX ENVIADO MARIA JOSÉ",
            "Valor (R$)": "150,00",
            "Categoria": "Transferência",
        },
        # A key only later records carry, in another case: still the same column.
        {
            "id": 2,
            "DATA LANÇAMENTO": "03/01/2024",
            "descrição": "PAGTO CONTA LUZ",
            "valor": "89,90",
        },
    ]
    if name.endswith(".ndjson"):
        content = "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n"
    else:
        content = json.dumps(records, ensure_ascii=False)
    rows = sorted(trusted_of(run_transform(content, name=name)), key=lambda r: r["id"])
    assert [(r["name"], r["amount"], r["date"], r["category"]) for r in rows] == [
        ("PIX ENVIADO MARIA JOSÉ", 150.0, "2024-01-02", "Transferência"),
        ("PAGTO CONTA LUZ", 89.9, "2024-01-03", "UNCATEGORIZED"),
    ]


def test_a_card_statement_s_two_amount_columns_read_the_dataset_s_currency(
    run_transform: Any, trusted_of: Rows
) -> None:
    """Card statements write each purchase in dollars and in reais: both headers fold to
    `valor`, and the unit says which is the dataset's."""
    content = (
        "ID;Data;Descrição;Valor (US$);Valor (R$);Categoria\r\n"
        "1;02/01/2024;AMAZON US;10,00;52,30;Compras\r\n"
        "2;03/01/2024;PADARIA;0,00;12,50;Alimentação\r\n"
    )
    result = run_transform(content)
    assert sorted((r["id"], r["amount"]) for r in trusted_of(result)) == [(1, 52.3), (2, 12.5)]
    assert "Valor (US$)" in result.read.ignored_columns


def test_two_headers_for_one_column_that_nothing_tells_apart_refuse_the_file(
    run_transform: Any,
) -> None:
    from etl_layers.readers import UnreadableFileError

    with pytest.raises(UnreadableFileError) as refused:
        run_transform("ID;Data;Valor;VALOR;Categoria\r\n1;02/01/2024;1,00;2,00;X\r\n")
    assert refused.value.reason == (
        "the header has 2 columns that read as amount ('Valor', 'VALOR'): rename or drop all "
        "but one in the export"
    )


PREAMBLE = (
    "Extrato de Conta Corrente\r\n"
    "Agência: 1234;Conta: 56789-0\r\n"
    "Período: 01/01/2024 a 31/01/2024\r\n"
    "\r\n"
    "ID;Data Lançamento;Descrição;Valor (R$);Categoria\r\n"
    "1;02/01/2024;PIX ENVIADO;-150,00;Transferência\r\n"
    "2;03/01/2024;TED RECEBIDA;1.234,56;Renda\r\n"
    "3;04/01/2024;TARIFA;12,00;Tarifas;extra\r\n"
)


def test_lines_above_the_header_are_skipped(
    run_transform: Any, trusted_of: Rows, quarantine_of: Rows
) -> None:
    """Statements put the account and the period above the header; the header is the first
    line naming every required column, and rejected rows keep the file's own line numbers."""
    result = run_transform(PREAMBLE.encode("latin-1"))
    assert result.read.header_line == 5
    rows = [(r["id"], r["date"], r["name"], r["amount"]) for r in trusted_of(result)]
    assert rows == [
        (1, "2024-01-02", "PIX ENVIADO", -150.0),
        (2, "2024-01-03", "TED RECEBIDA", 1234.56),
    ]
    (reject,) = quarantine_of(result)
    assert (reject["line"], reject["failed_rules"]) == (8, "reader:too_many_columns")


def test_a_file_whose_first_lines_name_no_header_says_what_its_first_line_holds(
    run_transform: Any,
) -> None:
    with pytest.raises(
        UnreadableFileError, match=r"header lacks required columns .*'Extrato de Conta"
    ):
        run_transform(PREAMBLE.replace("ID;", "Código;").encode("latin-1"))


BRADESCO = (
    "Extrato de: Agência: 1234 | Conta: 56789-0\r\n"
    "Data;Histórico;Docto.;Crédito (R$);Débito (R$);Saldo (R$);ID\r\n"
    "02/01/2024;PIX RECEBIDO;123;1.500,00;;1.500,00;1\r\n"
    "03/01/2024;PAGTO BOLETO;124;;89,90;1.410,10;2\r\n"
    "04/01/2024;ESTORNO;125;10,00;5,00;1.415,10;3\r\n"
    "05/01/2024;TARIFA;126;;-2,00;1.413,10;4\r\n"
)


def test_credit_and_debit_columns_are_one_amount(
    run_transform: Any, trusted_of: Rows, quarantine_of: Rows
) -> None:
    """A credit as written, a debit as its negative; a row with both, or a debit written with
    its own sign, is no amount anyone can be sure of: it fails, showing both texts."""
    result = run_transform(BRADESCO.encode("latin-1"))
    rows = [(r["id"], r["name"], r["amount"]) for r in trusted_of(result)]
    assert rows == [(1, "PIX RECEBIDO", 1500.0), (2, "PAGTO BOLETO", -89.9)]
    errors = {json.loads(r["raw_record"])["id"]: r["error"] for r in quarantine_of(result)}
    assert errors["3"].startswith("amount credit 10,00 and debit 5,00 is not a number")
    assert errors["4"].startswith("amount --2,00 is not a number")
    assert "Saldo (R$)" in result.read.ignored_columns


def test_credit_and_debit_columns_of_a_workbook(run_transform: Any, trusted_of: Rows) -> None:
    import io

    import openpyxl  # type: ignore[import-untyped]

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Data", "Histórico", "Crédito", "Débito", "ID"])
    sheet.append(["02/01/2024", "PIX", 1500.5, None, 1])
    sheet.append(["03/01/2024", "BOLETO", None, 89.9, 2])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = run_transform(buffer.getvalue(), name="extrato.xlsx")
    assert [(r["id"], r["amount"]) for r in trusted_of(result)] == [(1, 1500.5), (2, -89.9)]


def test_a_workbook_s_number_cell_beside_a_blank_text_cell_stays_a_number(
    run_transform: Any, trusted_of: Rows
) -> None:
    """A debit cell holding the number 5.899 beside a credit cell holding blank text is a
    number, also in a workbook whose text amounts are in decimal comma (not 5899)."""
    import io

    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Data", "Histórico", "Crédito", "Débito", "ID"])
    sheet.append(["02/01/2024", "PIX", "R$ 1.500,50", None, 1])
    sheet.append(["03/01/2024", "BOLETO", " ", 5.899, 2])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = run_transform(buffer.getvalue(), name="extrato.xlsx")
    assert result.decimal.comma
    assert [(r["id"], r["amount"]) for r in trusted_of(result)] == [(1, 1500.5), (2, -5.899)]


def test_a_header_naming_the_amount_itself_does_not_read_credits(
    run_transform: Any, trusted_of: Rows
) -> None:
    result = run_transform("Data;Valor;Crédito;ID\r\n02/01/2024;-5,00;7,00;1\r\n")
    assert [r["amount"] for r in trusted_of(result)] == [-5.0]


CAIXA = (
    "Data Mov.;Nr. Doc.;Histórico;Valor;Deb/Cred;ID\r\n"
    "02/01/2024;000123;CRED PIX;1.500,00;C;1\r\n"
    "03/01/2024;000124;PAG BOLETO;89,90;D;2\r\n"
    "04/01/2024;000125;TARIFA;-2,00;D;3\r\n"
    "05/01/2024;000126;ESTORNO;-5,00;C;4\r\n"
    "06/01/2024;000127;SALDO DIA;1.403,10;S;5\r\n"
    "07/01/2024;000128;AJUSTE;1,00;;6\r\n"
)


def test_a_debit_or_credit_mark_beside_the_amount_is_its_sign(
    run_transform: Any, trusted_of: Rows, quarantine_of: Rows
) -> None:
    """Caixa writes amounts unsigned and `D`/`C` beside them: read alone, every debit would be
    a credit. A debit written with its minus is the same debit; a credit written negative, or
    a mark that is neither, fails showing both."""
    result = run_transform(CAIXA.encode("latin-1"))
    rows = [(r["id"], r["amount"]) for r in trusted_of(result)]
    assert rows == [(1, 1500.0), (2, -89.9), (3, -2.0), (6, 1.0)]
    errors = {json.loads(r["raw_record"])["id"]: r["error"] for r in quarantine_of(result)}
    assert errors["4"].startswith("amount credit -5,00 is not a number")
    assert errors["5"].startswith("amount 1.403,10 marked S is not a number")


def test_entrada_and_saida_marks_of_a_workbook(run_transform: Any, trusted_of: Rows) -> None:
    import io

    import openpyxl  # type: ignore[import-untyped]

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Data", "Lançamento", "Valor", "Tipo Lançamento", "ID"])
    sheet.append(["02/01/2024", "PIX", 1500.5, "Entrada", 1])
    sheet.append(["03/01/2024", "BOLETO", -89.9, "Saída", 2])
    sheet.append(["04/01/2024", "TARIFA", 2, "SAÍDA", 3])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = run_transform(buffer.getvalue(), name="extrato.xlsx")
    got = [(r["id"], r["amount"]) for r in trusted_of(result)]
    assert got == [(1, 1500.5), (2, -89.9), (3, -2.0)]


def test_windows_1252_statement_keeps_its_dashes_quotes_and_euro(
    run_transform: Any, trusted_of: Rows
) -> None:
    """Excel's "CSV" on Windows writes Windows-1252: its dashes, curly quotes and euro sign
    are bytes Latin-1 reads as control characters, so such a file is read as Windows-1252."""
    content = (
        "Data;Histórico;Valor (R$);ID;Categoria\r\n"
        "02/01/2024;Compra \u2013 \u201cPadaria São João\u201d;-12,50;1;Alimentação\r\n"
        "03/01/2024;Tarifa € 1,00 … ok;-1,00;2;Tarifas\r\n"
    )
    result = run_transform(content.encode("cp1252"))
    assert result.read.encoding == "windows-1252"
    assert [(r["id"], r["name"], r["amount"]) for r in trusted_of(result)] == [
        (1, "Compra \u2013 \u201cPadaria São João\u201d", -12.5),
        (2, "Tarifa € 1,00 … ok", -1.0),
    ]
