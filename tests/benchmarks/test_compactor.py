"""compactor benchmark: one realistic day of Kafka Connect sink files into Parquet.

The day (compactor.sample: 70,000 files of 1-20 NDJSON records, ~735 k records, nested fields,
1% of files drifting) is written to the local file system, then, each in its own subprocess
(wall time and peak RSS from resource.getrusage in the child), in the same run:

- floor: read every byte of every file, nothing else (listing the files is timed apart: the
  floor and the range path are also reported without it, as a range gets its keys from
  Plan);
- compactor: the service's range path (screen every line with msgspec, each chunk checked for
  what that skips; one DuckDB parse of the passing lines, zstd Parquet) over the whole day as
  one range (the day is under the 256 MB target), with the Compact function's settings (1 GB
  DuckDB limit, 2 threads);
- DuckDB read_json over the glob with union_by_name (the drift-correct glob read, tuned as in
  the baselines: memory_limit 4TB, threads 1, preserve_insertion_order off);
- naive: orjson.loads per line into one list, pyarrow Table.from_pylist, one Parquet write.

Against the emulator's S3 (moto server on 127.0.0.1, a sample of COMPACTOR_BENCH_S3_FILES):
the GET floor (every object fetched with 32 threads, nothing else) and the service's
compact_range through its S3 adapter (fetch, screen, parse, upload); then once more with one
object added whose record has a Latin-1 byte in a field that is not declared, so the range is
screened a second time, the exact way (from the first pass's local copy of its objects).

Each compaction checks rows out = records in and that every field of the input is a column.
Run: make bench (or: uv run pytest -m bench tests/benchmarks/test_compactor.py -s -p no:xdist)
Size: COMPACTOR_BENCH_FILES (default 70000), COMPACTOR_BENCH_S3_FILES (default 5000),
COMPACTOR_BENCH_GLOB=0 skips the DuckDB glob read. Figures go to BENCHMARKS.md by hand;
nothing here asserts on time.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.bench

FILES = int(os.environ.get("COMPACTOR_BENCH_FILES", "70000"))
S3_FILES = int(os.environ.get("COMPACTOR_BENCH_S3_FILES", "5000"))
GLOB = os.environ.get("COMPACTOR_BENCH_GLOB", "1") != "0"
DAY = date(2026, 11, 21)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    """User + system CPU of the process and its threads: on a machine shared with other work,
    wall time grows with the load, CPU time much less."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.json"))


def _fields(root: Path) -> set[str]:
    import orjson

    seen: set[str] = set()
    for path in _files(root):
        for line in path.read_bytes().splitlines():
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            seen.update(record)
    return seen


# --- the methods, each run in a child process ------------------------------------------------


def _listed(root: Path) -> tuple[list[Path], float]:
    """The day's files, and the seconds it took to list them: in the service, Plan lists the
    day and a range gets its keys, so the reading floor and the range path are also
    reported without the listing."""
    started = time.perf_counter()
    files = _files(root)
    return files, time.perf_counter() - started


def floor(root: Path, _out: Path) -> dict[str, Any]:
    total = 0
    files, listing = _listed(root)
    for path in files:
        with path.open("rb") as handle:
            total += len(handle.read())
    return {"bytes": total, "list_seconds": listing}


def compactor_local(root: Path, out: Path) -> dict[str, Any]:
    started = time.perf_counter()
    from compactor.compaction import EngineLimits, RangeLines, compact
    from compactor.domains import DomainCatalog, default_domains_dir
    from compactor.screening import Screened, Screener

    spec = DomainCatalog.load(default_domains_dir()).get("orders")
    # What a warm Lambda has already done before a range: importing the libraries, loading
    # the domains. Reported beside the wall time, which includes it.
    imports = time.perf_counter() - started
    screener, screened = Screener(spec.fields), Screened()
    limits = EngineLimits("1GB", 2)
    # As compact_range: the fast screening, each chunk checked for what it skips unseen (the
    # sample has none; compact refuses a range that would need the exact screening).
    files, listing = _listed(root)
    with RangeLines(out.parent, limits, check_skipped=True) as lines:
        screener.screen_files(((str(p), p.read_bytes()) for p in files), lines, screened)
        written = compact(lines, out, spec.fields, work_dir=out.parent, limits=limits)
    return {
        "rows": written.rows,
        "columns": sorted(written.names),
        "rejected": screened.rejected,
        "import_seconds": imports,
        "list_seconds": listing,
    }


def duckdb_glob(root: Path, out: Path) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect(
        config={"memory_limit": "4TB", "threads": 1, "preserve_insertion_order": False}
    )
    glob = str(root / "**" / "*.json").replace("'", "''")
    con.execute(
        f"COPY (SELECT * FROM read_json('{glob}', format='newline_delimited', "
        f"union_by_name=true)) TO '{out}' (FORMAT parquet, COMPRESSION zstd)"
    )
    described = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{out}')").fetchall()
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()
    return {"rows": rows[0] if rows else 0, "columns": [str(r[0]) for r in described]}


def naive(root: Path, out: Path) -> dict[str, Any]:
    import orjson
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = [
        orjson.loads(line) for path in _files(root) for line in path.read_bytes().splitlines()
    ]
    table = pa.Table.from_pylist(records)
    pq.write_table(table, out, compression="zstd")
    return {"rows": table.num_rows, "columns": table.schema.names}


def s3_floor(endpoint: str, bucket: str) -> dict[str, Any]:
    import boto3
    from botocore.config import Config

    s3 = boto3.client("s3", endpoint_url=endpoint, config=Config(max_pool_connections=32))
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="topics/")
        for o in page.get("Contents", [])
    ]

    def get(key: str) -> int:
        return len(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    with ThreadPoolExecutor(32) as pool:
        total = sum(pool.map(get, keys))
    return {"bytes": total, "objects": len(keys)}


def s3_compactor(endpoint: str, bucket: str) -> dict[str, Any]:
    import boto3
    from botocore.config import Config
    from compactor.adapters.s3 import S3ObjectStore
    from compactor.compaction import EngineLimits
    from compactor.domains import DomainCatalog, default_domains_dir
    from compactor.steps import Job, RangeTask
    from compactor.workflow import Compactor, CompactorConfig

    client = boto3.client("s3", endpoint_url=endpoint, config=Config(max_pool_connections=32))
    store = S3ObjectStore(client)
    app = Compactor(
        domains=DomainCatalog.load(default_domains_dir()),
        store=store,
        catalog=None,  # type: ignore[arg-type]  # plan and compact only
        publisher=None,  # type: ignore[arg-type]
        config=CompactorConfig(
            landing_bucket=bucket,
            lake_bucket=bucket,
            glue_database="bench",
            work_dir=Path(tempfile.mkdtemp()),
            limits=EngineLimits("1GB", 2),
            fetch_concurrency=32,
        ),
    )
    # The orders domain takes a file's day from LastModified: the sample was put today.
    today = datetime.now(UTC).date()
    job = Job(
        request_id="bench", domain="orders", date=today, correlation_id="bench", execution="bench"
    )
    planned = app.plan(job)
    assert planned.manifest_key is not None
    rows = 0
    for index in planned.ranges:
        rows += app.compact_range(
            RangeTask(job=job, manifest_key=planned.manifest_key, index=index)
        ).rows
    return {"rows": rows, "ranges": len(planned.ranges)}


METHODS = {f.__name__: f for f in (floor, compactor_local, duckdb_glob, naive)}
S3_METHODS = {f.__name__: f for f in (s3_floor, s3_compactor)}


def _child(argv: list[str]) -> None:
    name = argv[0]
    started = time.perf_counter()
    cpu = _cpu_seconds()
    if name in METHODS:
        result = METHODS[name](Path(argv[1]), Path(argv[2]))
    else:
        result = S3_METHODS[name](argv[1], argv[2])
    result.update(
        {
            "seconds": time.perf_counter() - started,
            "cpu_seconds": _cpu_seconds() - cpu,
            "peak_rss_mb": _rss_mb(),
        }
    )
    print(json.dumps(result))


def _run(args: list[str], timeout: float = 1800) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={
            **os.environ,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
        },
    )
    if done.returncode != 0:
        return {"failed": done.stderr.strip().splitlines()[-1:] or ["exit " + str(done.returncode)]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    from compactor.sample import generate

    root = tmp_path_factory.mktemp("landing")
    records = 0
    for sample in generate("orders", DAY, FILES):
        path = root / sample.key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(sample.body)
        records += sample.records
    return root, records


def _print(rows: list[tuple[str, dict[str, Any]]], floor: dict[str, Any]) -> None:
    print("\n| method | wall s | x floor | CPU s | x floor | peak RSS MB | rows | columns |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, r in rows:
        if "failed" in r:
            print(f"| {name} | failed: {r['failed']} | | | | | | |")
            continue
        wall = r["seconds"] / floor["seconds"]
        cpu = r["cpu_seconds"] / max(floor["cpu_seconds"], 1e-6)
        print(
            f"| {name} | {r['seconds']:.2f} | {wall:.1f} | {r['cpu_seconds']:.2f} | {cpu:.1f} | "
            f"{r['peak_rss_mb']:.0f} | {r.get('rows', '')} | {len(r.get('columns', [])) or ''} |"
        )


def test_local_day(day: tuple[Path, int], tmp_path: Path) -> None:
    root, records = day
    fields = _fields(root)
    size = sum(p.stat().st_size for p in _files(root))
    print(f"\nday: {FILES} files, {records} records, {size / 2**20:.0f} MiB, {len(fields)} fields")
    results: list[tuple[str, dict[str, Any]]] = []
    for name in METHODS:
        if name == "duckdb_glob" and not GLOB:
            continue
        out = tmp_path / name / "out.parquet"
        out.parent.mkdir()
        subprocess.run(["sync"], check=False)
        results.append((name, _run([name, str(root), str(out)])))
    by_name = dict(results)
    _print(results, by_name["floor"])
    for name, result in results:
        if "columns" in result:
            lost = sorted(fields - set(result["columns"]))
            extra = sorted(set(result["columns"]) - fields)
            print(f"{name}: fields lost {lost}, columns not in the input {extra}")
    service = by_name["compactor_local"]
    if "import_seconds" in service:
        after = service["seconds"] - service["import_seconds"]
        print(
            f"compactor_local: {service['import_seconds']:.2f} s of imports and domain loading; "
            f"{after:.2f} s after them ({after / by_name['floor']['seconds']:.1f}x the floor)"
        )
    floor_run = by_name["floor"]
    if "list_seconds" in service and "list_seconds" in floor_run:
        # What a range does once Plan has listed the day, against reading the bytes alone.
        work = service["seconds"] - service["import_seconds"] - service["list_seconds"]
        reading = floor_run["seconds"] - floor_run["list_seconds"]
        print(
            f"without listing the files (floor {floor_run['list_seconds']:.2f} s, compactor "
            f"{service['list_seconds']:.2f} s) and the imports: reading {reading:.2f} s, "
            f"compactor {work:.2f} s ({work / reading:.1f}x)"
        )
    assert service["rows"] == records
    assert fields <= set(service["columns"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_emulator_sample(day: tuple[Path, int]) -> None:
    import boto3
    from botocore.config import Config

    root, _ = day
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
            config=Config(max_pool_connections=32),
        )
        s3.create_bucket(Bucket="bench")
        sample = _files(root)[:S3_FILES]
        records = 0
        with ThreadPoolExecutor(32) as pool:

            def put(path: Path) -> int:
                body = path.read_bytes()
                s3.put_object(Bucket="bench", Key=str(path.relative_to(root)), Body=body)
                return body.count(b"\n")

            records = sum(pool.map(put, sample))
        results = [(name, _run([name, endpoint, "bench"])) for name in S3_METHODS]
        # One more object, a record with a Latin-1 byte in a field that is not declared:
        # the fast screening skips it, the chunk check sees it, and the range is screened
        # again the exact way, which sets that record aside.
        first = sample[0].read_bytes().splitlines()[0]
        latin = first[: first.rindex(b"}")] + b', "remark": "caf\xe9"}\n'
        s3.put_object(
            Bucket="bench", Key="topics/orders/partition=0/orders+0+9999999999.json", Body=latin
        )
        results.append(("s3_compactor, exact way", _run(["s3_compactor", endpoint, "bench"])))
        print(f"\nemulator sample: {len(sample)} files, {records} records")
        _print(results, dict(results)["s3_floor"])
        assert dict(results)["s3_compactor"]["rows"] == records
        assert dict(results)["s3_compactor, exact way"]["rows"] == records
    finally:
        server.terminate()
        server.wait(10)


# A GET's latency as a model of S3's (lognormal: median 20 ms, p99 ~160 ms), not a measure of
# it: what a long tail does to fetching a window at a time against fetching ahead.
FETCH_MEDIAN_SECONDS, FETCH_SIGMA = 0.020, 0.9
FETCHES = int(os.environ.get("COMPACTOR_BENCH_FETCHES", "5000"))


def _window_at_a_time(get: Any, entries: Any, concurrency: int) -> Any:
    """The fetch before compactor.fetching: windows of 512 objects, each GET in a window
    started at once, the next window once the reader has taken the whole window."""
    with ThreadPoolExecutor(concurrency) as pool:
        for start in range(0, len(entries), 512):
            window = entries[start : start + 512]
            yield from zip((e.key for e in window), pool.map(get, window), strict=True)


def test_fetch_with_a_long_tailed_get_latency() -> None:
    """In-process, no S3: FETCHES objects whose GETs sleep a latency drawn once per object
    (the same for every method), 32 at once as the Compact function fetches them."""
    import math
    import random

    from compactor.fetching import fetched_in_order
    from compactor.planning import ManifestEntry

    rng = random.Random(20261207)
    entries = [ManifestEntry(f"k{i:05d}", 3300, "e") for i in range(FETCHES)]
    delay = {e.key: FETCH_MEDIAN_SECONDS * math.exp(rng.gauss(0, FETCH_SIGMA)) for e in entries}
    body = b"x" * 3300

    def get(entry: ManifestEntry) -> bytes:
        time.sleep(delay[entry.key])
        return body

    def all_at_once(get: Any, entries: Any, concurrency: int) -> Any:
        with ThreadPoolExecutor(concurrency) as pool:
            yield from zip((e.key for e in entries), pool.map(get, entries), strict=True)

    methods = [
        ("GET floor: every GET submitted at once (no bound on memory)", all_at_once),
        ("a window of 512 at a time (before)", _window_at_a_time),
        ("compactor: 512 / 64 MB ahead of the reader", fetched_in_order),
    ]
    seconds = {}
    for name, fetch in methods:
        started = time.perf_counter()
        got = sum(1 for _ in fetch(get, entries, 32))
        seconds[name] = time.perf_counter() - started
        assert got == FETCHES
    floor_seconds = seconds[methods[0][0]]
    ideal = sum(delay.values()) / 32
    print(f"\nfetch: {FETCHES} objects, 32 at once, sum of latencies / 32 = {ideal:.2f} s")
    print("| method | wall s | x floor |")
    print("| --- | --- | --- |")
    for name, wall in seconds.items():
        print(f"| {name} | {wall:.2f} | {wall / floor_seconds:.2f} |")


if __name__ == "__main__":
    _child(sys.argv[1:])
