"""Dates as Brazilian bank statements and US tools write them: read exactly or quarantined."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from etl_layers.datasets import DatasetCatalog, DatasetSpec, DateFormat
from etl_layers.dates import DecidedBy
from etl_layers.readers import UnreadableFileError
from etl_layers.transform import TransformResult
from pydantic import ValidationError

Rows = Callable[[TransformResult], list[dict[str, Any]]]
# A statement export as Brazilian banks write it: `;`, decimal comma, two-digit years.
STATEMENT = "id;nome;valor;data;categoria\r\n"
PAYMENTS = "payment_id,merchant_id,paid_at,method,amount,currency,installments\n"


def test_two_digit_years_pivot_at_70(run_transform: Any, trusted_of: Rows) -> None:
    result = run_transform(
        STATEMENT
        + "1;PIX RECEBIDO JOAO;150,00;06/07/26;Pix\r\n"
        + "2;TARIFA PACOTE;12,90;31/01/00;Tarifas\r\n"
        + "3;SALDO ANTERIOR;0,00;15/03/69;Saldo\r\n"
        + "4;DEPOSITO ANTIGO;10,00;15/03/70;Saldo\r\n"
        + "5;CHEQUE COMPENSADO;99,99;28/02/99;Cheques\r\n"
    )
    assert sorted((r["id"], r["date"]) for r in trusted_of(result)) == [
        (1, "2026-07-06"),
        (2, "2000-01-31"),
        (3, "2069-03-15"),
        (4, "1970-03-15"),
        (5, "1999-02-28"),
    ]
    assert not any(o.partition.startswith("year=00") for o in result.trusted)


def test_a_date_before_the_floor_is_quarantined_with_the_reason(
    run_transform: Any, quarantine_of: Rows, trusted_of: Rows
) -> None:
    result = run_transform(
        STATEMENT + "1;PIX;10,00;06/07/0026;Pix\r\n2;PIX;10,00;1899-12-31;Pix\r\n"
        "3;PIX;10,00;01/01/1900;Pix\r\n"
    )
    assert [(r["id"], r["date"]) for r in trusted_of(result)] == [(3, "1900-01-01")]
    quarantined = {json.loads(r["raw_record"])["id"]: r for r in quarantine_of(result)}
    assert quarantined["1"]["failed_rules"] == "type:date"
    assert quarantined["1"]["error"] == "date 06/07/0026 is before 1900-01-01"
    assert quarantined["2"]["error"] == "date 1899-12-31 is before 1900-01-01"


def _two_rows(source: Path, first: str, second: str) -> Path:
    """A Parquet statement of two rows whose dates are the SQL values `first`, `second`."""
    duckdb.execute(
        f"COPY (SELECT * FROM (VALUES (1, 'a', 10.5, {first}, 'x'), "
        f"(2, 'b', 11.5, {second}, 'x')) t(id, name, amount, date, category)) "
        f"TO '{source}' (FORMAT parquet)"
    )
    return source


def test_a_year_past_9999_is_quarantined_saying_so(
    run_transform: Any, quarantine_of: Rows, trusted_of: Rows, tmp_path: Path
) -> None:
    # A Parquet DATE holds years past 9999, which no yyyy partition does; text may too.
    source = _two_rows(tmp_path / "dates.parquet", "DATE '2024-01-05'", "DATE '12024-01-05'")
    result = run_transform(source.read_bytes(), name="dates.parquet")
    assert [(r["id"], r["date"]) for r in trusted_of(result)] == [(1, "2024-01-05")]
    (row,) = quarantine_of(result)
    assert (row["failed_rules"], row["error"]) == (
        "type:date",
        "date 12024-01-05 has a year past 9999",
    )
    (row,) = quarantine_of(run_transform(STATEMENT + "1;PIX;10,00;10000-01-01;Pix\r\n"))
    assert row["error"] == "date 10000-01-01 has a year past 9999"


def test_unparseable_date_names_the_value_and_the_expected_format(
    run_transform: Any, quarantine_of: Rows
) -> None:
    (row,) = quarantine_of(run_transform(STATEMENT + "1;PIX;10,00;31/02/2024;Pix\r\n"))
    assert row["failed_rules"] == "type:date"
    assert row["error"] == (
        "date 31/02/2024 is not a date as yyyy-MM-dd or dd/MM/yyyy "
        "(yy: 00-69 is 20yy, 70-99 is 19yy)"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-05", "2024-01-05"),
        ("2024/01/05", "2024-01-05"),
        ("2024.1.5", "2024-01-05"),
        ("05-01-2024", "2024-01-05"),
        ("5.1.24", "2024-01-05"),
        ("05/01/2024", "2024-01-05"),
    ],
)
def test_date_forms_and_separators(
    run_transform: Any, trusted_of: Rows, value: str, expected: str
) -> None:
    (row,) = trusted_of(run_transform(f"id,name,amount,date,category\n1,A,10,{value},S\n"))
    assert row["date"] == expected


@pytest.mark.parametrize(
    "value",
    [
        "2024-01-05 00:00:00",
        "2024-01-05T00:00:00.000Z",
        "2024-01-05T00:00-03:00",
        "05/01/2024 00:00",
        "05/01/2024 0:00:00",
        "05/01/2024 12:00 AM",
    ],
)
def test_a_date_at_midnight_is_its_date(run_transform: Any, trusted_of: Rows, value: str) -> None:
    """Spreadsheets and JSON exports write a date as its midnight."""
    (row,) = trusted_of(run_transform(f"id,name,amount,date,category\n1,A,10,{value},S\n"))
    assert row["date"] == "2024-01-05"


def test_a_date_with_a_time_of_day_is_quarantined_saying_so(
    run_transform: Any, quarantine_of: Rows, trusted_of: Rows, tmp_path: Path
) -> None:
    """Read as a date, the time would be dropped, and with an offset the day itself is in
    doubt (23:30 at -03:00 is the next day in UTC)."""
    result = run_transform(
        STATEMENT
        + "1;PIX;10,00;05/01/2024 13:45;Pix\r\n"
        + "2;PIX;10,00;2024-01-05T23:30:00-03:00;Pix\r\n"
        + "3;PIX;10,00;2024-01-05 00:00:01;Pix\r\n"
        + "4;PIX;10,00;05/01/2024 12:30 AM;Pix\r\n"
        + "5;PIX;10,00;05/01/2024;Pix\r\n"
    )
    assert [(r["id"], r["date"]) for r in trusted_of(result)] == [(5, "2024-01-05")]
    quarantined = {json.loads(r["raw_record"])["id"]: r for r in quarantine_of(result)}
    assert set(quarantined) == {"1", "2", "3", "4"}
    assert {r["failed_rules"] for r in quarantined.values()} == {"type:date"}
    assert quarantined["1"]["error"] == (
        "date 05/01/2024 13:45 has a time of day: a date column takes a date alone or at "
        "midnight (declare the column timestamp to keep its time)"
    )
    # A Parquet timestamp in a date column: the same rule.
    source = _two_rows(
        tmp_path / "stamps.parquet",
        "TIMESTAMP '2024-01-05 13:45:00'",
        "TIMESTAMP '2024-01-06 00:00:00'",
    )
    result = run_transform(source.read_bytes(), name="stamps.parquet")
    assert [(r["id"], r["date"]) for r in trusted_of(result)] == [(2, "2024-01-06")]
    (row,) = quarantine_of(result)
    assert row["error"].startswith("date 2024-01-05 13:45:00 has a time of day")


def test_a_month_first_file_is_read_month_first(run_transform: Any, trusted_of: Rows) -> None:
    # As US tools export: one value (1/25/2019) proves the order for the whole column.
    result = run_transform(
        "id,name,amount,date,category\n"
        "1,Coffee,3.50,1/5/2019,Food\n"
        "2,Books,12.00,2/3/2019,Education\n"
        "3,Rent,900.00,1/25/2019,Housing\n"
    )
    assert sorted((r["id"], r["date"]) for r in trusted_of(result)) == [
        (1, "2019-01-05"),
        (2, "2019-02-03"),
        (3, "2019-01-25"),
    ]
    order = result.date_orders["date"]
    assert (order.format, order.decided_by, order.example) == (
        DateFormat.MONTH_FIRST,
        DecidedBy.VALUES,
        "1/25/2019",
    )


def test_padded_values_decide_the_file_as_their_trimmed_text(
    run_transform: Any, trusted_of: Rows
) -> None:
    # Hand-edited exports pad cells: the profile reads the value inside the spaces, and names
    # it so; a padded ISO date proves nothing and is still read.
    result = run_transform(
        "id,name,amount,date,category\n"
        '1,Coffee,"  3,50 ","  1/25/2019  ",Food\n'
        '2,Books,"12,00"," 2019-02-03",Education\n'
        "3,Rent,900,2/3/2019,Housing\n"
    )
    assert sorted((r["id"], r["date"], r["amount"]) for r in trusted_of(result)) == [
        (1, "2019-01-25", 3.5),
        (2, "2019-02-03", 12.0),
        (3, "2019-02-03", 900.0),
    ]
    order = result.date_orders["date"]
    assert (order.format, order.example) == (DateFormat.MONTH_FIRST, "1/25/2019")
    assert (result.decimal.comma, result.decimal.example) == (True, "12,00")


def test_a_day_first_file_is_read_day_first(run_transform: Any, trusted_of: Rows) -> None:
    result = run_transform(STATEMENT + "1;PIX;1,00;05/01/2019;Pix\r\n2;PIX;1,00;25/01/2019;Pix\r\n")
    assert [r["date"] for r in trusted_of(result)] == ["2019-01-05", "2019-01-25"]
    assert result.date_orders["date"].decided_by is DecidedBy.VALUES


def test_a_file_that_proves_no_order_is_read_day_first_and_says_so(
    run_transform: Any, trusted_of: Rows
) -> None:
    result = run_transform(STATEMENT + "1;PIX;1,00;05/01/2019;Pix\r\n")
    assert [r["date"] for r in trusted_of(result)] == ["2019-01-05"]
    order = result.date_orders["date"]
    assert (order.format, order.decided_by) == (DateFormat.DAY_FIRST, DecidedBy.DEFAULT)


def test_a_file_with_both_orders_is_unreadable(run_transform: Any) -> None:
    with pytest.raises(UnreadableFileError, match=r"mixes day-first dates .*'25/01/2019'"):
        run_transform(STATEMENT + "1;PIX;1,00;25/01/2019;Pix\r\n2;PIX;1,00;01/25/2019;Pix\r\n")


def test_timestamps_follow_the_columns_order(run_transform: Any, trusted_of: Rows) -> None:
    result = run_transform(
        PAYMENTS
        + "p1,10,03/01/2024 9:05,PIX,10.0,BRL,1\n"
        + "p2,10,03/13/2024 23:59:59,PIX,10.0,BRL,1\n"
        + "p3,10,2024-03-01T10:00:00Z,PIX,10.0,BRL,1\n",
        dataset="payments",
    )
    got = {r["payment_id"]: r["paid_at"].isoformat() for r in trusted_of(result)}
    assert got == {
        "p1": "2024-03-01T09:05:00",
        "p2": "2024-03-13T23:59:59",
        "p3": "2024-03-01T10:00:00",
    }


def test_an_iso_timestamp_read_as_another_instant_is_quarantined(
    run_transform: Any, quarantine_of: Rows, trusted_of: Rows
) -> None:
    """DuckDB's cast takes an offset past 23:59 and cuts a fraction past microseconds."""
    result = run_transform(
        PAYMENTS
        + "p1,10,2024-03-01T10:00:00+25:00,PIX,10.0,BRL,1\n"
        + "p2,10,2024-03-01T10:00:00-00:99,PIX,10.0,BRL,1\n"
        + "p3,10,2024-03-01T10:00:00.123456789Z,PIX,10.0,BRL,1\n"
        + "p4,10,2024-03-01T10:00:00.123456000Z,PIX,10.0,BRL,1\n"
        + "p5,10,2024-03-24,PIX,10.0,BRL,1\n"
        + "p6,10,2024-03-01T10:00:00.5-23:59,PIX,10.0,BRL,1\n",
        dataset="payments",
    )
    got = {r["payment_id"]: r["paid_at"].isoformat() for r in trusted_of(result)}
    assert got == {
        "p4": "2024-03-01T10:00:00.123456",
        "p5": "2024-03-24T00:00:00",
        "p6": "2024-03-02T09:59:00.500000",
    }
    quarantined = {
        json.loads(r["raw_record"])["payment_id"]: r["failed_rules"] for r in quarantine_of(result)
    }
    assert quarantined == {"p1": "type:paid_at", "p2": "type:paid_at", "p3": "type:paid_at"}


def test_short_year_first_dates_are_not_read_day_first(run_transform: Any) -> None:
    # 24-01-15 is 15 January 2024 as ISO without its century, or 24 January 2015 read
    # day-first; no date of this file says which.
    with pytest.raises(UnreadableFileError) as caught:
        run_transform(
            "id,name,amount,date,category\n"
            "1,PIX,10.00,24-01-15,Pix\n2,PIX,10.00,24-02-28,Pix\n3,PIX,10.00,24-03-31,Pix\n"
        )
    assert caught.value.reason == (
        "column 'date' has dates such as '24-01-15' that read as yy-MM-dd or as dd-MM-yy, "
        "and none of its dates decides which: write four-digit years, or declare the "
        "dataset's date_format"
    )


def test_a_year_above_31_decides_year_first(run_transform: Any, trusted_of: Rows) -> None:
    result = run_transform(
        "id,name,amount,date,category\n1,PIX,10.00,98-12-31,Pix\n2,PIX,10.00,24-01-15,Pix\n"
    )
    assert [r["date"] for r in trusted_of(result)] == ["1998-12-31", "2024-01-15"]
    order = result.date_orders["date"]
    assert (order.format, order.decided_by, order.example) == (
        DateFormat.YEAR_FIRST,
        DecidedBy.VALUES,
        "98-12-31",
    )


def test_a_last_part_above_31_decides_year_last(run_transform: Any, trusted_of: Rows) -> None:
    result = run_transform(STATEMENT + "1;PIX;1,00;15-01-24;Pix\r\n2;PIX;1,00;31-12-99;Pix\r\n")
    assert [r["date"] for r in trusted_of(result)] == ["2024-01-15", "1999-12-31"]
    assert result.date_orders["date"].format is DateFormat.DAY_FIRST


def test_a_column_with_the_year_first_and_last_is_unreadable(run_transform: Any) -> None:
    with pytest.raises(
        UnreadableFileError,
        match=r"mixes year-first dates \(such as '98-12-31'\) and year-last dates",
    ):
        run_transform(STATEMENT + "1;PIX;1,00;98-12-31;Pix\r\n2;PIX;1,00;15-01-2024;Pix\r\n")


def test_a_declared_year_first_format_reads_short_dates(
    run_transform: Any, trusted_of: Rows, datasets: Any
) -> None:
    spec = datasets.get("transactions").model_copy(update={"date_format": DateFormat.YEAR_FIRST})
    result = run_transform("id,name,amount,date,category\n1,PIX,10.00,24-01-15,Pix\n", spec=spec)
    assert [r["date"] for r in trusted_of(result)] == ["2024-01-15"]
    assert result.date_orders["date"].decided_by is DecidedBy.DECLARED


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("1/5/2019 10:30 PM", "2019-01-05T22:30:00"),
        ("1/13/2019 12:05:09 AM", "2019-01-13T00:05:09"),
        ("1/13/2019 12:00 PM", "2019-01-13T12:00:00"),
        ("1/13/2019 9:15am", "2019-01-13T09:15:00"),
    ],
)
def test_a_twelve_hour_clock_is_read(
    run_transform: Any, trusted_of: Rows, written: str, read: str
) -> None:
    """As US spreadsheets write timestamps: month first, then the time with AM/PM."""
    result = run_transform(
        PAYMENTS + "p0,10,1/25/2019 1:00 PM,PIX,10.0,BRL,1\n" + f"p1,10,{written},PIX,10.0,BRL,1\n",
        dataset="payments",
    )
    got = {r["payment_id"]: r["paid_at"].isoformat() for r in trusted_of(result)}
    assert got == {"p0": "2019-01-25T13:00:00", "p1": read}


@pytest.mark.parametrize("written", ["1/5/2019 13:30 PM", "1/5/2019 0:30 AM", "1/5/2019 10:30 XM"])
def test_a_twelve_hour_clock_past_its_hours_is_no_time(
    run_transform: Any, quarantine_of: Rows, written: str
) -> None:
    result = run_transform(
        PAYMENTS + "p0,10,1/25/2019 1:00 PM,PIX,10.0,BRL,1\n" + f"p1,10,{written},PIX,10.0,BRL,1\n",
        dataset="payments",
    )
    (row,) = quarantine_of(result)
    assert row["failed_rules"] == "type:paid_at"


def test_a_timestamp_that_does_not_parse_says_a_timestamp_is_expected(
    run_transform: Any, quarantine_of: Rows
) -> None:
    result = run_transform(
        PAYMENTS
        + "p1,10,2024-03-01T10:00:00Z,PIX,10.0,BRL,1\n"
        + "p2,10,1/5/2019 10:30 XM,PIX,10.0,BRL,1\n",
        dataset="payments",
    )
    (row,) = quarantine_of(result)
    assert row["error"] == (
        "paid_at 1/5/2019 10:30 XM is not a timestamp as yyyy-MM-dd HH:MM[:SS] or "
        "dd/MM/yyyy HH:MM[:SS] (yy: 00-69 is 20yy, 70-99 is 19yy)"
    )


def _zoned(datasets: DatasetCatalog, zone: str) -> DatasetSpec:
    return datasets.get("payments").model_copy(update={"timezone": zone})


def test_a_time_without_an_offset_is_read_in_the_datasets_zone(
    run_transform: Any, trusted_of: Rows, datasets: DatasetCatalog
) -> None:
    """Brazilian exports write local time and no offset: São Paulo is UTC-3."""
    result = run_transform(
        PAYMENTS
        + "p1,10,2024-01-05 10:00:00,PIX,10.0,BRL,1\n"
        + "p2,10,2024-01-05T10:00:00Z,PIX,10.0,BRL,1\n"
        + "p3,10,2024-01-05T10:00:00-02:00,PIX,10.0,BRL,1\n"
        + "p4,10,25/01/2024 22:30,PIX,10.0,BRL,1\n"
        + "p5,10,2024-03-24,PIX,10.0,BRL,1\n",
        spec=_zoned(datasets, "America/Sao_Paulo"),
    )
    got = {r["payment_id"]: r["paid_at"].isoformat() for r in trusted_of(result)}
    assert got == {
        "p1": "2024-01-05T13:00:00",
        "p2": "2024-01-05T10:00:00",
        "p3": "2024-01-05T12:00:00",
        "p4": "2024-01-26T01:30:00",
        "p5": "2024-03-24T03:00:00",
    }
    # The partition is the UTC instant's day: 22:30 in São Paulo is the next day in UTC.
    assert "year=2024/month=01/day=26" in {o.partition for o in result.trusted}


def test_a_time_the_clocks_skipped_or_repeated_is_quarantined_saying_so(
    run_transform: Any, trusted_of: Rows, quarantine_of: Rows, datasets: DatasetCatalog
) -> None:
    """New York's clocks went from 02:00 to 03:00 on 10 March 2024 and from 02:00 back to
    01:00 on 3 November: 02:30 that March day was never read on a clock, 01:30 that
    November day was read twice. Which instant was meant cannot be known."""
    result = run_transform(
        PAYMENTS
        + "p1,10,2024-03-10 02:30:00,PIX,10.0,BRL,1\n"
        + "p2,10,11/03/2024 1:30 AM,PIX,10.0,BRL,1\n"
        + "p3,10,2024-11-03T01:30:00-04:00,PIX,10.0,BRL,1\n"
        + "p4,10,03/13/2024 3:30 AM,PIX,10.0,BRL,1\n"
        + "p5,10,2024-11-03 02:00:00,PIX,10.0,BRL,1\n",
        spec=_zoned(datasets, "America/New_York"),
    )
    got = {r["payment_id"]: r["paid_at"].isoformat() for r in trusted_of(result)}
    assert got == {
        "p3": "2024-11-03T05:30:00",
        "p4": "2024-03-13T07:30:00",
        "p5": "2024-11-03T07:00:00",
    }
    errors = {json.loads(r["raw_record"])["payment_id"]: r for r in quarantine_of(result)}
    assert errors["p1"]["failed_rules"] == "type:paid_at"
    assert errors["p1"]["error"] == (
        "paid_at 2024-03-10 02:30:00 does not exist in America/New_York: its clocks skipped "
        "that time (write its offset: 2024-11-03T01:30:00-04:00)"
    )
    assert errors["p2"]["error"] == (
        "paid_at 11/03/2024 1:30 AM happens twice in America/New_York: its clocks went back "
        "over that time (write its offset: 2024-11-03T01:30:00-04:00)"
    )


def test_a_timezone_must_be_one_the_engine_knows(datasets: DatasetCatalog) -> None:
    declared = datasets.get("payments").model_dump()
    with pytest.raises(ValidationError, match="'America/Sao_Pablo' is not a time zone"):
        DatasetSpec.model_validate({**declared, "timezone": "America/Sao_Pablo"})
