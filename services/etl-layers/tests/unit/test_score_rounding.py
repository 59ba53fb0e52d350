"""Derived scores are stored rounded to their meaning: 0.72, never 0.7200000000000001."""

from __future__ import annotations

from typing import Any

import pyarrow.parquet as pq

SAMPLE = (
    "id,name,amount,date,category\n"
    "1,Transaction A,150.50,2024-01-15,Sales\n"
    "2,Transaction B,75.25,2024-01-15,\n"
    "3,Transaction C,12.00,2024-01-15,\n"
)


def test_scores_and_their_daily_mean_are_stored_rounded(run_transform: Any) -> None:
    result = run_transform(SAMPLE)

    trusted = [pq.read_table(o.path).to_pylist() for o in result.trusted]
    scores = sorted(row["data_quality_score"] for rows in trusted for row in rows)
    delivery = [row for o in result.delivery for row in pq.read_table(o.path).to_pylist()]
    means = {row["mean_quality_score"] for row in delivery if row["mean_quality_score"]}

    # 0.8 completeness x (1 - 0.1 x 1 defaulted flag) is 0.7200000000000001 in binary.
    assert [repr(score) for score in scores] == ["0.72", "0.72", "1.0"]
    assert all(repr(mean) == repr(round(mean, 4)) for mean in means)
