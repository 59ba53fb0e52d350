"""The reprocess job over a RAW prefix."""

from __future__ import annotations

from typing import Any

import pytest
from etl_layers.pipeline import Pipeline
from etl_layers.reprocess import ReprocessArgumentsError, main, parse_arguments, reprocess

CSV = b"id,name,amount,date,category\n1,A,10,2024-01-15,Sales\n"


def test_parse_glue_arguments() -> None:
    assert parse_arguments(
        ["script.py", "--prefix", "transactions/2024/", "--transaction_id=tx-1", "--flag"]
    ) == {"prefix": "transactions/2024/", "transaction_id": "tx-1", "flag": ""}


def test_reprocess_runs_every_object_under_the_prefix_once(pipeline: Pipeline, store: Any) -> None:
    store.put("raw", "transactions/2024/a.csv", CSV)
    store.put("raw", "transactions/2024/b.csv", CSV.replace(b"1,A", b"2,B"))
    store.put("raw", "transactions/2024/bad.csv", b"")
    store.put("raw", "transactions/2025/c.csv", CSV)
    report = reprocess(pipeline, raw_bucket="raw", prefix="transactions/2024/", correlation_id="tx")
    assert dict(report.statuses) == {"published": 2, "file_quarantined": 1}
    assert report.failed == {}
    again = reprocess(pipeline, raw_bucket="raw", prefix="transactions/2024/", correlation_id="tx")
    assert dict(again.statuses) == {"already_done": 3}
    events = pipeline.publisher.published  # type: ignore[attr-defined]
    assert [correlation for _, correlation, _ in events] == ["tx", "tx"]


def test_main_requires_prefix_and_transaction_id(pipeline: Pipeline) -> None:
    with pytest.raises(ReprocessArgumentsError, match="--transaction_id"):
        main(["--prefix", "transactions/"], pipeline=pipeline)


def test_main_reports_success(pipeline: Pipeline, store: Any, capsys: Any) -> None:
    store.put("raw", "transactions/a.csv", CSV)
    argv = ["--prefix", "transactions/", "--transaction_id", "tx-9", "--raw_bucket", "raw"]
    for name in ("trusted", "delivery", "quarantine"):
        argv += [f"--{name}_bucket", name]
    argv += ["--event_topic_arn", "arn:aws:sns:us-east-1:123456789012:t", "--glue_database", "d"]
    assert main(argv, pipeline=pipeline) == 0
    assert '"published": 1' in capsys.readouterr().out
