"""Amounts as statements write them: currency sign, decimal comma, signs in three places."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from etl_layers.datasets import DecimalSeparator
from etl_layers.transform import TransformResult

Rows = Callable[[TransformResult], list[dict[str, Any]]]
STATEMENT = "Data;Histórico;Valor (R$);ID;Categoria\r\n"


@pytest.mark.parametrize(
    ("value", "amount"),
    [
        (" - R$ 1,00", -1.0),
        ("R$ -1.234,56", -1234.56),
        ("-R$ 10,00", -10.0),
        ("1.234,56-", -1234.56),
        ("(1.234,56)", -1234.56),
        ("R$ 1.234.567,89", 1234567.89),
        ("R$\u00a0250,00", 250.0),
        ("0,01", 0.01),
        ("1.234", 1234.0),
        # A credit's plus, and the minus sign of spreadsheets and PDF conversions (U+2212).
        ("+R$ 10,00", 10.0),
        ("R$ +1.234,56", 1234.56),
        ("+0,50", 0.5),
        ("\u22121.234,56", -1234.56),
        ("R$ \u221210,00", -10.0),
        # Debit and credit letters after the amount, as Banco do Brasil's statements write.
        ("1.234,56 D", -1234.56),
        ("50,00 C", 50.0),
        ("R$ 10,00 D", -10.0),
        ("0,99D", -0.99),
    ],
)
def test_decimal_comma_amounts_with_currency_and_sign(
    run_transform: Any, trusted_of: Rows, value: str, amount: float
) -> None:
    result = run_transform(
        STATEMENT + f"02/01/2024;TARIFA;R$ 5,00;1;Tarifas\r\n03/01/2024;X;{value};2;Outros\r\n"
    )
    assert result.decimal.comma
    got = {r["id"]: r["amount"] for r in trusted_of(result)}
    assert got == {1: 5.0, 2: amount}


@pytest.mark.parametrize(
    "value",
    [
        "1.5",
        "1,2,3",
        "R$ 1.23,4",
        "12,34,56",
        "--1,00",
        "1,00 BRL",
        "+-1,00",
        "++1,00",
        "1,00+",
        "-1,00 D",
        "1,00 DC",
        "1,00 d",
    ],
)
def test_a_number_in_another_shape_is_quarantined_with_the_expected_format(
    run_transform: Any, quarantine_of: Rows, value: str
) -> None:
    result = run_transform(
        STATEMENT
        + "02/01/2024;TARIFA;R$ 5,00;1;Tarifas\r\n"
        + "02/01/2024;PIX;R$ 15,00;3;Pix\r\n"
        + f"03/01/2024;X;{value};2;Outros\r\n"
    )
    (row,) = quarantine_of(result)
    assert row["failed_rules"] == "type:amount"
    assert row["error"] == (
        f"amount {value.strip()} is not a number as 1.234,56 (decimal comma, as the file is read)"
    )


def test_dot_decimal_file_with_signs(run_transform: Any, trusted_of: Rows) -> None:
    result = run_transform(
        "id,name,amount,date,category\n"
        '1,A,"$1,234.50",2024-01-02,S\n'
        "2,B,(12.50),2024-01-02,S\n"
        "3,C,7.25-,2024-01-02,S\n"
        '4,D,"+$1,000.00",2024-01-02,S\n'
        "5,E,\u22120.75,2024-01-02,S\n"
    )
    assert not result.decimal.comma
    assert sorted((r["id"], r["amount"]) for r in trusted_of(result)) == [
        (1, 1234.5),
        (2, -12.5),
        (3, -7.25),
        (4, 1000.0),
        (5, -0.75),
    ]


def test_the_decimal_style_is_decided_from_the_whole_file(
    run_transform: Any, trusted_of: Rows
) -> None:
    # 300 rows of whole amounts with a thousands dot, then the first one with cents: only
    # that late row shows the file writes decimal commas, so 1.500 is fifteen hundred.
    early = "".join(f"02/01/2024;TED {n};1.500;{n};Ted\r\n" for n in range(1, 301))
    result = run_transform(STATEMENT + early + "03/01/2024;TARIFA;2,50;301;Tarifas\r\n")
    amounts = {r["id"]: r["amount"] for r in trusted_of(result)}
    assert len(amounts) == 301
    assert set(amounts[n] for n in range(1, 301)) == {1500.0}
    assert amounts[301] == 2.5


def test_a_file_writing_both_decimal_styles_quarantines_the_amounts_it_cannot_decide(
    run_transform: Any, trusted_of: Rows, quarantine_of: Rows
) -> None:
    # Two exports pasted together: a decimal-point part, then a decimal-comma one. 1,250 is
    # 1250 in the first style and 1.25 in the second: it is not guessed.
    early = "".join(f"{n},PAYMENT {n},10.50,2024-01-02,S\n" for n in range(1, 301))
    result = run_transform(
        "id,name,amount,date,category\n" + early + '301,TAXA,"7,5",2024-01-03,T\n'
        '302,TAXA,"1,250",2024-01-03,T\n303,TAXA,42,2024-01-03,T\n'
    )
    amounts = {r["id"]: r["amount"] for r in trusted_of(result)}
    assert set(amounts) == set(range(1, 301)) | {303}
    assert set(amounts[n] for n in range(1, 301)) == {10.5}
    errors = {json.loads(r["raw_record"])["id"]: r["error"] for r in quarantine_of(result)}
    assert errors == {
        "301": "amount 7,5 is not a number as 1,234.56 (decimal point, as the file is read)",
        "302": "amount 1,250 could be read either way: the file writes numbers both as "
        "1,234.56 (such as 10.50) and as 1.234,56 (such as 7,5)",
    }


@pytest.mark.parametrize("value", ["1.5", "2.50"])
def test_a_fraction_in_a_whole_number_column_is_quarantined_not_rounded(
    run_transform: Any, trusted_of: Rows, quarantine_of: Rows, value: str
) -> None:
    result = run_transform(
        f"id,name,amount,date,category\n{value},A,1.00,2024-01-02,S\n12.00,B,2.00,2024-01-02,S\n"
    )
    assert [r["id"] for r in trusted_of(result)] == [12]
    (row,) = quarantine_of(result)
    assert (row["failed_rules"], row["error"]) == ("type:id", f"id {value} is not a whole number")


def test_an_amount_that_is_no_finite_number_is_quarantined_not_stored_as_infinity(
    run_transform: Any, trusted_of: Rows, quarantine_of: Rows
) -> None:
    """DuckDB casts `inf`, `nan`, `-Infinity` and `1e400` to infinities and NaN: TRUSTED and
    the day's totals would hold them."""
    result = run_transform(
        "id,name,amount,date,category\n"
        "1,A,10.50,2024-01-02,S\n"
        "2,B,1e400,2024-01-02,S\n"
        "3,C,inf,2024-01-02,S\n"
        "4,D,nan,2024-01-02,S\n"
        "5,E,-Infinity,2024-01-02,S\n"
        "6,F,1e308,2024-01-02,S\n"
    )
    assert sorted((r["id"], r["amount"]) for r in trusted_of(result)) == [(1, 10.5), (6, 1e308)]
    quarantined = {json.loads(r["raw_record"])["id"]: r for r in quarantine_of(result)}
    assert sorted(quarantined) == ["2", "3", "4", "5"]
    assert {r["failed_rules"] for r in quarantined.values()} == {"type:amount"}
    assert quarantined["2"]["error"].startswith("amount 1e400 is not a number")


def test_a_json_number_past_a_double_is_quarantined(
    run_transform: Any, trusted_of: Rows, quarantine_of: Rows
) -> None:
    tail = '"paid_at": "2024-03-01T10:00:00Z", "method": "PIX", "currency": "BRL"'
    result = run_transform(
        '{"payment_id": "p1", "merchant_id": 1, "amount": 10.5, ' + tail + "}\n"
        '{"payment_id": "p2", "merchant_id": 1, "amount": 1e400, ' + tail + "}\n",
        name="pix.ndjson",
        dataset="payments",
    )
    assert [r["payment_id"] for r in trusted_of(result)] == ["p1"]
    (row,) = quarantine_of(result)
    assert json.loads(row["raw_record"])["payment_id"] == "p2"
    assert row["failed_rules"] == "type:amount"


@pytest.mark.parametrize("value", ["US$ 10,00", "US$10,00", "-US$ 1.234,56", "€ 5,00", "10,00 €"])
def test_an_amount_in_a_currency_the_dataset_does_not_declare_is_quarantined(
    run_transform: Any, trusted_of: Rows, quarantine_of: Rows, value: str
) -> None:
    # A card statement in reais with one purchase abroad: the dollar amount is no amount in
    # reais, so it is not read as one with its sign dropped.
    result = run_transform(
        STATEMENT
        + "02/01/2024;TARIFA;R$ 5,00;1;Tarifas\r\n"
        + f"03/01/2024;COMPRA EXTERIOR;{value};2;Compras\r\n"
    )
    assert [r["id"] for r in trusted_of(result)] == [1]
    (row,) = quarantine_of(result)
    assert (row["failed_rules"], row["error"]) == (
        "type:amount",
        f"amount {value} is in a currency the dataset does not declare (it reads R$, $)",
    )


def test_a_dataset_declares_the_currency_signs_it_reads(
    run_transform: Any, datasets: Any, trusted_of: Rows, quarantine_of: Rows
) -> None:
    spec = datasets.get("transactions").model_copy(update={"currency": ("US$",)})
    result = run_transform(
        "id,name,amount,date,category\n"
        '1,A,"US$ 1,234.50",2024-01-02,S\n'
        "2,B,US$-7.25,2024-01-02,S\n"
        "3,C,R$ 10.00,2024-01-02,S\n",
        spec=spec,
    )
    assert sorted((r["id"], r["amount"]) for r in trusted_of(result)) == [(1, 1234.5), (2, -7.25)]
    (row,) = quarantine_of(result)
    assert (
        row["error"]
        == "amount R$ 10.00 is in a currency the dataset does not declare (it reads US$)"
    )


def test_a_whole_number_past_a_bigint_says_so(run_transform: Any, quarantine_of: Rows) -> None:
    result = run_transform(
        "id,name,amount,date,category\n"
        "1,A,1.00,2024-01-02,S\n"
        "99999999999999999999,B,2.00,2024-01-02,S\n"
        "-9223372036854775809,C,3.00,2024-01-02,S\n"
    )
    errors = sorted(r["error"] for r in quarantine_of(result))
    assert errors == [
        f"id {value} is past a bigint's range (-9223372036854775808 to 9223372036854775807): "
        "declare the column a double or a string"
        for value in ("-9223372036854775809", "99999999999999999999")
    ]


UNDECIDED = (
    "Data;Histórico;Valor (R$);ID\r\n02/01/2024;PIX;R$ 1.234;1\r\n03/01/2024;TED;R$ 50;2\r\n"
)


@pytest.mark.parametrize("value", ["R$ 1.234", "1,234", "-2.500", "5.899"])
def test_a_file_no_number_of_which_decides_the_separator_fails_its_ambiguous_amounts(
    run_transform: Any, trusted_of: Rows, quarantine_of: Rows, value: str
) -> None:
    """A statement of whole reais writes `R$ 1.234` for a thousand; a price list `5.899` for a
    fraction. With no `2,50` or `2.50` in the file to say which, a guess is a thousand times
    off for one of them: the value fails, saying so."""
    result = run_transform(UNDECIDED.replace("R$ 1.234", value))
    assert result.decimal.undecided
    assert [(r["id"], r["amount"]) for r in trusted_of(result)] == [(2, 50.0)]
    (row,) = quarantine_of(result)
    assert (row["failed_rules"], row["error"]) == (
        "type:amount",
        f"amount {value} could be read either way (1.234,56 or 1,234.56), and no number of "
        "the file decides which: declare the dataset's decimal (comma or point)",
    )


@pytest.mark.parametrize(("decimal", "amount"), [("comma", 1234.0), ("point", 1.234)])
def test_a_dataset_declares_the_separator_of_files_that_do_not_show_it(
    run_transform: Any, datasets: Any, trusted_of: Rows, decimal: str, amount: float
) -> None:
    spec = datasets.get("transactions").model_copy(update={"decimal": DecimalSeparator(decimal)})
    result = run_transform(UNDECIDED, spec=spec)
    assert result.decimal.describe()["decided_by"] == "declared"
    assert [(r["id"], r["amount"]) for r in trusted_of(result)] == [(1, amount), (2, 50.0)]


def test_the_values_decide_before_the_declared_separator(
    run_transform: Any, datasets: Any, trusted_of: Rows
) -> None:
    spec = datasets.get("transactions").model_copy(update={"decimal": DecimalSeparator.POINT})
    result = run_transform(UNDECIDED + "04/01/2024;DOC;R$ 2,50;3\r\n", spec=spec)
    assert result.decimal.describe()["decided_by"] == "values"
    amounts = [(r["id"], r["amount"]) for r in trusted_of(result)]
    assert amounts == [(1, 1234.0), (2, 50.0), (3, 2.5)]


SCIENTIFIC = (
    "is in scientific notation, as a spreadsheet writes a long number it has rounded: "
    "export the column as text"
)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("0x10", "is not a whole number"),
        ("0b101", "is not a whole number"),
        ("1_000", "is not a whole number"),
        ("1e3", SCIENTIFIC),
        ("1E-3", SCIENTIFIC),
        ("1.23457E+15", SCIENTIFIC),
    ],
)
def test_a_bigint_is_digits_as_written(
    run_transform: Any, trusted_of: Rows, quarantine_of: Rows, value: str, reason: str
) -> None:
    """DuckDB's cast reads `0x10` as 16, `1_000` as 1000 and `1e-3` as 0; a spreadsheet's
    `1.23457E+15` is a 16-digit id rounded to six digits. None is the id the export meant."""
    result = run_transform(
        f"id,name,amount,date,category\n1,A,1.00,2024-01-02,S\n{value},B,2.00,2024-01-02,S\n"
    )
    assert [r["id"] for r in trusted_of(result)] == [1]
    (row,) = quarantine_of(result)
    assert (row["failed_rules"], row["error"]) == ("type:id", f"id {value} {reason}")


@pytest.mark.parametrize(
    ("value", "amount"), [("1e3", 1000.0), ("2.5E-1", 0.25), ("-1.5e2", -150.0)]
)
def test_a_double_in_scientific_notation_is_read(
    run_transform: Any, trusted_of: Rows, value: str, amount: float
) -> None:
    result = run_transform(
        f"id,name,amount,date,category\n1,A,1.50,2024-01-02,S\n2,B,{value},2024-01-02,S\n"
    )
    assert [(r["id"], r["amount"]) for r in trusted_of(result)] == [(1, 1.5), (2, amount)]


@pytest.mark.parametrize("value", ["1_000.5", "1.5_0", "R$ 1_000,00"])
def test_no_number_holds_an_underscore(
    run_transform: Any, trusted_of: Rows, quarantine_of: Rows, value: str
) -> None:
    result = run_transform(
        f'id,name,amount,date,category\n1,A,1.50,2024-01-02,S\n2,B,"{value}",2024-01-02,S\n'
    )
    assert [r["id"] for r in trusted_of(result)] == [1]
    (row,) = quarantine_of(result)
    assert row["failed_rules"] == "type:amount"
    assert row["error"].startswith(f"amount {value} is not a number")


@pytest.mark.parametrize("decimal", [None, "comma"])
def test_numbers_that_are_numbers_need_no_deciding(
    run_transform: Any, datasets: Any, trusted_of: Rows, decimal: str | None
) -> None:
    """JSON's and a workbook's numbers are written with a point: `5.899` is 5.899 there, also
    in a dataset that declares the decimal comma for its CSV statements."""
    spec = datasets.get("transactions").model_copy(
        update={"decimal": None if decimal is None else DecimalSeparator(decimal)}
    )
    import io

    import openpyxl  # type: ignore[import-untyped]

    lines = [
        {"id": 1, "name": "A", "amount": 5.899, "date": "2024-01-02", "category": "S"},
        {"id": 2, "name": "B", "amount": 1234, "date": "2024-01-02", "category": "S"},
    ]
    ndjson = run_transform(
        "".join(json.dumps(r) + "\n" for r in lines), name="in.ndjson", spec=spec
    )
    workbook = openpyxl.Workbook()
    for row in [list(lines[0]), *(list(r.values()) for r in lines)]:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    xlsx = run_transform(buffer.getvalue(), name="in.xlsx", spec=spec)
    for result in (ndjson, xlsx):
        assert not result.decimal.undecided
        assert [(r["id"], r["amount"]) for r in trusted_of(result)] == [(1, 5.899), (2, 1234.0)]


def _workbook(rows: list[list[Any]]) -> bytes:
    import io

    import openpyxl

    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_numbers_beside_text_in_decimal_comma_keep_their_point(
    run_transform: Any, trusted_of: Rows
) -> None:
    """A JSON or workbook number is written with a point whatever the file's text says: beside
    amounts written as text in decimal comma, `5.899` is still 5.899, not 5899."""
    lines = [
        {"id": 1, "name": "A", "amount": 5.899, "date": "2024-01-02", "category": "S"},
        {"id": 2, "name": "B", "amount": "R$ 1.234,56", "date": "2024-01-02", "category": "S"},
        {"id": 3, "name": "C", "amount": 12.5, "date": "2024-01-02", "category": "S"},
    ]
    ndjson = run_transform(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), name="in.ndjson"
    )
    xlsx = run_transform(
        _workbook([list(lines[0]), *(list(r.values()) for r in lines)]), name="in.xlsx"
    )
    for result in (ndjson, xlsx):
        assert result.decimal.comma
        assert result.rows_quarantined == 0
        amounts = [(r["id"], r["amount"]) for r in trusted_of(result)]
        assert amounts == [(1, 5.899), (2, 1234.56), (3, 12.5)]


def test_numbers_do_not_decide_how_text_is_read(run_transform: Any, trusted_of: Rows) -> None:
    """Only text says how text is written: JSON numbers prove no decimal point for the
    amounts a file writes as text, so `1.234` text there is undecided, not 1.234."""
    lines = [
        {"id": 1, "name": "A", "amount": 5.5, "date": "2024-01-02", "category": "S"},
        {"id": 2, "name": "B", "amount": "R$ 1.234", "date": "2024-01-02", "category": "S"},
        {"id": 3, "name": "C", "amount": "7", "date": "2024-01-02", "category": "S"},
    ]
    result = run_transform(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), name="in.ndjson"
    )
    assert result.decimal.undecided
    assert [(r["id"], r["amount"]) for r in trusted_of(result)] == [(1, 5.5), (3, 7.0)]
    assert result.rows_quarantined == 1


def test_declared_decimal_reads_the_text_of_any_format(
    run_transform: Any, datasets: Any, trusted_of: Rows
) -> None:
    """A dataset's declared decimal is for text: a JSON string `1.234` in a decimal-comma
    dataset is 1234, the JSON number 5.899 beside it stays 5.899."""
    spec = datasets.get("transactions").model_copy(update={"decimal": DecimalSeparator.COMMA})
    lines = [
        {"id": 1, "name": "A", "amount": 5.899, "date": "2024-01-02", "category": "S"},
        {"id": 2, "name": "B", "amount": "1.234", "date": "2024-01-02", "category": "S"},
    ]
    result = run_transform(
        "".join(json.dumps(r) + "\n" for r in lines), name="in.ndjson", spec=spec
    )
    assert [(r["id"], r["amount"]) for r in trusted_of(result)] == [(1, 5.899), (2, 1234.0)]


def test_empty_amounts_prove_nothing(run_transform: Any, trusted_of: Rows) -> None:
    """A statement's empty amounts say nothing of its decimal separator: one `1.234,56` among
    them still makes the file decimal comma."""
    rows = "02/01/2024;A;1.234,56;1;Outros\r\n" + "".join(
        f"02/01/2024;B;;{i};Outros\r\n" for i in range(2, 6)
    )
    result = run_transform(STATEMENT + rows + "03/01/2024;C;2,50;9;Outros\r\n")
    assert result.decimal.comma
    assert not result.decimal.mixed
    amounts = {r["id"]: r["amount"] for r in trusted_of(result)}
    assert (amounts[1], amounts[9]) == (1234.56, 2.5)


def test_parquet_number_columns_beside_text_in_decimal_comma(
    run_transform: Any, datasets: Any, trusted_of: Rows
) -> None:
    """A Parquet double column is numbers; a text column beside it in decimal comma does not
    make its 5.899 read as 5899."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq
    from etl_layers.datasets import ColumnSpec, ColumnType

    base = datasets.get("transactions")
    spec = base.model_copy(
        update={"columns": (*base.columns, ColumnSpec(name="fee", type=ColumnType.DOUBLE))}
    )
    table = pa.table(
        {
            "id": [1, 2],
            "name": ["A", "B"],
            "amount": [5.899, 1234.5],
            "date": ["2024-01-02", "2024-01-02"],
            "category": ["S", "S"],
            "fee": ["1.234,50", "2,50"],
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    result = run_transform(buffer.getvalue(), name="in.parquet", spec=spec)
    assert result.decimal.comma
    got = [(r["id"], r["amount"], r["fee"]) for r in trusted_of(result)]
    assert got == [(1, 5.899, 1234.5), (2, 1234.5, 2.5)]
