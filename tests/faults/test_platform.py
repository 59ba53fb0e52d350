"""The whole platform under faults: one mixed workload through all five services at once
(tests/faults/platform_workload.py), its effects computed before it is sent and checked once the
queues drain, under:

- crashes: the runtime's Lambda worker processes SIGKILLed at seeded random moments while the
  workload flows, over many seeds (the runtime starts a fresh worker on the next invocation);
- duplicates: every message delivered 2-5 times, the even draws all at once;
- poison: malformed JSON, contract violations, wrong event types, an oversized body, unicode
  edge cases, a 10 MB file, a zip bomb and a huge line for the readers, beside a valid workload;
- dependency faults: S3, DynamoDB, SQS, SNS, Glue and Step Functions throttling, 500s and
  timeouts from the emulator's fault middleware, at seeded rates;
- load: workloads one after another for ROCKET_RELIABILITY_SOAK_SECONDS (600 in `make faults`),
  memory of the runtime, its workers and the emulator before and after.

Every valid effect happens exactly once and nothing valid reaches a DLQ; each poison input ends
in a DLQ or a quarantine with its reason. The figures go to BENCHMARKS.md § Reliability, written
by the module at its end (not in the slice).

`make faults` runs it in full. `make e2e` (so `make test`) runs the seeded slice: the tests
marked `faults_slice`, with ROCKET_FAULTS_SLICE=1: the crash run (one seed, two kills) and a
20 s soak; poison (its readers take minutes over the 10 MB files) only runs in full.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import statistics
import time
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from rocket_contracts import bus
from rocket_infra.local import LocalPlatform

from tests.faults import platform_workload as wl
from tests.faults import test_etl_layers as etl
from tests.faults import test_ingest_gate as gate

SLICE = os.environ.get("ROCKET_FAULTS_SLICE") == "1"
SEEDS = [
    int(s)
    for s in os.environ.get("ROCKET_RELIABILITY_SEEDS", "1" if SLICE else "1,2,3,4,5").split(",")
]
KILLS_PER_SEED = int(os.environ.get("ROCKET_RELIABILITY_KILLS", "2" if SLICE else "6"))
SOAK_SECONDS = float(os.environ.get("ROCKET_RELIABILITY_SOAK_SECONDS", "20" if SLICE else "600"))
BENCHMARKS = Path(__file__).parents[2] / "BENCHMARKS.md"
SECTION = "## Reliability"


@dataclass
class Figures:
    """What the module tried and survived, for BENCHMARKS.md."""

    seeds: list[int] = field(default_factory=list)
    kill_points: int = 0
    crashed_invocations: int = 0
    kills_by_function: Counter[str] = field(default_factory=Counter)
    messages: int = 0
    duplicates: int = 0
    poison: dict[str, str] = field(default_factory=dict)  # kind -> where it ended
    faults_fired: Counter[str] = field(default_factory=Counter)
    effects: wl.Effects = field(default_factory=wl.Effects)
    lost: int = 0
    soak: dict[str, Any] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def figures() -> Iterator[Figures]:
    found = Figures()
    yield found
    if not SLICE and found.ran:
        write_section(found)


@pytest.fixture(scope="module")
def gap_window(platform: LocalPlatform) -> tuple[date, date]:
    """The gap-scraper's EarliestDate moved to a short window (fewer API calls per workload) and
    a 1 s retry delay; the per-service suites deploy their own values."""
    earliest, today = wl.gap_window()
    platform.deploy(
        "gap-scraper", overrides={"EarliestDate": earliest.isoformat(), "RetryDelaySeconds": "1"}
    )
    return earliest, today


def run(
    platform: LocalPlatform,
    works: list[wl.Workload],
    figures: Figures,
    tmp: Path,
    *,
    copies: Any = lambda: 1,
) -> None:
    ledger = wl.DlqLedger(platform)
    for work in works:
        wl.send(platform, work, copies)
    settled = wl.settle(platform, works)
    check_all(platform, works, figures, tmp, ledger, settled)


def check_all(
    platform: LocalPlatform,
    works: list[wl.Workload],
    figures: Figures,
    tmp: Path,
    ledger: wl.DlqLedger,
    settled: bool,
    poison_dlq: dict[str, int] | None = None,
) -> None:
    assert settled, "the platform never drained"
    for n, work in enumerate(works):
        figures.effects.add(wl.check(platform, work, tmp / f"{work.token}-{n}"))
        figures.messages += work.messages
        figures.duplicates += work.copies
    assert ledger.growth() == (poison_dlq or {}), "a DLQ grew beyond the poison sent"


# --- crashes ---------------------------------------------------------------------------------


@pytest.mark.faults_slice
@pytest.mark.parametrize("seed", SEEDS)
def test_workers_killed_at_random_moments_lose_and_double_nothing(
    platform: LocalPlatform, gap_window: Any, figures: Figures, tmp_path: Path, seed: int
) -> None:
    work = wl.plan(seed, gap=gap_window if seed == SEEDS[0] else None)
    before = len(platform.runtime.invocations())
    ledger = wl.DlqLedger(platform)
    with wl.recoverable(platform):
        killer = wl.Killer(platform, seed, kills=KILLS_PER_SEED)
        killer.start()
        try:
            wl.send(platform, work)
            # the kills go on while the workload flows, not after it drained
            deadline = time.monotonic() + 120
            while killer.is_alive() and time.monotonic() < deadline:
                platform.wait_idle(timeout=2)
        finally:
            killer.stop()
        settled = wl.settle(platform, [work])
    crashed = wl.crashed_invocations(platform, before)
    check_all(platform, [work], figures, tmp_path, ledger, settled)
    figures.seeds.append(seed)
    figures.kill_points += len(killer.killed)
    figures.crashed_invocations += crashed
    figures.kills_by_function.update(
        f.removeprefix(f"rocket-{platform.stage}-") for f in killer.killed
    )
    figures.ran.append(f"crash seed {seed}")
    print(
        json.dumps(
            {
                "test": "platform crashes",
                "seed": seed,
                "killed": killer.killed,
                "crashed_invocations": crashed,
                "messages": work.messages,
            }
        )
    )


# --- duplicates ------------------------------------------------------------------------------


def test_every_message_delivered_two_to_five_times_gives_the_single_delivery_state(
    platform: LocalPlatform, gap_window: Any, figures: Figures, tmp_path: Path
) -> None:
    rng = random.Random(SEEDS[0] + 100)
    work = wl.plan(SEEDS[0] + 100, gap=gap_window)
    with wl.recoverable(platform):
        run(platform, [work], figures, tmp_path, copies=lambda: rng.randint(2, 5))
    assert work.copies >= work.messages // 2
    figures.ran.append("duplicates")
    print(
        json.dumps(
            {"test": "platform duplicates", "messages": work.messages, "extra_copies": work.copies}
        )
    )


# --- poison ----------------------------------------------------------------------------------

# poison has nothing to wait for: it reaches its DLQ after 3 short receives
POISON_VISIBILITY = {"etl-layers": 15, "compactor": 10}
OVERSIZED = 300 * 1024  # above the 256 KiB SNS/SQS message limit
TEN_MB = 10 * 1024 * 1024


def envelope(type_: str, data: dict[str, Any], token: str) -> dict[str, Any]:
    """A CloudEvent as the bus carries it, to break one part of at a time."""
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "rocket/faults",
        "type": type_,
        "subject": token,
        "time": "2026-12-02T00:00:00Z",
        "datacontenttype": "application/json",
        "correlationid": token,
        "data": data,
    }


def queue_poison(token: str, valid: dict[str, Any], type_: str) -> dict[str, str]:
    """Bodies that no consumer may apply, by kind, each carrying `token` where it can."""
    data = valid["data"]
    return {
        "malformed_json": f'{{"not json {token}',
        "json_not_an_object": json.dumps([token]),
        "not_a_cloudevent": json.dumps({"transaction_id": token, "hello": "world"}),
        "wrong_event_type": json.dumps({**valid, "type": "assets.asset.upserted.v1"}),
        "contract_violation": json.dumps({**valid, "data": {"unexpected": token}}),
        "oversized_body": json.dumps({**valid, "data": {**data, "pad": token + "x" * OVERSIZED}}),
        # a lone surrogate, escaped (what JSON allows and UTF-8 cannot carry)
        "unicode_lone_surrogate": json.dumps(valid).replace(token, token + "\\ud800", 1),
        "unicode_rtl_and_nul": json.dumps(valid).replace(token, token + "\u202e\u0000", 1),
    }


def ingest_valid(platform: LocalPlatform, token: str) -> dict[str, Any]:
    job = platform.outputs("ingest-gate")["CanaryJobName"]
    wrapped = bus.wrap(gate.request(token, job), correlation_id=token, source="rocket/faults")
    parsed: dict[str, Any] = json.loads(bus.to_json(wrapped))
    return parsed


def gap_valid(token: str) -> dict[str, Any]:
    data = {
        "run_id": token,
        "series_key": "CURRENCY#USD",
        "sgs_code": 1,
        "frequency": "daily",
        "start_date": "2026-01-01",
        "end_date": "2026-01-10",
        "missing_days": 1,
        "requested_at": "2026-12-02T00:00:00Z",
    }
    return envelope("gapscraper.download.requested.v1", data, token)


def compactor_valid(token: str) -> dict[str, Any]:
    data = {
        "request_id": token,
        "date": "1999-12-31",
        "domains": ["clicks"],
        "force": False,
        "requested_by": "faults/poison",
        "requested_at": "2026-12-02T00:00:00Z",
    }
    return envelope("compactor.compaction.requested.v1", data, token)


def send_raw(platform: LocalPlatform, url: str, body: str, type_: str) -> bool:
    """Straight to the queue (as a buggy producer with access would); False when SQS refuses
    the body itself (too large, characters outside its alphabet): then it never got in."""
    try:
        platform.client("sqs").send_message(
            QueueUrl=url,
            MessageBody=body,
            MessageAttributes={"type": {"DataType": "String", "StringValue": type_}},
        )
    except Exception as exc:
        print(f"refused by SQS: {type(exc).__name__}: {str(exc)[:120]}")
        return False
    return True


def etl_poison_files(token: str) -> dict[str, bytes]:
    """Files the readers must quarantine, not choke on."""
    rng = random.Random(token)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        # 200 MB of zeros in 200 kB: an xlsx whose one part inflates a thousandfold
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (200 * 1024 * 1024))
    header = b"id,name,amount,date,category\n"
    return {
        f"transactions/{token}/poison-random-10mb.csv": rng.randbytes(TEN_MB),
        f"transactions/{token}/poison-huge-line.csv": header + b"1," + b"a" * (12 * 1024 * 1024),
        f"transactions/{token}/poison-zip-bomb.xlsx": bomb.getvalue(),
        f"transactions/{token}/poison-unicode.csv": header
        + "1,\u202eevil\u0000,\ud800x,1899-13-40,C\n".encode("utf-8", "surrogatepass"),
        f"unrouted/{token}/poison-no-dataset.csv": header + b"1,a,1.0,2020-01-01,C\n",
    }


def etl_quarantine_reasons(platform: LocalPlatform, keys: set[str]) -> dict[str, str]:
    """RAW key -> the reason its file was quarantined for, or where its rejected rows went."""
    out = platform.outputs("etl-layers")
    s3, bucket = platform.client("s3"), out["QuarantineBucketName"]
    found: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            if item["Key"].endswith("reason.json"):
                body = json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
                key = body["source"].split("/", 3)[3]
                if key in keys:
                    found[key] = str(body["reason"])
    # a readable file whose rows were all rejected has a manifest; its rows' reasons are in
    # the row quarantine it names
    for key in etl.manifested(platform, {k: "" for k in keys - set(found)}):
        found[key] = "rows rejected (manifest names the row quarantine)"
    return found


def asset_quarantine(platform: LocalPlatform, base: str) -> dict[str, str]:
    """The two bad stream records of the poison test: where each ended (the content bucket's
    quarantine/ prefix, with its reason)."""
    s3 = platform.client("s3")
    bucket = platform.outputs("asset-events")["ContentBucketName"]
    reasons: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="quarantine/"):
        for item in page.get("Contents", []):
            document = json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
            if base in document.get("data", ""):
                reasons.append(f"quarantine: {document['reason']}")
    reasons += ["NOT FOUND"] * (2 - len(reasons))
    return {
        "asset-events/stream malformed_json": reasons[0],
        "asset-events/stream contract_violation": reasons[1],
    }


def purge(platform: LocalPlatform, url: str, tokens: set[str]) -> None:
    """Delete the one message carrying each of `tokens` from the queue at `url` (they may be
    invisible for a few seconds after poison_in_dlq read them)."""
    sqs = platform.client("sqs")
    left = set(tokens)
    deadline = time.monotonic() + 120
    while left and time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in got.get("Messages", []):
            mine = {t for t in left if t in message["Body"]}
            if mine:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                left -= {max(mine, key=len)}
    assert not left, f"poison not purged from {url}: {sorted(left)}"


def poison_in_dlq(platform: LocalPlatform, url: str, tokens: set[str]) -> dict[str, str]:
    """token -> the reason attribute (or "redriven" when SQS moved it after maxReceiveCount)."""
    sqs = platform.client("sqs")
    found: dict[str, str] = {}
    seen: set[str] = set()
    while True:
        got = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=5,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        ).get("Messages", [])
        fresh = [m for m in got if m["MessageId"] not in seen]
        if not fresh:
            return found
        for message in fresh:
            seen.add(message["MessageId"])
            for token in tokens:
                if token in message["Body"]:
                    reason = message.get("MessageAttributes", {}).get("reason", {})
                    found[token] = reason.get("StringValue", "redriven after maxReceiveCount")


def send_queue_poison(
    platform: LocalPlatform, base: str
) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Every poison kind to every SQS-fed consumer: (service -> token -> kind, the kinds SQS
    refused at the door)."""
    queues = {
        "ingest-gate": (
            platform.outputs("ingest-gate")["RequestQueueUrl"],
            "ingest.job.requested.v1",
        ),
        "gap-scraper": (
            platform.outputs("gap-scraper")["WorkQueueUrl"],
            "gapscraper.download.requested.v1",
        ),
        "compactor": (
            platform.outputs("compactor")["RequestQueueUrl"],
            "compactor.compaction.requested.v1",
        ),
        "etl-layers": (platform.outputs("etl-layers")["RawEventsQueueUrl"], "s3"),
    }
    valid: dict[str, Callable[[str], dict[str, Any]]] = {
        "ingest-gate": lambda t: ingest_valid(platform, t),
        "gap-scraper": gap_valid,
        "compactor": compactor_valid,
        "etl-layers": lambda t: envelope("s3:ObjectCreated", {"key": t}, t),
    }
    sent: dict[str, dict[str, str]] = {service: {} for service in queues}
    refused: dict[str, str] = {}
    for service, (url, type_) in queues.items():
        for kind, body in queue_poison(
            f"{base}-{service}", valid[service](f"{base}-{service}"), type_
        ).items():
            if kind == "oversized_body" and service in CLOUDEVENT_CONSUMERS:
                continue  # its own test: test_an_oversized_message_is_refused
            token = f"{base}-{service}-{kind}"
            if send_raw(platform, url, body.replace(f"{base}-{service}", token), type_):
                sent[service][token] = kind
            else:
                refused[f"{service}/{kind}"] = "refused by SQS at send"
    return sent, refused


def test_poison_ends_in_a_dlq_or_quarantine_and_the_valid_work_beside_it_is_done(
    platform: LocalPlatform, gap_window: Any, figures: Figures, tmp_path: Path
) -> None:
    work = wl.plan(SEEDS[0] + 200, gap=None)
    base = f"{work.token}-poison"
    ledger = wl.DlqLedger(platform)
    with wl.recoverable(platform, POISON_VISIBILITY, receives=3):
        wl.send(platform, work)
        sent, refused = send_queue_poison(platform, base)
        files = etl_poison_files(base)
        raw = platform.outputs("etl-layers")["RawBucketName"]
        for key, blob in files.items():
            platform.client("s3").put_object(Bucket=raw, Key=key, Body=blob)
        # a bad record on the asset-events stream, beside the valid run
        stream = platform.outputs("asset-events")["InputStreamName"]
        platform.client("kinesis").put_records(
            StreamName=stream,
            Records=[
                {"Data": f'{{"not json {base}'.encode(), "PartitionKey": base},
                {
                    "Data": json.dumps({"event_id": base, "status": "running"}).encode(),
                    "PartitionKey": base,
                },
            ],
        )
        settled = wl.settle(platform, [work], timeout=900)
        deadline = time.monotonic() + 300
        reasons = etl_quarantine_reasons(platform, set(files))
        while set(reasons) != set(files) and time.monotonic() < deadline:
            platform.wait_idle(timeout=5)
            reasons = etl_quarantine_reasons(platform, set(files))
    dlqs = {
        service: next(u for u in wl.dead_letter_queues(platform) if f"-{service}-" in u)
        for service in sent
    }
    ended: dict[str, str] = {}
    for service, tokens in sent.items():
        found = poison_in_dlq(platform, dlqs[service], set(tokens))
        for token, kind in tokens.items():
            ended[f"{service}/{kind}"] = found.get(token, "NOT FOUND")
    for key, reason in reasons.items():
        ended[f"etl-layers/file {key.rsplit('/', 1)[-1]}"] = f"quarantine: {reason}"
    ended.update(asset_quarantine(platform, base))
    missing = {k: v for k, v in ended.items() if v == "NOT FOUND"}
    missing.update({f"etl-layers/file {k}": "NOT FOUND" for k in set(files) - set(reasons)})
    print(json.dumps({"test": "platform poison", "ended": ended, "refused": refused}, indent=1))
    assert missing == {}, missing
    # the asset-events stream's bad records are quarantined in S3, not queued: no DLQ grows
    expected_growth = {dlqs[s].rsplit("/", 1)[-1]: len(tokens) for s, tokens in sent.items()}
    assert ledger.growth() == expected_growth
    # accounted for: out of the DLQs, so the suites after this one start from empty ones
    for service, tokens in sent.items():
        purge(platform, dlqs[service], set(tokens))
    check_all(platform, [work], figures, tmp_path, ledger, settled)
    figures.poison.update(ended)
    figures.poison.update(refused)
    figures.ran.append("poison")


# The consumers of bus events read tolerantly (unknown properties ignored), and nothing on the
# receiving side bounds a body's size: a 300 KiB request sent straight to a queue (SQS takes up
# to 1 MiB) is applied. SNS refuses such a message, so it only comes from a direct sender.
CLOUDEVENT_CONSUMERS = {
    "ingest-gate": "RequestQueueUrl",
    "gap-scraper": "WorkQueueUrl",
    "compactor": "RequestQueueUrl",
}


def test_an_oversized_message_is_refused(platform: LocalPlatform, gap_window: Any) -> None:
    token = f"big-{uuid.uuid4().hex[:8]}"
    bodies = {
        "ingest-gate": ingest_valid(platform, f"{token}-ingest"),
        "gap-scraper": gap_valid(f"{token}-gap"),
        "compactor": compactor_valid(f"{token}-compactor"),
    }
    dlqs = {
        service: next(u for u in wl.dead_letter_queues(platform) if f"-{service}-" in u)
        for service in bodies
    }
    with wl.recoverable(platform, POISON_VISIBILITY, receives=3):
        for service, body in bodies.items():
            big = {**body, "data": {**body["data"], "pad": "x" * OVERSIZED}}
            url = platform.outputs(service)[CLOUDEVENT_CONSUMERS[service]]
            assert send_raw(platform, url, json.dumps(big), str(body["type"]))
        # refused on every delivery, so each reaches its DLQ after maxReceiveCount
        ended: dict[str, str] = {}
        deadline = time.monotonic() + 300
        while len(ended) < len(bodies) and time.monotonic() < deadline:
            platform.wait_idle(timeout=5)
            for service, url in dlqs.items():
                for reason in poison_in_dlq(platform, url, {token}).values():
                    ended[service] = reason
    assert set(ended) == set(bodies), f"applied instead of refused: {set(bodies) - set(ended)}"
    for service in bodies:
        purge(platform, dlqs[service], {token})


# --- dependency faults -----------------------------------------------------------------------

DEPENDENCY_FAULTS = [
    {"service": "s3", "operation": "PutObject", "kind": "throttle", "rate": 0.05},
    {"service": "s3", "operation": "GetObject", "kind": "error500", "rate": 0.05},
    {"service": "dynamodb", "operation": "BatchWriteItem", "kind": "unprocessed", "rate": 0.3},
    # Rates follow how often one workload makes each call (asset-events' state PutItem and
    # batched reads, the senders' SendMessageBatch, one StartExecution per compactor request),
    # so that every fault fires in a run; each is an operation a service really calls.
    {"service": "dynamodb", "operation": "PutItem", "kind": "throttle", "rate": 0.3},
    {"service": "dynamodb", "operation": "BatchGetItem", "kind": "unprocessed", "rate": 0.3},
    {
        "service": "dynamodb",
        "operation": "Query",
        "kind": "timeout",
        "rate": 0.1,
        "delay_seconds": 1,
    },
    {"service": "sqs", "operation": "SendMessageBatch", "kind": "error500", "rate": 0.1},
    {"service": "sns", "operation": "Publish", "kind": "throttle", "rate": 0.05},
    {"service": "glue", "operation": "StartJobRun", "kind": "throttle", "rate": 0.2},
    {"service": "states", "operation": "StartExecution", "kind": "throttle", "rate": 0.5},
]


def test_throttling_500s_and_timeouts_of_every_dependency_leave_nothing_half_written(
    platform: LocalPlatform, gap_window: Any, figures: Figures, tmp_path: Path
) -> None:
    work = wl.plan(SEEDS[0] + 300, gap=gap_window)
    ledger = wl.DlqLedger(platform)
    platform.clear_faults()
    with wl.recoverable(platform):
        try:
            for n, fault in enumerate(DEPENDENCY_FAULTS):
                platform.set_fault(**fault, seed=SEEDS[0] + n)
            wl.send(platform, work)
            settled = wl.settle(platform, [work])
            fired = {
                f"{f['service']}.{f['operation']} {f['kind']}": int(f.get("fired", 0))
                for f in platform.list_faults()
            }
        finally:
            platform.clear_faults()
        # a record that failed past its retries comes back after the (short) visibility
        settled = wl.settle(platform, [work]) and settled
    check_all(platform, [work], figures, tmp_path, ledger, settled)
    assert sum(fired.values()) > 0
    figures.faults_fired.update(fired)
    figures.ran.append("dependency faults")
    print(json.dumps({"test": "platform dependency faults", "fired": fired}))


# --- load ------------------------------------------------------------------------------------


def queue_depths(platform: LocalPlatform) -> dict[str, int]:
    sqs = platform.client("sqs")
    listed = sqs.list_queues(QueueNamePrefix=f"rocket-{platform.stage}-").get("QueueUrls", [])
    return {
        url.rsplit("/", 1)[-1]: wl.depth(platform, url)
        for url in listed
        if not re.search(r"(dlq|failures|tap|baseline|faultprobe)", url)
    }


@pytest.mark.faults_slice
def test_sustained_workload_keeps_queues_bounded_and_memory_flat(
    platform: LocalPlatform, gap_window: Any, figures: Figures, tmp_path: Path
) -> None:
    wl.settle(platform, [])
    ledger = wl.DlqLedger(platform)
    works: list[wl.Workload] = []
    backlog: list[int] = []
    started = time.monotonic()
    n = 0
    # Seconds from sending a workload until every queue is empty with nothing in flight: no
    # message of that workload waited longer in a queue (SQS has no per-message age to read,
    # and CloudWatch's ApproximateAgeOfOldestMessage is not emulated).
    drained: list[float] = []
    while time.monotonic() - started < SOAK_SECONDS or not works:
        work = wl.plan(SEEDS[0] + 1000 + n, gap=gap_window if n == 0 else None)
        sent_at = time.monotonic()
        wl.send(platform, work)
        works.append(work)
        n += 1
        if n == 1:
            # Measured once every function has run: a worker started by the first workload
            # is a cold start, not a leak.
            wl.settle(platform, works)
            memory_before = wl.memory()
        # the next workload when this one's messages are taken (the rate the platform holds)
        platform.wait_idle(timeout=30)
        if n > 1:
            drained.append(time.monotonic() - sent_at)
        backlog.append(sum(queue_depths(platform).values()))
    settled = wl.settle(platform, works)
    elapsed = time.monotonic() - started
    memory_after = wl.memory()
    check_all(platform, works, figures, tmp_path, ledger, settled)
    figures.soak = {
        "seconds": round(elapsed),
        "workloads": len(works),
        "messages": sum(w.messages for w in works),
        "backlog_median": statistics.median(backlog),
        "backlog_max": max(backlog),
        "backlog_last": backlog[-1],
        "age_median": round(statistics.median(drained or [0.0]), 1),
        "age_max": round(max(drained or [0.0]), 1),
        "age_last": round(drained[-1] if drained else 0.0, 1),
        "memory_before": memory_before,
        "memory_after": memory_after,
    }
    figures.ran.append(f"soak {SOAK_SECONDS:.0f} s")
    print(json.dumps({"test": "platform soak", **figures.soak}))
    # bounded: the backlog of the last quarter is no larger than the largest of the first
    quarter = max(1, len(backlog) // 4)
    assert max(backlog[-quarter:]) <= max(backlog[: len(backlog) - quarter] or backlog) * 2 + 50
    if len(drained) >= 4:  # and so is the time a message waits: no growing lag
        part = max(1, len(drained) // 4)
        assert max(drained[-part:]) <= max(drained[: len(drained) - part]) * 2 + 10


# --- BENCHMARKS.md ---------------------------------------------------------------------------


def printable(reason: str, limit: int = 100) -> str:
    """A reason as one short ASCII line (a binary file's header would otherwise be quoted)."""
    text = reason.encode("ascii", "backslashreplace").decode()
    return text if len(text) <= limit else text[:limit] + "..."


def write_section(found: Figures) -> None:
    text = BENCHMARKS.read_text()
    before, _, rest = text.partition(f"\n{SECTION}\n")
    # the sections after ours (if any were appended since) stay where they are
    after = rest.partition("\n## ")[2]
    before = before.rstrip("\n")
    lines = [
        "",
        SECTION,
        "",
        f"Written by `tests/faults/test_platform.py` at the end of its run ({wl.now()}; "
        f"ran: {', '.join(found.ran)}). Command: `make faults` (all fault suites), or this suite "
        "alone: `.venv/bin/pytest -m faults -s -p no:xdist tests/faults/test_platform.py`"
        f" (this run: `ROCKET_RELIABILITY_SEEDS={','.join(map(str, SEEDS))}`, "
        f"`ROCKET_RELIABILITY_KILLS={KILLS_PER_SEED}`, "
        f"`ROCKET_RELIABILITY_SOAK_SECONDS={SOAK_SECONDS:.0f}`; defaults 1,2,3,4,5 / 6 / 600)."
        " `make test` runs a seeded slice "
        "(`ROCKET_FAULTS_SLICE=1`: seed 1, 2 kills, 20 s of load) and writes nothing here.",
        "",
        "One mixed workload goes through all five services at once (ingest-gate job requests, "
        "etl-layers CSV files, a compactor day with its request, a gap-scraper scheduled run, an "
        "asset-events agent run); its effects are computed before sending and each is checked "
        "once the queues drain: exactly once, nothing valid in a DLQ.",
        "",
        "| Figure | Value |",
        "|---|---|",
        f"| seeds of the crash run | {', '.join(map(str, found.seeds)) or '-'} |",
        f"| kill points tried (worker SIGKILLs) | {found.kill_points} |",
        f"| invocations that died with their worker | {found.crashed_invocations} |",
        f"| workers killed, by function | {dict(sorted(found.kills_by_function.items())) or '-'} |",
        f"| messages and files sent (copies included) | {found.messages} |",
        f"| duplicates absorbed (extra copies, 2-5 per message) | {found.duplicates} |",
        f"| poison kinds tried | {len(found.poison)} |",
        f"| injected dependency faults survived (fired) | {sum(found.faults_fired.values())} |",
        f"| Glue runs / TRUSTED rows / compacted records / series items / asset versions, "
        f"each once | {found.effects.glue_runs} / {found.effects.trusted_rows} / "
        f"{found.effects.compacted_records} / {found.effects.dynamodb_items} / "
        f"{found.effects.asset_versions} |",
        f"| messages lost | {found.lost} |",
    ]
    if found.soak:
        soak = found.soak
        lines.append(
            f"| soak | {soak['seconds']} s, {soak['workloads']} workloads, {soak['messages']} "
            f"messages; queued messages after each workload: median {soak['backlog_median']}, "
            f"max {soak['backlog_max']}, last {soak['backlog_last']}; longest wait of a "
            f"workload's messages (send to all queues empty, the bound on queue age): median "
            f"{soak.get('age_median', '-')} s, max {soak.get('age_max', '-')} s, last "
            f"{soak.get('age_last', '-')} s |"
        )
        lines.append(
            f"| RSS MiB after the first workload / after the soak | {soak['memory_before']} / "
            f"{soak['memory_after']} |"
        )
    if found.faults_fired:
        lines += [
            "",
            "Dependency faults fired: "
            + ", ".join(f"{k}: {v}" for k, v in sorted(found.faults_fired.items())),
        ]
    if found.poison:
        lines += ["", "Where each poison input ended:", ""]
        lines += [f"- {kind}: {printable(where)}" for kind, where in sorted(found.poison.items())]
    tail = f"\n## {after}" if after else ""
    BENCHMARKS.write_text(before + "\n" + "\n".join(lines) + "\n" + tail)
