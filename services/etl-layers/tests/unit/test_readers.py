"""Readers: every format and every bad case from the issue, on small hand-made files."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl  # type: ignore[import-untyped]
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from etl_layers.readers import (
    ENCODING_CHUNK_BYTES,
    ByteScan,
    FileFormat,
    UnreadableFileError,
    detect_delimiter,
    detect_encoding,
    detect_format,
    scan_bytes,
)
from etl_layers.transform import TransformResult

HEADER = "id,name,amount,date,category\n"
Rows = Callable[[TransformResult], list[dict[str, Any]]]


def test_reads_the_seed_sample(run_transform: Any, trusted_of: Rows) -> None:
    result = run_transform(
        HEADER
        + "1,Transaction A,150.50,2024-01-15,Sales\n"
        + "2,Transaction B,75.25,2024-01-16,Marketing\n"
        + "3,Transaction C,300.00,2024-01-17,Sales\n"
    )
    assert (result.rows_in, result.rows_out, result.rows_quarantined) == (3, 3, 0)
    assert [(r["id"], r["amount"], r["date"]) for r in trusted_of(result)] == [
        (1, 150.5, "2024-01-15"),
        (2, 75.25, "2024-01-16"),
        (3, 300.0, "2024-01-17"),
    ]
    assert result.read.delimiter == ","
    assert not result.decimal.comma


def test_empty_file_is_unreadable(run_transform: Any) -> None:
    with pytest.raises(UnreadableFileError, match="empty file"):
        run_transform(b"")


def test_whitespace_only_file_is_unreadable(run_transform: Any) -> None:
    with pytest.raises(UnreadableFileError, match="empty file"):
        run_transform(b"\xef\xbb\xbf\n\n")


def test_header_only_file_has_no_rows_and_writes_nothing(run_transform: Any) -> None:
    result = run_transform(HEADER)
    assert (result.rows_in, result.rows_out, result.rows_quarantined) == (0, 0, 0)
    assert result.trusted == []
    assert result.delivery == []
    assert result.quarantine is None


def test_file_in_an_undeclared_delimiter_is_unreadable(run_transform: Any) -> None:
    # A tab-less, comma-less header cannot be split into the declared columns.
    with pytest.raises(UnreadableFileError, match="header lacks required columns"):
        run_transform("id name amount date category\n1 A 10 2024-01-15 Sales\n")


def test_rows_with_a_different_delimiter_than_the_header_are_quarantined(
    run_transform: Any, quarantine_of: Rows
) -> None:
    result = run_transform("id;name;amount;date;category\n1,A,10.0,2024-01-15,Sales\n")
    assert (result.rows_in, result.rows_out, result.rows_quarantined) == (1, 0, 1)
    (row,) = quarantine_of(result)
    assert row["failed_rules"] == "reader:missing_columns"
    assert row["raw_record"] == "1,A,10.0,2024-01-15,Sales"


def test_semicolon_and_decimal_comma_are_detected(run_transform: Any, trusted_of: Rows) -> None:
    result = run_transform(
        "id;nome;valor;data;categoria\n"
        "1;Venda;1.234,56;15/01/2024;Vendas\n"
        "2;Taxa;0,99;16/01/2024;Tarifas\n"
    )
    assert result.read.delimiter == ";"
    assert result.decimal.comma
    assert [(r["amount"], r["date"], r["category"]) for r in trusted_of(result)] == [
        (1234.56, "2024-01-15", "Vendas"),
        (0.99, "2024-01-16", "Tarifas"),
    ]


def test_amounts_with_thousands_separators(run_transform: Any, trusted_of: Rows) -> None:
    result = run_transform(
        HEADER + '1,A,"1,234,567.89",2024-01-15,Sales\n2,B,"12,000",2024-01-15,Sales\n'
    )
    assert [r["amount"] for r in trusted_of(result)] == [1234567.89, 12000.0]


def test_date_in_day_month_year(run_transform: Any, trusted_of: Rows) -> None:
    result = run_transform(HEADER + "1,A,10,05/02/2024,Sales\n")
    (row,) = trusted_of(result)
    assert row["date"] == "2024-02-05"  # 5 February, not 2 May
    assert result.trusted[0].partition == "year=2024/month=02/day=05"


def test_utf8_with_bom(run_transform: Any, trusted_of: Rows) -> None:
    result = run_transform(("\ufeff" + HEADER + "1,São Paulo,10,2024-01-15,Ações\n").encode())
    (row,) = trusted_of(result)
    assert (row["id"], row["name"], row["category"]) == (1, "São Paulo", "Ações")


def test_latin1_file_is_decoded(run_transform: Any, trusted_of: Rows) -> None:
    result = run_transform((HEADER + "1,São Paulo,10,2024-01-15,Ações\n").encode("latin-1"))
    assert result.read.encoding == "latin-1"
    (row,) = trusted_of(result)
    assert row["name"] == "São Paulo"


def test_broken_utf8_row_is_quarantined_and_the_rest_kept(
    run_transform: Any, trusted_of: Rows, quarantine_of: Rows
) -> None:
    content = (
        HEADER + "1,São,10,2024-01-15,Sales\n"
    ).encode() + b"2,Bad\xff\xfe,20,2024-01-15,Sales\n"
    result = run_transform(content)
    assert result.read.encoding == "utf-8"
    assert [r["id"] for r in trusted_of(result)] == [1]
    (row,) = quarantine_of(result)
    assert row["failed_rules"] == "reader:invalid_encoding"
    assert row["line"] == 3


def test_row_with_too_many_columns_is_quarantined(
    run_transform: Any, trusted_of: Rows, quarantine_of: Rows
) -> None:
    result = run_transform(HEADER + "1,A,10,2024-01-15,Sales\n2,B,20,2024-01-15,Sales,surprise\n")
    assert [r["id"] for r in trusted_of(result)] == [1]
    (row,) = quarantine_of(result)
    assert row["failed_rules"] == "reader:too_many_columns"
    assert row["raw_record"] == "2,B,20,2024-01-15,Sales,surprise"
    assert "Expected Number of Columns: 5 Found: 6" in row["error"]
    assert (result.rows_in, result.rows_out, result.rows_quarantined) == (2, 1, 1)


def test_thousand_column_file_keeps_the_declared_columns(
    run_transform: Any, trusted_of: Rows
) -> None:
    extra = [f"extra_{i}" for i in range(995)]
    header = ",".join(["id", *extra[:500], "name", "amount", *extra[500:], "date", "category"])
    row = ",".join(["7", *["x"] * 500, "Wide", "42.5", *["y"] * 495, "2024-03-01", "Ops"])
    assert len(header.split(",")) == 1000
    result = run_transform(header + "\n" + row + "\n")
    (kept,) = trusted_of(result)
    assert (kept["id"], kept["name"], kept["amount"], kept["category"]) == (7, "Wide", 42.5, "Ops")
    assert "extra_0" not in kept
    assert len(result.read.ignored_columns) == 50  # reported (capped), not written


def test_missing_required_column_makes_the_file_unreadable(run_transform: Any) -> None:
    with pytest.raises(UnreadableFileError, match=r"\['amount'\]"):
        run_transform("id,name,date,category\n1,A,2024-01-15,Sales\n")


def test_missing_optional_column_is_defaulted(run_transform: Any, trusted_of: Rows) -> None:
    result = run_transform("id,amount,date\n1,10,2024-01-15\n")
    (row,) = trusted_of(result)
    assert (row["name"], row["category"]) == ("UNKNOWN", "UNCATEGORIZED")
    assert row["quality_flags"] == "defaulted:name,defaulted:category"


def test_json_array(run_transform: Any, trusted_of: Rows) -> None:
    document = [
        {"id": 1, "name": "A", "amount": 150.5, "date": "2024-01-15", "category": "Sales"},
        {"id": "2", "valor": "7.5", "data": "16/01/2024", "nested": {"ignored": True}},
    ]
    result = run_transform(json.dumps(document), name="batch.json")
    assert result.read.format is FileFormat.JSON
    assert [(r["id"], r["amount"], r["date"]) for r in trusted_of(result)] == [
        (1, 150.5, "2024-01-15"),
        (2, 7.5, "2024-01-16"),
    ]


RECORDS = [
    {"id": 1, "name": "A", "amount": 1.5, "date": "2024-01-15", "category": "Sales"},
    {"id": 2, "name": "B", "amount": 2.5, "date": "2024-01-16", "category": "Sales"},
]


@pytest.mark.parametrize("indent", [None, 2])
def test_json_object_holding_the_records_in_an_array(
    run_transform: Any, trusted_of: Rows, indent: int | None
) -> None:
    """An API's export, `{"meta": ..., "transactions": [...]}`: the records are the array's,
    not one record lacking every column."""
    document = {"meta": {"page": 1, "total": 2}, "transactions": RECORDS}
    result = run_transform(json.dumps(document, indent=indent), name="export.json")
    assert (result.rows_in, result.rows_quarantined) == (2, 0)
    assert [(r["id"], r["amount"]) for r in trusted_of(result)] == [(1, 1.5), (2, 2.5)]


@pytest.mark.parametrize(
    "document",
    [
        # `data` is also the Portuguese alias of the `date` column.
        {"data": RECORDS},
        {"data": {"items": RECORDS, "next": None}},
        {"links": [{"rel": "next", "href": "/p/2"}], "result": {"page": {"items": RECORDS}}},
    ],
    ids=["data", "nested", "beside-another-array"],
)
def test_json_records_nested_in_the_export_object(
    run_transform: Any, trusted_of: Rows, document: dict[str, Any]
) -> None:
    """The records' array is the one whose objects name the required columns, a few objects
    down, not any array the object holds."""
    result = run_transform(json.dumps(document), name="export.json")
    assert (result.rows_in, result.rows_quarantined) == (2, 0)
    assert [r["id"] for r in trusted_of(result)] == [1, 2]


def test_json_object_with_two_arrays_of_records_is_unreadable(run_transform: Any) -> None:
    document = {"credits": RECORDS[:1], "debits": RECORDS[1:]}
    with pytest.raises(UnreadableFileError, match="more than one array of records"):
        run_transform(json.dumps(document), name="export.json")


def test_one_record_with_an_array_field_is_a_record(run_transform: Any, trusted_of: Rows) -> None:
    record = {**RECORDS[0], "items": [{"sku": "x"}]}
    result = run_transform(json.dumps(record) + "\n", name="one.ndjson")
    assert [r["id"] for r in trusted_of(result)] == [1]


def test_ndjson(run_transform: Any, trusted_of: Rows) -> None:
    lines = [
        {"id": 1, "name": "A", "amount": 1.5, "date": "2024-01-15", "category": "Sales"},
        {"id": 2, "name": "B", "amount": 2.5, "date": "2024-01-15", "category": "Sales"},
    ]
    result = run_transform("\n".join(json.dumps(x) for x in lines) + "\n", name="batch.json")
    assert result.read.format is FileFormat.NDJSON
    assert [r["amount"] for r in trusted_of(result)] == [1.5, 2.5]


def test_a_json_record_naming_a_column_twice_is_quarantined_not_read_as_either(
    run_transform: Any, trusted_of: Rows, quarantine_of: Rows
) -> None:
    """A JSON parser keeps the first of two equal keys; which one the source meant is not
    known, so neither is written. Two aliases of one column that agree are one value."""
    text = (
        '{"id": 1, "name": "A", "amount": 1.5, "date": "2024-01-15", "category": "S"}\n'
        '{"id": 2, "name": "B", "amount": 2.5, "amount": 25, "date": "2024-01-15"}\n'
        '{"id": 3, "name": "C", "valor": 3.5, "amount": 35, "date": "2024-01-15"}\n'
        '{"id": 4, "name": "D", "valor": 4.5, "amount": 4.5, "date": "2024-01-15"}\n'
    )
    result = run_transform(text, name="batch.ndjson")
    assert [(r["id"], r["amount"]) for r in trusted_of(result)] == [(1, 1.5), (4, 4.5)]
    assert (result.rows_in, result.rows_quarantined) == (4, 2)
    quarantined = {json.loads(r["raw_record"])["id"]: r for r in quarantine_of(result)}
    assert {i: (r["failed_rules"], r["error"]) for i, r in quarantined.items()} == {
        2: (
            "ambiguous:amount",
            "amount is given more than once: the record repeats a key of it (amount, amount)",
        ),
        3: (
            "ambiguous:amount",
            "amount is given twice with different values: amount = 35, valor = 3.5",
        ),
    }


def test_broken_json_is_unreadable(run_transform: Any) -> None:
    with pytest.raises(UnreadableFileError, match="json file is not readable"):
        run_transform('[{"id": 1, "amount": ', name="broken.json")


def test_xlsx(run_transform: Any, trusted_of: Rows) -> None:
    from datetime import datetime

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["ID", "Name", "Amount", "Date", "Category"])
    sheet.append([1, "A", 150.5, datetime(2024, 1, 15), "Sales"])
    sheet.append([None, None, None, None, None])
    sheet.append([2, "B", 75, "16/01/2024", "Marketing"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = run_transform(buffer.getvalue(), name="sheet.xlsx")
    assert [(r["id"], r["amount"], r["date"]) for r in trusted_of(result)] == [
        (1, 150.5, "2024-01-15"),
        (2, 75.0, "2024-01-16"),
    ]


def test_corrupt_xlsx_is_unreadable(run_transform: Any) -> None:
    with pytest.raises(UnreadableFileError, match="xlsx"):
        run_transform(b"PK\x03\x04 not really a zip", name="sheet.xlsx")


def test_parquet(run_transform: Any, trusted_of: Rows, tmp_path: Path) -> None:
    from datetime import date

    table = pa.table(
        {
            "id": pa.array([1, 2], pa.int64()),
            "name": ["A", "B"],
            "amount": [10.25, 20.5],
            "date": pa.array([date(2024, 1, 15), date(2024, 1, 16)]),
            "category": ["Sales", "Ops"],
            "unused": [True, False],
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    result = run_transform(buffer.getvalue(), name="part.parquet")
    assert [(r["id"], r["amount"], r["date"]) for r in trusted_of(result)] == [
        (1, 10.25, "2024-01-15"),
        (2, 20.5, "2024-01-16"),
    ]
    assert result.read.ignored_columns == ("unused",)


def test_not_a_parquet_file_is_unreadable(run_transform: Any) -> None:
    with pytest.raises(UnreadableFileError, match="parquet"):
        run_transform(b"id,amount\n1,2\n", name="fake.parquet")


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("transactions/a b.CSV", FileFormat.CSV),
        ("x/y.ndjson", FileFormat.NDJSON),
        ("x/y.jsonl", FileFormat.NDJSON),
        ("x/y.json", FileFormat.JSON),
        ("x/y.xlsx", FileFormat.XLSX),
        ("x/y.parquet", FileFormat.PARQUET),
    ],
)
def test_detect_format(key: str, expected: FileFormat) -> None:
    assert detect_format(key) is expected


def test_unsupported_extension_is_unreadable() -> None:
    with pytest.raises(UnreadableFileError, match=r"unsupported file type '\.pdf'"):
        detect_format("transactions/report.pdf")


def test_detect_encoding() -> None:
    assert detect_encoding("São".encode()) == "utf-8"
    assert detect_encoding("São".encode("latin-1")) == "latin-1"
    assert detect_encoding("São".encode() + b"\xff") == "utf-8"  # broken UTF-8 stays UTF-8
    # A multi-byte sequence cut by the end of the sample is not an error.
    assert detect_encoding("ação".encode()[:-2]) == "utf-8"


def test_detect_delimiter() -> None:
    assert detect_delimiter("id;name;amount") == ";"
    assert detect_delimiter("id,name,amount") == ","
    assert detect_delimiter("id\tname") == "\t"
    assert detect_delimiter("single") == ","


@pytest.mark.parametrize(
    ("tail", "encoding"),
    [("ç;1\n".encode(), "utf-8"), ("ç;1\n".encode("latin-1"), "latin-1")],
)
@pytest.mark.parametrize("cut", [0, 1])
def test_encoding_is_decided_past_chunks_of_plain_ascii(
    tmp_path: Path, tail: bytes, encoding: str, cut: int
) -> None:
    # ASCII chunks are skipped; an accented byte later (or cut by a chunk boundary) counts.
    head = b"a;b\n" + b"x" * (ENCODING_CHUNK_BYTES - 4 - cut)
    path = tmp_path / "late.csv"
    path.write_bytes(head + tail)
    assert scan_bytes(path) == ByteScan(encoding, mixed_line_endings=False)


@pytest.mark.parametrize(
    ("head_end", "rows", "mixed"),
    [
        # A CRLF header, then LF rows in a later chunk: mixed.
        (b"\r\n", b"1;x\n2;y\n", True),
        # An LF header, CRLF rows after the first chunk: mixed.
        (b"\n", b"1;x\r\n2;y\r\n", True),
        (b"\r\n", b"1;x\r\n2;y\r\n", False),
        (b"\n", b"1;x\n2;y\n", False),
    ],
)
@pytest.mark.parametrize("cut", [0, 1])
def test_line_endings_are_judged_over_the_whole_file(
    tmp_path: Path, head_end: bytes, rows: bytes, mixed: bool, cut: int
) -> None:
    # The first chunk holds only the header's line end; `cut` puts a CRLF across the boundary.
    pad = ENCODING_CHUNK_BYTES - 3 - len(head_end) + cut
    path = tmp_path / "endings.csv"
    path.write_bytes(b"a;b" + b" " * pad + head_end + rows)
    assert scan_bytes(path) == ByteScan("utf-8", mixed_line_endings=mixed)


def test_a_repeated_key_no_column_reads_leaves_the_records_as_they_are(
    run_transform: Any, trusted_of: Rows
) -> None:
    text = (
        '{"id": 1, "name": "A", "amount": 1.5, "date": "2024-01-15", "note": "x", "note": "y"}\n'
        '{"id": 2, "name": "B", "amount": 2.5, "date": "2024-01-15"}\n'
    )
    result = run_transform(text, name="batch.ndjson")
    assert [r["id"] for r in trusted_of(result)] == [1, 2]


def test_a_file_of_no_declared_key_with_a_repeated_one_is_quarantined_row_by_row(
    run_transform: Any, quarantine_of: Rows
) -> None:
    result = run_transform('{"x": 1, "x": 2}\n', name="batch.ndjson")
    (row,) = quarantine_of(result)
    assert "required:id" in row["failed_rules"]


def test_rows_above_a_sheet_s_header_are_skipped(run_transform: Any, trusted_of: Rows) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Extrato de Conta Corrente"])
    sheet.append(["Agência: 1234", "Conta: 56789-0"])
    sheet.append([])
    sheet.append(["ID", "Data", "Descrição", "Valor", "Categoria"])
    sheet.append([1, "02/01/2024", "PIX", "-150,00", "Transferência"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = run_transform(buffer.getvalue(), name="extrato.xlsx")
    assert result.read.header_line == 4
    assert [(r["id"], r["amount"], r["date"]) for r in trusted_of(result)] == [
        (1, -150.0, "2024-01-02")
    ]


def test_a_sheet_with_no_header_in_its_first_rows_says_what_its_first_row_holds(
    run_transform: Any,
) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["Extrato"])
    workbook.active.append(["Código", "Data", "Valor"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(UnreadableFileError, match=r"lacks required columns .*found \['Extrato'"):
        run_transform(buffer.getvalue(), name="extrato.xlsx")
