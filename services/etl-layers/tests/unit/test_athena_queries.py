"""The seed's Athena queries (its README, unchanged) run as DuckDB SQL over the written Parquet.

The seed's tables become views named like its Athena tables, over the TRUSTED and DELIVERY
layout this service writes (Hive partitions, partition values as strings, as Athena sees them).
"""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

SEED_QUERIES = {
    "processed_today": """
-- Registros processados hoje
SELECT record_type, COUNT(*) as total_records
FROM etl_pipeline.delivery_data
WHERE year = '2024' AND month = '01' AND day = '15'
GROUP BY record_type;
""",
    "quality": """
-- Qualidade dos dados
SELECT
    AVG(data_quality_score) as avg_quality,
    MIN(data_quality_score) as min_quality,
    MAX(data_quality_score) as max_quality
FROM etl_pipeline.trusted_data
WHERE year = '2024' AND month = '01';
""",
    "top_categories": """
-- Top categorias por valor
SELECT
    category,
    SUM(amount) as total_amount,
    COUNT(*) as transaction_count
FROM etl_pipeline.trusted_data
WHERE year = '2024'
GROUP BY category
ORDER BY total_amount DESC;
""",
}

SAMPLE = (
    "id,name,amount,date,category\n"
    "1,Transaction A,150.50,2024-01-15,Sales\n"
    "2,Transaction B,75.25,2024-01-16,Marketing\n"
    "3,Transaction C,300.00,2024-01-17,Sales\n"
    "4,Transaction D,20.00,2024-01-15,Marketing\n"
    "5,,10.00,2024-01-15,\n"
    "6,Transaction F,-5.00,2024-02-01,Sales\n"
)


@pytest.fixture
def athena(run_transform: Any) -> duckdb.DuckDBPyConnection:
    result = run_transform(SAMPLE)
    root = result.trusted[0].path.parents[3]  # .../out/trusted
    con = duckdb.connect()
    con.execute("CREATE SCHEMA etl_pipeline")
    for table, layer in (("trusted_data", "trusted"), ("delivery_data", "delivery")):
        con.execute(
            f"CREATE VIEW etl_pipeline.{table} AS SELECT * FROM read_parquet("
            f"'{root.parent / layer}/**/*.parquet', hive_partitioning = true, "
            "hive_types_autocast = false, union_by_name = true)"
        )
    return con


def test_records_processed_today(athena: duckdb.DuckDBPyConnection) -> None:
    rows = athena.execute(SEED_QUERIES["processed_today"]).fetchall()
    # 2024-01-15: three detail rows, and a summary row for each of its three categories.
    assert sorted(rows) == [("DAILY_SUMMARY", 3), ("DETAIL", 3)]


def test_data_quality(athena: duckdb.DuckDBPyConnection) -> None:
    ((avg, low, high),) = athena.execute(SEED_QUERIES["quality"]).fetchall()
    # Row 5 lacks name and category: completeness 3/5, two defaulted flags.
    assert (low, high) == pytest.approx((0.6 * 0.8, 1.0))
    assert avg == pytest.approx((4 * 1.0 + 0.48) / 5)


def test_top_categories_by_value(athena: duckdb.DuckDBPyConnection) -> None:
    rows = athena.execute(SEED_QUERIES["top_categories"]).fetchall()
    assert rows == [
        ("Sales", pytest.approx(445.5), 3),
        ("Marketing", pytest.approx(95.25), 2),
        ("UNCATEGORIZED", pytest.approx(10.0), 1),
    ]
