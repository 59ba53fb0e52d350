"""etl-layers under faults on the local platform.

- Crashes: the deployed ETL function's worker process dies (`os._exit`, no cleanup, as when
  Lambda kills a container) after TRUSTED is written and before the first DELIVERY object; its
  per-day locks are left behind. The fault comes from a `sitecustomize` put on the function's
  PYTHONPATH through its deployed environment, so the code under test is the deployed handler.
  Lock expiry and queue visibility are shortened so the redelivery comes within a minute.
- Duplicates, concurrently: every notification is also sent twice more to the queue, exactly as
  S3 shapes it, and two more containers poll the queue beside the runtime's, as Lambda scales
  out; files share keys and days, so they contend for the same TRUSTED days.
- Soak: many small files at once through three containers.

Either way: each row once in TRUSTED, each day's DAILY_SUMMARY counting every row of the day,
a manifest per file, no lock left, an empty DLQ.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import duckdb
import pytest
from rocket_infra.local import LocalPlatform
from rocket_infra.runtime.events import sqs_record
from rocket_infra.runtime.workers import FunctionSpec, FunctionWorker, worker_environment

SHORT_SECONDS = 20
HEADER = "id,name,amount,date,category\n"

# Kills the worker at the first DELIVERY write of a file whose name says so, once per file
# (a marker file), so the redelivery that follows runs normally.
INJECTOR = """
import os

import botocore.session

MARKS = os.environ["ROCKET_FAULTS_DIR"]
DELIVERY = os.environ["ETL_DELIVERY_BUCKET"]


def _first(name):
    try:
        fd = os.open(os.path.join(MARKS, name), os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def before_put(params, **_):
    key = params.get("Key", "")
    if params.get("Bucket") == DELIVERY and "die-after-trusted" in key:
        stem = key.rsplit("/", 1)[-1].split("_0.parquet")[0]
        if _first(stem):
            os._exit(137)


_init = botocore.session.Session.__init__


def _init_with_faults(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    self.register("before-parameter-build.s3.PutObject", before_put)
    self.register("before-parameter-build.s3.CreateMultipartUpload", before_put)


botocore.session.Session.__init__ = _init_with_faults
"""


def etl_spec(platform: LocalPlatform) -> FunctionSpec:
    name = platform.outputs("etl-layers")["EtlFunctionName"]
    config = platform.client("lambda").get_function_configuration(FunctionName=name)
    return FunctionSpec(
        name=name,
        arn=config["FunctionArn"],
        handler=config["Handler"],
        environment=dict(config.get("Environment", {}).get("Variables", {})),
        timeout=int(config.get("Timeout", 3)),
        memory_size=int(config.get("MemorySize", 128)),
    )


class Container(threading.Thread):
    """Another concurrent instance of the deployed function polling the RAW events queue."""

    def __init__(self, number: int, platform: LocalPlatform, stop: threading.Event) -> None:
        super().__init__(name=f"etl-container-{number}", daemon=True)
        self.sqs = platform.client("sqs")
        self.queue_url = platform.outputs("etl-layers")["RawEventsQueueUrl"]
        self.queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self.region = platform.region
        spec = etl_spec(platform)
        env = worker_environment(
            spec, endpoint_url=platform.endpoint_url, region=platform.region,
            task_root=platform.repo_root,
        )  # fmt: skip
        self.worker = FunctionWorker(spec, env, platform.repo_root)
        self.stop = stop
        self.invocations = 0
        self.failures = 0

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                messages = self.sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=1,
                    AttributeNames=["All"],
                ).get("Messages", [])  # fmt: skip
                if not messages:
                    continue
                event = {
                    "Records": [
                        sqs_record(messages[0], queue_arn=self.queue_arn, region=self.region)
                    ]
                }
                result = self.worker.invoke(event)
                self.invocations += 1
                if result.error is not None or result.payload["batchItemFailures"]:
                    self.failures += 1
                    continue
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=messages[0]["ReceiptHandle"]
                )
        finally:
            self.worker.stop()


@pytest.fixture
def containers(platform: LocalPlatform) -> Iterator[list[Container]]:
    stop = threading.Event()
    started = [Container(n, platform, stop) for n in range(2)]
    for container in started:
        container.start()
    try:
        yield started
    finally:
        stop.set()
        for container in started:
            container.join(60)


@pytest.fixture
def injected_faults(platform: LocalPlatform, tmp_path: Path) -> Iterator[Path]:
    """The deployed function with the injector, short locks and a short visibility."""
    outputs = platform.outputs("etl-layers")
    lam, sqs = platform.client("lambda"), platform.client("sqs")
    name, queue_url = outputs["EtlFunctionName"], outputs["RawEventsQueueUrl"]
    deployed_env = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    deployed_visibility = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"]
    )["Attributes"]["VisibilityTimeout"]
    injector, marks = tmp_path / "injector", tmp_path / "marks"
    injector.mkdir()
    marks.mkdir()
    (injector / "sitecustomize.py").write_text(INJECTOR)
    path = os.pathsep.join(p for p in (str(injector), os.environ.get("PYTHONPATH", "")) if p)
    faulty_env = {
        **deployed_env,
        "PYTHONPATH": path,
        "ROCKET_FAULTS_DIR": str(marks),
        "ETL_LOCK_TTL_SECONDS": str(SHORT_SECONDS // 2),
        "ETL_LOCK_WAIT_SECONDS": "5",
    }
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": faulty_env})
    sqs.set_queue_attributes(
        QueueUrl=queue_url, Attributes={"VisibilityTimeout": str(SHORT_SECONDS)}
    )
    platform.runtime.refresh()
    try:
        yield marks
    finally:
        lam.update_function_configuration(
            FunctionName=name, Environment={"Variables": dict(deployed_env)}
        )
        sqs.set_queue_attributes(
            QueueUrl=queue_url, Attributes={"VisibilityTimeout": deployed_visibility}
        )
        platform.runtime.refresh()


def s3_notification(platform: LocalPlatform, bucket: str, key: str, put: dict[str, Any]) -> str:
    """The body S3 sends to the queue for a put (key form-encoded, as S3 does)."""
    obj = {"key": quote_plus(key), "eTag": put["ETag"].strip('"'), "sequencer": "0"}
    if put.get("VersionId"):
        obj["versionId"] = put["VersionId"]
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": platform.region,
        "eventTime": "2026-11-22T00:00:00.000Z",
        "eventName": "ObjectCreated:Put",
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "faults",
            "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
            "object": obj,
        },
    }
    return json.dumps({"Records": [record]})


def make_files(token: str, year: int, files: int, rows: int, days: int) -> dict[str, str]:
    """CSV files whose ids overlap with the next file's: the last tenth of file n repeats the
    first rows of file n+1 on the same days (rows % days == 1), so they are duplicates across
    files; every row's day is one of `days` days of `year`."""
    assert rows % days == 1
    out: dict[str, str] = {}
    for n in range(files):
        lines = [
            f"{n * rows + r + 1},Row {r},{(r % 90) + 10}.5,"
            f"{year}-01-{1 + (n + r) % days:02d},C{r % 4}\n"
            for r in range(rows + rows // 10)  # the last tenth repeats the next file's ids
        ]
        out[f"transactions/{token}/part-{n:04d}.csv"] = HEADER + "".join(lines)
    return out


def expected_rows(files: dict[str, str]) -> set[tuple[int, str]]:
    """The (id, day) pairs TRUSTED must hold once each: dedupe is by key within a day."""
    seen: set[tuple[int, str]] = set()
    for text in files.values():
        for line in text.splitlines()[1:]:
            ident, _, _, day, _ = line.split(",")
            seen.add((int(ident), day))
    return seen


def manifested(platform: LocalPlatform, files: dict[str, str]) -> set[str]:
    """The RAW keys of `files` whose manifest is written (processing finished)."""
    s3 = platform.client("s3")
    trusted = platform.outputs("etl-layers")["TrustedBucketName"]
    done = set()
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=trusted, Prefix="_manifests/transactions/"
    ):
        for item in page.get("Contents", []):
            body = json.loads(s3.get_object(Bucket=trusted, Key=item["Key"])["Body"].read())
            if body.get("event") and body["event"]["source"]["key"] in files:
                done.add(body["event"]["source"]["key"])
    return done


def locks(platform: LocalPlatform) -> list[str]:
    trusted = platform.outputs("etl-layers")["TrustedBucketName"]
    listed = platform.client("s3").list_objects_v2(Bucket=trusted, Prefix="_locks/")
    return [o["Key"] for o in listed.get("Contents", [])]


def wait_settled(platform: LocalPlatform, files: dict[str, str], timeout: float) -> bool:
    """Every file has its manifest, no lock is held and no message is waiting. A message still
    in flight then can only be a duplicate of a finished file (it ends already_done). The
    runtime's own idle check is not used: it also waits for in-flight messages, and the
    emulator has kept one notification in flight for minutes past its visibility timeout."""
    sqs = platform.client("sqs")
    queue = platform.outputs("etl-layers")["RawEventsQueueUrl"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = sqs.get_queue_attributes(
            QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        if waiting == "0" and manifested(platform, files) == set(files) and not locks(platform):
            return True
        time.sleep(2)
    return False


def read_parquet(platform: LocalPlatform, bucket: str, prefix: str, tmp: Path) -> list[dict]:  # type: ignore[type-arg]
    s3 = platform.client("s3")
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for o in page.get("Contents", [])
        if o["Key"].endswith(".parquet")
    ]
    found: list[dict] = []  # type: ignore[type-arg]
    for n, key in enumerate(keys):
        path = tmp / f"{n}.parquet"
        s3.download_file(bucket, key, str(path))
        cursor = duckdb.connect().execute(
            f"SELECT * FROM read_parquet('{path}', hive_partitioning=false)"
        )
        names = [d[0] for d in cursor.description]
        found += [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return found


def check_layers(platform: LocalPlatform, files: dict[str, str], year: int, tmp: Path) -> None:
    out = platform.outputs("etl-layers")
    trusted, delivery = out["TrustedBucketName"], out["DeliveryBucketName"]
    s3 = platform.client("s3")
    expected = expected_rows(files)
    (tmp / "t").mkdir()
    (tmp / "d").mkdir()
    rows = read_parquet(platform, trusted, f"transactions/year={year}/", tmp / "t")
    ids = Counter(r["id"] for r in rows)
    assert {i: c for i, c in ids.items() if c > 1} == {}, "a key written twice to TRUSTED"
    assert sorted(ids) == sorted({i for i, _ in expected})
    per_day = Counter(day for _, day in expected)
    counted: Counter[str] = Counter()
    for key in [
        o["Key"]
        for o in s3.list_objects_v2(
            Bucket=delivery, Prefix=f"transactions/record_type=DAILY_SUMMARY/year={year}/"
        ).get("Contents", [])
    ]:
        assert key.endswith("/daily_summary_0.parquet"), key
        day = key.split("/day=")[1].split("/")[0]
        path = tmp / f"summary-{day}.parquet"
        s3.download_file(delivery, key, str(path))
        total = (
            duckdb.connect()
            .execute(
                f"SELECT sum(record_count) FROM read_parquet('{path}', hive_partitioning=false)"
            )
            .fetchall()[0][0]
        )
        counted[f"{year}-01-{day}"] = int(total)
    assert counted == per_day, "a day's summary does not count every row of the day"
    assert manifested(platform, files) == set(files), "a file has no manifest"
    assert locks(platform) == [], "a lock was left behind"
    sqs = platform.client("sqs")
    dlq = out["RawEventsDeadLetterQueueUrl"]
    left = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
    assert left["Attributes"]["ApproximateNumberOfMessages"] == "0"


def upload(platform: LocalPlatform, files: dict[str, str], copies: int) -> int:
    """Put every file from 8 threads; send `copies` more notifications of each. Returns the
    number of notifications sent by hand."""
    out = platform.outputs("etl-layers")
    raw, queue = out["RawBucketName"], out["RawEventsQueueUrl"]
    s3, sqs = platform.client("s3"), platform.client("sqs")

    def put(item: tuple[str, str]) -> int:
        key, body = item
        response = s3.put_object(Bucket=raw, Key=key, Body=body.encode())
        message = s3_notification(platform, raw, key, response)
        for _ in range(copies):
            sqs.send_message(QueueUrl=queue, MessageBody=message)
        return copies

    with ThreadPoolExecutor(8) as pool:
        return sum(pool.map(put, files.items()))


def test_crashes_and_duplicate_deliveries_write_each_row_once(
    platform: LocalPlatform, injected_faults: Path, containers: list[Container], tmp_path: Path
) -> None:
    token = f"faults-{uuid.uuid4().hex[:8]}"
    year = 2019
    files = make_files(token, year, files=12, rows=40, days=3)
    files = {
        (k.replace("part-", "die-after-trusted-") if n % 3 == 0 else k): v
        for n, (k, v) in enumerate(files.items())
    }
    began = time.monotonic()
    duplicates = upload(platform, files, copies=2)
    assert wait_settled(platform, files, timeout=600)
    settled = time.monotonic() - began
    crashed = sorted(p.name for p in injected_faults.iterdir())
    assert len(crashed) == 4, crashed  # each die-after-trusted file killed one worker
    check_layers(platform, files, year, tmp_path)
    print(
        json.dumps(
            {
                "test": "etl-layers crashes and duplicates",
                "files": len(files),
                "crashes": len(crashed),
                "duplicate_notifications": duplicates,
                "container_invocations": sum(c.invocations for c in containers),
                "container_failed_records": sum(c.failures for c in containers),
                "settled_seconds": round(settled, 1),
            }
        )
    )


def test_soak_of_many_small_files(
    platform: LocalPlatform, containers: list[Container], tmp_path: Path
) -> None:
    token = f"soak-{uuid.uuid4().hex[:8]}"
    year = 2018
    files = make_files(token, year, files=int(os.environ.get("ETL_SOAK_FILES", "200")), rows=49,
                       days=4)  # fmt: skip
    rows_in = sum(text.count("\n") - 1 for text in files.values())
    began = time.monotonic()
    upload(platform, files, copies=0)
    assert wait_settled(platform, files, timeout=1200)
    seconds = time.monotonic() - began
    check_layers(platform, files, year, tmp_path)
    print(
        json.dumps(
            {
                "test": "etl-layers soak",
                "files": len(files),
                "rows_in": rows_in,
                "rows_trusted": len(expected_rows(files)),
                "seconds": round(seconds, 1),
                "files_per_second": round(len(files) / seconds, 2),
                "rows_per_second": round(rows_in / seconds, 1),
                "container_invocations": sum(c.invocations for c in containers),
                "container_failed_records": sum(c.failures for c in containers),
            }
        )
    )
