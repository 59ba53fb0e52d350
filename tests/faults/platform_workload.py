"""A mixed workload through all five services at once, its expected effects, and the checker.

One `Workload` is planned from a seed: ingest-gate job requests, etl-layers CSV files, a
compactor day of sink files with its request, a gap-scraper scheduled run over a short window,
and an asset-events agent run. Its effects are known before anything is sent (one Glue run per
transaction id, each TRUSTED row once, the day's records compacted once, the series table as the
SGS stand-in serves it, each asset at version 1); `check` verifies every one of them once the
queues drain, and `DlqLedger` that nothing valid reached a dead-letter queue.

The per-service fault suites' helpers do the per-service work (sending, reading back, the
per-service assertions); this module only puts them side by side.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from gap_scraper.business_calendar import BRASILIA
from gap_scraper.standins.sgs import complete_table
from rocket_infra.local import LocalPlatform

from tests.e2e.test_compactor import _lake_rows, _land, _processed, _request
from tests.faults import test_asset_events as assets
from tests.faults import test_etl_layers as etl
from tests.faults import test_gap_scraper as gaps
from tests.faults import test_ingest_gate as gate
from tests.faults.test_runtime import _children, _rss_kib

SERVICES = ("ingest-gate", "etl-layers", "compactor", "gap-scraper", "asset-events")

# Each workload gets its own TRUSTED year and compactor day, so workloads of one session (the
# platform is shared) never read each other's rows.
_years = itertools.count(1901)
_days = itertools.count(0)

# While faults are injected: visibility timeouts short enough that a record whose Lambda died
# comes back within a minute (ingest-gate's claim TTL cannot go below 60 s), and locks of the
# same order. The deployed values (up to 5400 s) would make a crash cost an hour here.
RECOVERY_VISIBILITY = {
    "ingest-gate": ("RequestQueueUrl", 60),
    "etl-layers": ("RawEventsQueueUrl", 30),
    "compactor": ("RequestQueueUrl", 30),
    "gap-scraper": ("WorkQueueUrl", 30),
}
# service -> (the output naming its function, or None: every function of the service that
# reads the first variable), the variables
RECOVERY_ENV: dict[str, tuple[str | None, dict[str, str]]] = {
    "ingest-gate": ("GateFunctionName", {"CLAIM_TTL_SECONDS": "60"}),
    "etl-layers": ("EtlFunctionName", {"ETL_LOCK_TTL_SECONDS": "10", "ETL_LOCK_WAIT_SECONDS": "5"}),
    "compactor": (None, {"COMPACTOR_LOCK_TTL_SECONDS": "60"}),
}


@dataclass
class Workload:
    seed: int
    token: str
    ingest_ids: list[str]
    etl_files: dict[str, str]
    etl_year: int
    compactor_day: date
    compactor_files: int
    asset_system: str
    asset_tables: int
    gap_window: tuple[date, date] | None
    compactor_records: int = 0  # known once landed (the generator decides)
    compactor_broken: int = 0
    messages: int = 0  # messages and files sent, copies included
    copies: int = 0  # of which extra copies (duplicates)


def gap_window(days: int = 40) -> tuple[date, date]:
    today = datetime.now(BRASILIA).date()
    return today - timedelta(days=days), today


def plan(seed: int, *, scale: int = 1, gap: tuple[date, date] | None = None) -> Workload:
    """The workload of `seed`: its sizes and names; `gap` is the gap-scraper window (None: the
    gap-scraper has no part, as its table is one for the whole platform)."""
    rng = random.Random(seed)
    token = f"wl{seed}-{uuid.uuid4().hex[:6]}"
    year = next(_years)
    files = etl.make_files(token, year, files=rng.randint(2, 3) * scale, rows=21, days=4)
    return Workload(
        seed=seed,
        token=token,
        ingest_ids=[f"{token}-tx-{n:03d}" for n in range(rng.randint(4, 8) * scale)],
        etl_files=files,
        etl_year=year,
        compactor_day=date(2000, 1, 1) + timedelta(days=next(_days)),
        compactor_files=rng.randint(6, 12) * scale,
        asset_system=f"wl-{uuid.uuid4().hex[:8]}",
        asset_tables=rng.randint(10, 20) * scale,
        gap_window=gap,
    )


def _times(copies: Callable[[], int], send: Callable[[], object], pool: ThreadPoolExecutor) -> int:
    """Send one message `copies()` times: all at once from the pool when the draw is even
    (concurrent duplicates), one after another otherwise. Returns the copies sent."""
    count = copies()
    if count > 1 and count % 2 == 0:
        for future in [pool.submit(send) for _ in range(count)]:
            future.result()
    else:
        for _ in range(count):
            send()
    return count


def send(platform: LocalPlatform, work: Workload, copies: Callable[[], int] = lambda: 1) -> None:
    """Everything of `work` into the platform; each message `copies()` times."""
    job = platform.outputs("ingest-gate")["CanaryJobName"]
    out = platform.outputs("etl-layers")
    raw, raw_queue = out["RawBucketName"], out["RawEventsQueueUrl"]
    s3, sqs = platform.client("s3"), platform.client("sqs")
    sent = 0
    with ThreadPoolExecutor(5) as pool:
        if work.gap_window is not None:
            gaps.clear_table(platform)
            sent += _times(copies, lambda: platform.runtime.trigger("OrchestratorSchedule"), pool)
        records, broken = _land(platform, work.compactor_day, work.compactor_files, work.seed)
        work.compactor_records, work.compactor_broken = records, broken
        request = _request(work.compactor_day, f"{work.token}-day")
        sent += _times(copies, lambda: platform.publish(request, correlation_id=work.token), pool)
        for n, tx in enumerate(work.ingest_ids):
            sent += _times(copies, functools.partial(gate.publish, platform, tx, job, n), pool)
        for key, text in work.etl_files.items():
            put = s3.put_object(Bucket=raw, Key=key, Body=text.encode())
            body = etl.s3_notification(platform, raw, key, put)
            # the put itself notified once
            sent += 1 + _times(
                lambda: copies() - 1,
                functools.partial(sqs.send_message, QueueUrl=raw_queue, MessageBody=body),
                pool,
            )
        events = assets.agent_events(work.asset_system, "run-1", work.asset_tables)
        sent += len(events) * _times(copies, lambda: assets.put(platform, events), pool)
    base = len(work.ingest_ids) + len(work.etl_files) + 1 + len(events)
    base += 1 if work.gap_window is not None else 0
    work.messages += sent
    work.copies += sent - base


def settle(platform: LocalPlatform, works: list[Workload], timeout: float = 900) -> bool:
    """The runtime idle and every etl file finished (its own check, see etl.wait_settled)."""
    deadline = time.monotonic() + timeout
    if not platform.wait_idle(timeout=timeout):
        return False
    files = {k: v for w in works for k, v in w.etl_files.items()}
    if not etl.wait_settled(platform, files, timeout=max(30.0, deadline - time.monotonic())):
        return False
    # a redelivery of a finished file may still be in flight: let it end
    return platform.wait_idle(timeout=max(30.0, deadline - time.monotonic()))


@dataclass
class Effects:
    """What one workload left behind, counted once each."""

    glue_runs: int = 0
    trusted_rows: int = 0
    compacted_records: int = 0
    dynamodb_items: int = 0
    asset_versions: int = 0

    def add(self, other: Effects) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def check(platform: LocalPlatform, work: Workload, tmp: Path) -> Effects:
    """Every expected effect of `work`, exactly once."""
    effects = Effects()
    # ingest-gate: one Glue run per transaction id, started and recorded COMPLETED
    result = gate.outcome(platform, work.token)
    gate.assert_one_run_each(result, work.ingest_ids)
    assert result.dead == [], "a valid job request in the DLQ"
    effects.glue_runs = sum(len(r) for r in result.runs.values())

    # etl-layers: each (id, day) once in TRUSTED, summaries, manifests, no lock, empty DLQ
    tmp.mkdir(parents=True, exist_ok=True)
    etl.check_layers(platform, work.etl_files, work.etl_year, tmp)
    effects.trusted_rows = len(etl.expected_rows(work.etl_files))

    # compactor: the day compacted once, every valid record in the lake once
    events = _processed(platform, work.compactor_day)
    assert [e.status for e in events].count("COMPACTED") == 1, [e.status for e in events]
    assert {e.status for e in events} <= {"COMPACTED", "ALREADY_COMPACTED"}
    rows = _lake_rows(platform, work.compactor_day)
    ids = Counter(r["event_id"] for r in rows)
    assert {i: c for i, c in ids.items() if c > 1} == {}, "a record compacted twice"
    assert len(rows) == work.compactor_records
    effects.compacted_records = len(rows)

    # gap-scraper: the table exactly as the stand-in serves the window
    if work.gap_window is not None:
        expected = complete_table(*work.gap_window)
        assert gaps.contents(platform) == expected
        assert gaps.dlq_depth(platform) == 0
        effects.dynamodb_items = sum(len(v) for v in expected.values())

    # asset-events: each table one asset at version 1, its seen mark from the run
    versions = assets.upserted_versions(platform, work.asset_system)
    assert len(versions) == work.asset_tables
    assert set().union(*versions.values()) == {1}
    seen = assets.seen_runs(platform, work.asset_system)
    assert len(seen) == work.asset_tables
    assert set(seen.values()) == {"run-1"}
    effects.asset_versions = sum(len(v) for v in versions.values())
    return effects


def dead_letter_queues(platform: LocalPlatform) -> list[str]:
    """Every dead-letter / failure-destination queue of the platform's stacks."""
    listed = platform.client("sqs").list_queues(QueueNamePrefix=f"rocket-{platform.stage}-")
    return sorted(
        url
        for url in listed.get("QueueUrls", [])
        if url.endswith("-dlq") or url.endswith("-failures")
    )


def depth(platform: LocalPlatform, url: str) -> int:
    attributes = platform.client("sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


@dataclass
class DlqLedger:
    """Depths of every DLQ when made; `growth()` is what arrived since (earlier suites of the
    session may have left their own poison there)."""

    platform: LocalPlatform
    before: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.before = {url: depth(self.platform, url) for url in dead_letter_queues(self.platform)}

    def growth(self) -> dict[str, int]:
        grown = {url: depth(self.platform, url) - n for url, n in self.before.items()}
        return {url.rsplit("/", 1)[-1]: n for url, n in grown.items() if n}


@contextlib.contextmanager
def deployed_environment(
    platform: LocalPlatform, function: str, extra: dict[str, str]
) -> Iterator[None]:
    """The function with `extra` in its deployed environment for the block; put back after."""
    lam = platform.client("lambda")
    deployed = lam.get_function_configuration(FunctionName=function)["Environment"]["Variables"]
    lam.update_function_configuration(
        FunctionName=function, Environment={"Variables": {**deployed, **extra}}
    )
    platform.runtime.refresh()
    try:
        yield
    finally:
        lam.update_function_configuration(
            FunctionName=function, Environment={"Variables": dict(deployed)}
        )
        platform.runtime.refresh()


def _functions_reading(platform: LocalPlatform, names: set[str]) -> list[str]:
    """Functions of this stage whose deployed environment sets one of `names` (ListFunctions
    in the emulator leaves environments out: each is read on its own)."""
    lam = platform.client("lambda")
    found = []
    for page in lam.get_paginator("list_functions").paginate():
        for function in page["Functions"]:
            name = function["FunctionName"]
            if not name.startswith(f"rocket-{platform.stage}-"):
                continue
            config = lam.get_function_configuration(FunctionName=name)
            if names & set(config.get("Environment", {}).get("Variables", {})):
                found.append(name)
    return sorted(found)


@contextlib.contextmanager
def recoverable(
    platform: LocalPlatform,
    visibility: dict[str, int] | None = None,
    *,
    receives: int | None = None,
) -> Iterator[None]:
    """Short visibilities (`visibility` per service over RECOVERY_VISIBILITY; maxReceiveCount
    kept unless `receives`) and short claims/locks: a record whose attempt died comes back
    within a minute; all put back after."""
    sqs = platform.client("sqs")
    with contextlib.ExitStack() as stack:
        for service, (output, seconds) in RECOVERY_VISIBILITY.items():
            url = platform.outputs(service)[output]
            policy = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
            count = json.loads(policy["Attributes"]["RedrivePolicy"])["maxReceiveCount"]
            stack.enter_context(
                platform.quick_redrive(
                    url,
                    visibility_timeout=(visibility or {}).get(service, seconds),
                    max_receive_count=receives or int(count),
                )
            )
        for service, (named, extra) in RECOVERY_ENV.items():
            functions = (
                [platform.outputs(service)[named]]
                if named
                else _functions_reading(platform, set(extra))
            )
            for function in functions:
                stack.enter_context(deployed_environment(platform, function, extra))
        yield


def worker_processes(platform: LocalPlatform) -> dict[int, str]:
    """The runtime's Lambda worker processes of this stage's functions: pid -> function."""
    found: dict[int, str] = {}
    prefix = f"rocket-{platform.stage}-"
    for pid, command in _children(os.getpid()):
        if "rocket_infra.runtime.worker" not in command:
            continue
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for entry in environ:
            if entry.startswith(b"AWS_LAMBDA_FUNCTION_NAME="):
                name = entry.split(b"=", 1)[1].decode()
                if name.startswith(prefix) and "faultprobe" not in name:
                    found[pid] = name
    return found


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1
    return int(fields[11]) + int(fields[12])  # utime + stime


def _busy(workers: dict[int, str], window: float = 0.2) -> dict[int, str]:
    """The workers that used CPU within `window` seconds: most likely inside an invocation
    (an idle worker sleeps on its stdin, and killing it only costs a cold start)."""
    before = {pid: _cpu_ticks(pid) for pid in workers}
    time.sleep(window)
    return {pid: f for pid, f in workers.items() if _cpu_ticks(pid) > before[pid] >= 0}


class Killer(threading.Thread):
    """SIGKILLs one of the runtime's worker processes at seeded random moments (exponential
    gaps, mean `mean_gap` s), `kills` times at most, until stopped. The runtime starts a fresh
    worker on the function's next invocation, as Lambda starts a fresh container."""

    def __init__(
        self, platform: LocalPlatform, seed: int, *, kills: int, mean_gap: float = 4.0
    ) -> None:
        super().__init__(name=f"killer-{seed}", daemon=True)
        self.platform = platform
        self.rng = random.Random(seed)
        self.most = kills
        self.mean_gap = mean_gap
        self.stopped = threading.Event()
        self.killed: list[str] = []

    def run(self) -> None:
        while len(self.killed) < self.most:
            if self.stopped.wait(self.rng.expovariate(1 / self.mean_gap)):
                return
            workers = worker_processes(self.platform)
            if not workers:
                continue
            # a function first, then one of its workers: the busiest function's many workers
            # do not take every kill; one running a handler right now when there is one
            pool = _busy(workers) or workers
            function = self.rng.choice(sorted(set(pool.values())))
            pid = self.rng.choice(sorted(p for p, f in pool.items() if f == function))
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                self.killed.append(workers[pid])

    def stop(self) -> None:
        self.stopped.set()
        self.join(30)


def crashed_invocations(platform: LocalPlatform, since: int) -> int:
    return sum(
        1
        for i in platform.runtime.invocations()[since:]
        if (i.error or "").startswith("Runtime.ExitError")
    )


def memory() -> dict[str, int]:
    """RSS in MiB of the runtime (this process), the emulator and the Lambda workers, and how
    many workers are warm (each function keeps up to two)."""
    totals = {"runtime": _rss_kib(os.getpid()) // 1024, "emulator": 0, "workers": 0, "warm": 0}
    for pid, command in _children(os.getpid()):
        if "rocket_infra.emulator_server" in command:
            totals["emulator"] += _rss_kib(pid) // 1024
        elif "rocket_infra.runtime.worker" in command:
            totals["workers"] += _rss_kib(pid) // 1024
            totals["warm"] += 1
    totals["per_worker"] = totals["workers"] // max(1, totals["warm"])
    return totals


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
