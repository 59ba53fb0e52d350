"""etl-layers benchmark: a ~1 GB RAW CSV (10 M rows) through the layer transformation.

Two comparisons, each child in its own subprocess (peak RSS read with resource.getrusage in the
child), all with the Lambda's settings (192 MB DuckDB memory limit in a 512 MB function,
2 threads):

- the floor: the service against DuckDB's plain partitioned COPY of the same file to zstd
  Parquet with no rules (types and the date's day only), run alternately in the same run,
  ETL_BENCH_REPEATS times each; the ratio of the medians is the service's cost over the floor,
  and the service's own step timings say where it goes;
- pandas: a straightforward pandas implementation of the same rules. pandas holds the whole
  file in memory several times over, so it runs on a 1 M-row slice of the same file, and the
  service runs on that slice too for the ratio.

Run: make bench (or: uv run pytest -m bench tests/benchmarks/test_etl_layers.py -s -p no:xdist;
-k floor for the floor alone). Size: ETL_BENCH_ROWS (default 10_000_000), ETL_BENCH_SLICE_ROWS
(default 1_000_000), ETL_BENCH_REPEATS (default 3). Figures go to BENCHMARKS.md by hand;
nothing here asserts on time, only that every run gives the same counts.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

pytestmark = pytest.mark.bench

ROWS = int(os.environ.get("ETL_BENCH_ROWS", "10000000"))
SLICE_ROWS = int(os.environ.get("ETL_BENCH_SLICE_ROWS", "1000000"))
REPEATS = int(os.environ.get("ETL_BENCH_REPEATS", "3"))
# The ETL function's default (template parameter DuckDbMemoryLimit) in its 512 MB.
MEMORY_LIMIT = os.environ.get("ETL_BENCH_MEMORY_LIMIT", "192MB")
NOW = datetime(2026, 11, 22, 12, 0)
BANDS = ((100.0, "LOW"), (1000.0, "MEDIUM"), (10000.0, "HIGH"))


def generate_csv(path: Path, rows: int) -> None:
    """The seed's columns, ~100 bytes a row: 0.5% duplicated ids, 0.1% bad amounts, some
    negative amounts and future dates, a quarter of the dates as dd/MM/yyyy."""
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute(
        f"""
        COPY (
            SELECT CASE WHEN i % 200 = 0 THEN i - 1 ELSE i END AS id,
                   'Transaction ' || i || ' customer ' || md5(i::VARCHAR)[:24] AS name,
                   CASE WHEN i % 1000 = 7 THEN 'n/a'
                        ELSE round(((hash(i) % 2000000)::DOUBLE / 100.0) - 500.0, 2)::VARCHAR
                   END AS amount,
                   CASE WHEN i % 4 = 0
                        THEN strftime(DATE '2024-01-01' + (i % 366)::INTEGER, '%d/%m/%Y')
                        ELSE strftime(DATE '2024-01-01' + (i % 366)::INTEGER, '%Y-%m-%d')
                   END AS date,
                   'Category ' || (hash(i * 7) % 12) AS category
            FROM range(1, {rows} + 1) t(i)
        ) TO '{path}' (HEADER, DELIMITER ',')
        """
    )
    con.close()


def slice_csv(source: Path, dest: Path, rows: int) -> None:
    with source.open("rb") as src, dest.open("wb") as out:
        for n, line in enumerate(src):
            if n > rows:
                break
            out.write(line)


def run_child(mode: str, csv: Path, work: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, mode, str(csv), str(work)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    folder = tmp_path_factory.mktemp("etl-bench")
    full, part = folder / "transactions.csv", folder / "slice.csv"
    started = time.perf_counter()
    generate_csv(full, ROWS)
    slice_csv(full, part, SLICE_ROWS)
    print(
        f"\ngenerated {ROWS:,} rows, {full.stat().st_size / 1e9:.2f} GB "
        f"in {time.perf_counter() - started:.1f}s"
    )
    yield full, part
    full.unlink()
    part.unlink()


def test_service_vs_partitioned_copy_floor(files: tuple[Path, Path], tmp_path: Path) -> None:
    full, _ = files
    runs: dict[str, list[dict[str, Any]]] = {"floor": [], "service": []}
    for n in range(REPEATS):
        for mode in ("floor", "service"):  # alternated, so load on the machine hits both
            runs[mode].append(run_child(mode, full, tmp_path / f"{mode}{n}"))
    service, floor = runs["service"], runs["floor"]
    # Outputs unchanged: every service run gives the same counts, and reads every row.
    counts = ("rows_in", "rows_out", "rows_quarantined", "rows_duplicates", "files")
    assert len({tuple(r[k] for k in counts) for r in service}) == 1
    assert service[0]["rows_in"] == ROWS
    assert {r["rows"] for r in floor} == {ROWS - ROWS // 1000}  # the unreadable amounts
    median = {mode: statistics.median(r["seconds"] for r in rs) for mode, rs in runs.items()}
    print(f"\nfull file, {ROWS:,} rows, {full.stat().st_size / 1e9:.2f} GB, {REPEATS} runs each")
    for mode, rs in runs.items():
        print(
            f"  {mode}: seconds {[r['seconds'] for r in rs]}, median {median[mode]:.1f} s, "
            f"peak RSS {max(r['max_rss_mb'] for r in rs)} MB"
        )
    steps = {
        step: statistics.median(r["steps"][step] for r in service) for step in service[0]["steps"]
    }
    print("  service steps (median s): " + ", ".join(f"{k} {v:.1f}" for k, v in steps.items()))
    print(f"  service counts: {dict((k, service[0][k]) for k in counts)}")
    print(f"  service / floor: {median['service'] / median['floor']:.2f}x")


def test_service_vs_pandas(files: tuple[Path, Path], tmp_path: Path) -> None:
    full, part = files
    service_slice = run_child("service", part, tmp_path / "s1")
    pandas_slice = run_child("pandas", part, tmp_path / "p1")
    service_full = run_child("service", full, tmp_path / "s2")
    # Same rules, same answer: what reaches TRUSTED and QUARANTINE agrees on the slice.
    for key in ("rows_in", "rows_out", "rows_quarantined", "rows_duplicates"):
        assert service_slice[key] == pandas_slice[key], key
    assert service_full["rows_in"] == ROWS
    ratio = service_slice["rows_per_s"] / pandas_slice["rows_per_s"]
    size_gb = full.stat().st_size / 1e9
    print(f"\nslice ({SLICE_ROWS:,} rows): service {service_slice}\n  pandas  {pandas_slice}")
    print(f"full ({ROWS:,} rows, {size_gb:.2f} GB): service {service_full}")
    print(f"service / pandas rows/s on the slice: {ratio:.1f}x")
    per_mb = pandas_slice["max_rss_mb"] / (part.stat().st_size / 1e6)
    print(f"pandas peak RSS per MB of input: {per_mb:.1f} MB")


# --- children ---------------------------------------------------------------------------------


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def service_child(csv: Path, work: Path) -> dict[str, Any]:
    from etl_layers.datasets import DatasetCatalog, default_datasets_dir
    from etl_layers.readers import FileFormat
    from etl_layers.transform import EngineLimits, TransformRequest, transform

    spec = DatasetCatalog.load(default_datasets_dir()).get("transactions")
    started = time.perf_counter()
    result = transform(
        TransformRequest(
            path=csv,
            format=FileFormat.CSV,
            spec=spec,
            stem="bench-0000000000000000",
            source_uri="s3://raw/transactions/bench.csv",
            workdir=work,
            now=NOW,
            pipeline_version="bench",
            limits=EngineLimits(memory_limit=MEMORY_LIMIT, threads=2),
        )
    )
    seconds = time.perf_counter() - started
    return {
        "rows_in": result.rows_in,
        "rows_out": result.rows_out,
        "rows_quarantined": result.rows_quarantined,
        "rows_duplicates": result.rows_duplicates,
        "seconds": round(seconds, 2),
        "rows_per_s": round(result.rows_in / seconds),
        "max_rss_mb": round(_rss_mb()),
        "files": len(result.trusted) + len(result.delivery),
        "steps": getattr(result, "seconds", {}),  # absent in builds before step timings
    }


def floor_child(csv: Path, work: Path) -> dict[str, Any]:
    """DuckDB's plain partitioned COPY of the file to zstd Parquet: typed columns and the day
    of the date, no rules, no dedupe, no second layer. The floor the service is held to."""
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute("SET threads = 2")
    con.execute(f"SET temp_directory = '{work / 'spill'}'")
    con.execute("SET preserve_insertion_order = false")
    started = time.perf_counter()
    con.execute(
        f"""
        COPY (
            SELECT id, name, amount, strftime(d, '%Y-%m-%d') AS date, category,
                   strftime(d, '%Y') AS year, strftime(d, '%m') AS month,
                   strftime(d, '%d') AS day
            FROM (
                SELECT TRY_CAST(id AS BIGINT) AS id, name, TRY_CAST(amount AS DOUBLE) AS amount,
                       COALESCE(TRY_CAST(date AS DATE), TRY_STRPTIME(date, '%d/%m/%Y')::DATE) AS d,
                       category
                FROM read_csv('{csv}', header = true, auto_detect = false,
                              columns = {{'id': 'VARCHAR', 'name': 'VARCHAR',
                                          'amount': 'VARCHAR', 'date': 'VARCHAR',
                                          'category': 'VARCHAR'}})
            )
            WHERE amount IS NOT NULL
        ) TO '{work / "out"}' (FORMAT parquet, COMPRESSION zstd,
                              PARTITION_BY (year, month, day))
        """
    )
    seconds = time.perf_counter() - started
    rows = con.execute(
        f"SELECT count(*) FROM read_parquet('{work / 'out'}/**/*.parquet')"
    ).fetchone()
    return {
        "rows": rows[0] if rows else 0,
        "seconds": round(seconds, 2),
        "max_rss_mb": round(_rss_mb()),
    }


def pandas_child(csv: Path, work: Path) -> dict[str, Any]:
    """The same rules as the transactions declaration, the way one writes them in pandas."""
    import numpy as np
    import pandas as pd

    started = time.perf_counter()
    df = pd.read_csv(csv, dtype=str, keep_default_na=False)
    rows_in = len(df)
    text = df.apply(lambda column: column.str.strip().replace("", None))
    ids = pd.to_numeric(text["id"], errors="coerce")
    amount_text = text["amount"].str.replace(
        r"^(-?\d{1,3}(,\d{3})+(\.\d+)?)$", lambda m: m.group(1).replace(",", ""), regex=True
    )
    amounts = pd.to_numeric(amount_text, errors="coerce")
    iso = pd.to_datetime(text["date"], format="%Y-%m-%d", errors="coerce")
    dates = iso.fillna(pd.to_datetime(text["date"], format="%d/%m/%Y", errors="coerce"))
    failed = (
        text["id"].isna()
        | (text["id"].notna() & ids.isna())
        | text["amount"].isna()
        | (text["amount"].notna() & amounts.isna())
        | text["date"].isna()
        | (text["date"].notna() & dates.isna())
    )
    quarantined = df[failed]
    quarantined.to_parquet(work / "quarantine.parquet", compression="zstd")
    good = pd.DataFrame(
        {
            "id": ids[~failed].astype("int64"),
            "name": text["name"][~failed].fillna("UNKNOWN"),
            "amount": amounts[~failed],
            "date": dates[~failed],
            "category": text["category"][~failed].fillna("UNCATEGORIZED"),
        }
    )
    flags = pd.DataFrame(
        {
            "defaulted:name": text["name"][~failed].isna(),
            "negative:amount": good["amount"] < 0,
            "future:date": good["date"] > pd.Timestamp(NOW.date()),
            "defaulted:category": text["category"][~failed].isna(),
        }
    )
    mean, std = good["amount"].mean(), good["amount"].std(ddof=0)
    if len(good) >= 10 and std:
        flags["outlier:amount"] = (good["amount"] - mean).abs() > 3 * std
    completeness = text[~failed].notna().sum(axis=1) / 5
    good["data_quality_score"] = (completeness * (1 - 0.1 * flags.sum(axis=1))).clip(lower=0)
    good["quality_flags"] = flags.apply(lambda row: ",".join(row.index[row]), axis=1)
    good = good.sort_values(
        ["data_quality_score", "quality_flags", "name", "amount", "category"],
        ascending=[False, True, True, True, True],
    ).drop_duplicates("id")
    good["processed_timestamp"] = pd.Timestamp(NOW)
    good["source_file"] = "s3://raw/transactions/bench.csv"
    good["processing_layer"] = "TRUSTED"
    good["year"] = good["date"].dt.strftime("%Y")
    good["month"] = good["date"].dt.strftime("%m")
    good["day"] = good["date"].dt.strftime("%d")
    good["date"] = good["date"].dt.strftime("%Y-%m-%d")
    good.to_parquet(
        work / "trusted",
        partition_cols=["year", "month", "day"],
        compression="zstd",
        max_partitions=100_000,
    )
    conditions = [good["amount"] < limit for limit, _ in BANDS]
    detail = good.assign(
        amount_category=np.select(conditions, [name for _, name in BANDS], "VERY_HIGH"),
        record_type="DETAIL",
        processing_layer="DELIVERY",
        pipeline_version="bench",
    )
    summary = (
        good.groupby(["year", "month", "day", "category"])
        .agg(
            record_count=("amount", "size"),
            total_amount=("amount", "sum"),
            mean_amount=("amount", "mean"),
            min_amount=("amount", "min"),
            max_amount=("amount", "max"),
            mean_quality_score=("data_quality_score", "mean"),
        )
        .reset_index()
        .assign(record_type="DAILY_SUMMARY")
    )
    delivery = pd.concat([detail, summary], ignore_index=True)
    delivery.to_parquet(
        work / "delivery",
        partition_cols=["record_type", "year", "month", "day"],
        compression="zstd",
        max_partitions=100_000,
    )
    seconds = time.perf_counter() - started
    return {
        "rows_in": rows_in,
        "rows_out": len(good),
        "rows_quarantined": len(quarantined),
        "rows_duplicates": int((~failed).sum()) - len(good),
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows_in / seconds),
        "max_rss_mb": round(_rss_mb()),
    }


if __name__ == "__main__":
    mode, csv_path, work_path = sys.argv[1:4]
    work_dir = Path(work_path)
    work_dir.mkdir(parents=True, exist_ok=True)
    child = {"service": service_child, "pandas": pandas_child, "floor": floor_child}[mode]
    print(json.dumps(child(Path(csv_path), work_dir)))
