"""Quality rules: each hard rule quarantines, each soft rule flags, scores and dedupe."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from etl_layers.transform import TransformResult

HEADER = "id,name,amount,date,category\n"
Rows = Callable[[TransformResult], list[dict[str, Any]]]
PAYMENTS = "payment_id,merchant_id,paid_at,method,amount,currency,installments\n"


def _only_quarantined(result: TransformResult, quarantine_of: Rows) -> dict[str, Any]:
    assert result.rows_out == 0
    (row,) = quarantine_of(result)
    return row


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        (",A,10,2024-01-15,Sales", "required:id"),
        ("1,A,,2024-01-15,Sales", "required:amount"),
        ("1,A,10,,Sales", "required:date"),
        ("x1,A,10,2024-01-15,Sales", "type:id"),
        ("1,A,ten,2024-01-15,Sales", "type:amount"),
        ("1,A,10,2024-13-45,Sales", "type:date"),
        ("1,A,10,31/02/2024,Sales", "type:date"),
    ],
)
def test_hard_rules_quarantine_the_row_with_the_rule(
    run_transform: Any, quarantine_of: Rows, line: str, rule: str
) -> None:
    result = run_transform(HEADER + line + "\n")
    row = _only_quarantined(result, quarantine_of)
    assert row["failed_rules"] == rule
    assert row["source_file"] == "s3://raw/transactions/input.csv"
    assert json.loads(row["raw_record"])["name"] == "A"


def test_every_failed_rule_is_explained(run_transform: Any, quarantine_of: Rows) -> None:
    row = _only_quarantined(run_transform(HEADER + ",A,,2024-01-15,Sales\n"), quarantine_of)
    assert (row["failed_rules"], row["error"]) == (
        "required:id,required:amount",
        "id is empty or missing; amount is empty or missing",
    )


def test_every_failed_rule_is_listed(run_transform: Any, quarantine_of: Rows) -> None:
    row = _only_quarantined(run_transform(HEADER + "x,A,ten,2024-01-15,Sales\n"), quarantine_of)
    assert row["failed_rules"] == "type:id,type:amount"


def test_allowed_values_rule(run_transform: Any, quarantine_of: Rows, trusted_of: Rows) -> None:
    result = run_transform(
        PAYMENTS
        + "p1,10,2024-03-01T10:00:00Z,PIX,10.0,BRL,1\n"
        + "p2,10,2024-03-01T11:00:00Z,CHEQUE,10.0,BRL,1\n"
        + "p3,10,2024-03-01T12:00:00Z,PIX,10.0,,\n",
        dataset="payments",
    )
    assert [r["payment_id"] for r in trusted_of(result)] == ["p1", "p3"]
    (row,) = quarantine_of(result)
    assert (row["failed_rules"], row["error"]) == (
        "allowed:method",
        "method CHEQUE is not one of PIX, CREDIT_CARD, DEBIT_CARD, BOLETO",
    )
    p3 = trusted_of(result)[1]
    assert (p3["currency"], p3["installments"]) == ("BRL", 1)
    assert p3["quality_flags"] == "defaulted:currency,defaulted:installments"


def test_timestamp_with_offset_is_stored_in_utc(run_transform: Any, trusted_of: Rows) -> None:
    result = run_transform(
        PAYMENTS + "p1,10,2024-03-01T23:30:00-03:00,PIX,10.0,BRL,1\n", dataset="payments"
    )
    (row,) = trusted_of(result)
    assert row["paid_at"].isoformat() == "2024-03-02T02:30:00"
    assert result.trusted[0].partition == "year=2024/month=03/day=02"


def test_min_and_max(run_transform: Any, trusted_of: Rows) -> None:
    result = run_transform(
        PAYMENTS
        + "p1,10,2024-03-01 10:00:00,CREDIT_CARD,10.0,BRL,0\n"
        + "p2,10,2024-03-01 10:00:00,CREDIT_CARD,10.0,BRL,36\n",
        dataset="payments",
    )
    assert [r["quality_flags"] for r in trusted_of(result)] == [
        "below_min:installments",
        "above_max:installments",
    ]


def test_negative_amount_is_flagged_not_dropped(run_transform: Any, trusted_of: Rows) -> None:
    (row,) = trusted_of(run_transform(HEADER + "1,Refund,-50,2024-01-15,Sales\n"))
    assert row["amount"] == -50.0
    assert row["quality_flags"] == "negative:amount"
    assert row["data_quality_score"] == pytest.approx(0.9)


def test_future_date_is_flagged(run_transform: Any, trusted_of: Rows) -> None:
    # The tests' clock is 2026-11-22.
    result = run_transform(HEADER + "1,A,10,2026-11-22,Sales\n2,B,10,2026-11-23,Sales\n")
    assert [r["quality_flags"] for r in trusted_of(result)] == ["", "future:date"]


def test_outliers_are_flagged_against_the_files_distribution(
    run_transform: Any, trusted_of: Rows
) -> None:
    lines = [f"{i},N,{100 + i % 5},2024-01-15,Sales" for i in range(1, 30)]
    lines.append("99,Whale,1000000,2024-01-15,Sales")
    rows = trusted_of(run_transform(HEADER + "\n".join(lines) + "\n"))
    flagged = {r["id"]: r["quality_flags"] for r in rows if r["quality_flags"]}
    assert flagged == {99: "outlier:amount"}


def test_no_outliers_on_tiny_files(run_transform: Any, trusted_of: Rows) -> None:
    rows = trusted_of(run_transform(HEADER + "1,A,1,2024-01-15,S\n2,B,1000000,2024-01-15,S\n"))
    assert all(r["quality_flags"] == "" for r in rows)


def test_quality_score_is_completeness_times_flag_penalty(
    run_transform: Any, trusted_of: Rows
) -> None:
    result = run_transform(
        HEADER
        + "1,A,10,2024-01-15,Sales\n"  # complete, no flags
        + "2,,10,2024-01-15,\n"  # 3/5 present, two defaulted flags
        + "3,,-10,2030-01-01,\n"  # 3/5 present, four flags
    )
    scores = [r["data_quality_score"] for r in trusted_of(result)]
    assert scores == pytest.approx([1.0, 0.6 * 0.8, 0.6 * 0.6])
    assert result.mean_quality_score == pytest.approx((1.0 + 0.48 + 0.36) / 3)


def test_processing_metadata(run_transform: Any, trusted_of: Rows) -> None:
    (row,) = trusted_of(run_transform(HEADER + "1,A,10,2024-01-15,Sales\n"))
    assert row["processing_layer"] == "TRUSTED"
    assert row["source_file"] == "s3://raw/transactions/input.csv"
    assert row["processed_timestamp"].isoformat() == "2026-11-22T12:00:00"


def test_duplicates_in_the_file_are_removed_keeping_the_best_row(
    run_transform: Any, trusted_of: Rows
) -> None:
    result = run_transform(
        HEADER
        + "1,,10,2024-01-15,Sales\n"
        + "1,Complete,10,2024-01-15,Sales\n"
        + "1,Complete,10,2024-01-15,Sales\n"
        + "2,B,20,2024-01-16,Sales\n"
    )
    assert [(r["id"], r["name"]) for r in trusted_of(result)] == [(1, "Complete"), (2, "B")]
    assert (result.rows_in, result.rows_out, result.rows_duplicates) == (4, 2, 2)


def test_rows_already_in_trusted_for_the_partition_are_not_written_again(
    run_transform: Any, trusted_of: Rows, tmp_path: Path
) -> None:
    first = run_transform(HEADER + "1,A,10,2024-01-15,Sales\n2,B,20,2024-01-16,Sales\n")
    existing = [(o.partition, o.path) for o in first.trusted]
    second = run_transform(
        HEADER
        + "1,A again,10,2024-01-15,Sales\n"  # same key, same partition: duplicate
        + "2,B moved,20,2024-01-17,Sales\n"  # same key, other partition: kept
        + "3,C,30,2024-01-15,Sales\n",
        existing=existing,
    )
    assert [(r["id"], r["name"]) for r in trusted_of(second)] == [(2, "B moved"), (3, "C")]
    assert second.rows_duplicates == 1


def test_delivery_detail_and_daily_summary(
    run_transform: Any, parquet_rows: Callable[[Path], list[dict[str, Any]]]
) -> None:
    result = run_transform(
        HEADER
        + "1,A,50,2024-01-15,Sales\n"
        + "2,B,500,2024-01-15,Sales\n"
        + "3,C,5000,2024-01-15,Ops\n"
        + "4,D,50000,2024-01-16,Ops\n"
    )
    assert result.delivery_partitions == [
        "record_type=DAILY_SUMMARY/year=2024/month=01/day=15",
        "record_type=DAILY_SUMMARY/year=2024/month=01/day=16",
        "record_type=DETAIL/year=2024/month=01/day=15",
        "record_type=DETAIL/year=2024/month=01/day=16",
    ]
    by_partition = {o.partition: parquet_rows(o.path) for o in result.delivery}
    detail = by_partition["record_type=DETAIL/year=2024/month=01/day=15"]
    assert sorted((r["id"], r["amount_category"]) for r in detail) == [
        (1, "LOW"),
        (2, "MEDIUM"),
        (3, "HIGH"),
    ]
    assert {r["pipeline_version"] for r in detail} == {"9.9.9"}
    assert {r["processing_layer"] for r in detail} == {"DELIVERY"}
    assert {r["day_of_week"] for r in detail} == {1}  # 2024-01-15 was a Monday
    summary = by_partition["record_type=DAILY_SUMMARY/year=2024/month=01/day=15"]
    assert sorted(
        (r["category"], r["record_count"], r["total_amount"], r["mean_amount"]) for r in summary
    ) == [("Ops", 1, 5000.0, 5000.0), ("Sales", 2, 550.0, 275.0)]
    (very_high,) = by_partition["record_type=DETAIL/year=2024/month=01/day=16"]
    assert very_high["amount_category"] == "VERY_HIGH"


def test_a_day_of_cents_totals_to_the_cent(
    run_transform: Any, parquet_rows: Callable[[Path], list[dict[str, Any]]]
) -> None:
    """Ten rows of 0.10 are 1.00, not a floating sum's 0.9999999999999999, and the total does
    not depend on the order the rows come in."""
    rows = [f"{i},N{i},0.1,2024-01-15,Sales\n" for i in range(1, 11)]
    rows += [f"{i},N{i},{a},2024-01-15,Ops\n" for i, a in enumerate(["1e16", "1", "-1e16"], 11)]
    totals = []
    for ordered in (rows, rows[::-1]):
        result = run_transform(HEADER + "".join(ordered))
        (summary,) = [o for o in result.delivery if "DAILY_SUMMARY" in o.partition]
        totals.append(
            sorted(
                (r["category"], r["total_amount"], r["mean_amount"])
                for r in parquet_rows(summary.path)
            )
        )
    assert totals[0] == totals[1] == [("Ops", 1.0, 1 / 3), ("Sales", 1.0, 0.1)]


def test_same_input_gives_the_same_output_names(run_transform: Any) -> None:
    content = HEADER + "1,A,10,2024-01-15,Sales\n2,B,x,2024-01-16,Sales\n"
    first, second = run_transform(content), run_transform(content)
    assert [o.relative for o in first.trusted] == [o.relative for o in second.trusted]
    assert [o.relative for o in first.delivery] == [o.relative for o in second.delivery]
    assert first.trusted[0].relative == "year=2024/month=01/day=15/out-0123456789abcdef_0.parquet"
