"""Layer files: one per partition, named from the run's stem, whoever writes them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from etl_layers.datasets import DatasetCatalog
from etl_layers.readers import FileFormat
from etl_layers.transform import DEFAULT_LIMITS, TransformRequest, _Run, connect


@pytest.mark.parametrize("max_open_files", [100, 1])
def test_each_partition_is_one_file_with_all_its_rows(
    datasets: DatasetCatalog,
    tmp_path: Path,
    parquet_rows: Callable[[Path], list[dict[str, Any]]],
    max_open_files: int,
) -> None:
    con = connect(tmp_path / "engine", DEFAULT_LIMITS)
    # Even with one file open at a time, rows that come grouped by day give one file a day.
    con.execute(f"SET partitioned_write_max_open_files = {max_open_files}")
    request = TransformRequest(
        path=tmp_path / "unused.csv",
        format=FileFormat.CSV,
        spec=datasets.get("transactions"),
        stem="out-0123456789abcdef",
        source_uri="s3://raw/transactions/unused.csv",
        workdir=tmp_path / "engine",
        now=datetime(2026, 11, 22, 12),
        pipeline_version="9.9.9",
    )
    run = _Run(con, request)
    select = (
        "SELECT i AS id, '2024' AS year, '01' AS month, lpad((i % 3 + 1)::VARCHAR, 2, '0') AS day "
        "FROM range(3000) t(i) ORDER BY day"
    )
    outputs = run._copy(select, tmp_path / "out", ("year", "month", "day"))
    assert sorted(o.relative for o in outputs) == [
        f"year=2024/month=01/day=0{d}/out-0123456789abcdef_0.parquet" for d in (1, 2, 3)
    ]
    assert sum(len(parquet_rows(o.path)) for o in outputs) == 3000
    assert (
        sorted(p.name for p in (tmp_path / "out").rglob("*.parquet"))
        == ["out-0123456789abcdef_0.parquet"] * 3
    )
