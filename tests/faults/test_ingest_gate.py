"""ingest-gate under faults on the local platform.

- Crashes: the deployed gate's worker process dies (`os._exit`, no cleanup, as when Lambda
  kills a container) between the claim and StartJobRun, between StartJobRun and the COMPLETED
  write, and between the started event and the COMPLETED write; Glue refuses starts with
  ThrottlingException. The faults come from a `sitecustomize` put on the function's PYTHONPATH
  through its deployed environment, so the code under test is the deployed handler, unchanged.
- Soak: 1250 requests for 250 transaction ids (every id published by five producers at the
  same moment) consumed by the runtime's poller and two more containers polling the same
  queue, as Lambda scales out: duplicates are handled concurrently.

Either way: exactly one Glue run per transaction id, and nothing valid lost.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rocket_contracts import bus
from rocket_contracts.models.ingest.job_requested_v1 import IngestJobRequestedV1
from rocket_contracts.models.ingest.job_started_v1 import IngestJobStartedV1
from rocket_infra.local import LocalPlatform
from rocket_infra.runtime.events import sqs_record
from rocket_infra.runtime.workers import FunctionSpec, FunctionWorker, worker_environment

# Claim TTL and queue visibility while faults are injected: the smallest the template allows
# (ClaimTtlSeconds >= 60) and twice the function timeout, so a crash is recovered in about a
# minute instead of the deployed 180 s visibility. The logic under test does not change.
SHORT_SECONDS = 60

# Put on the gate function's PYTHONPATH: botocore hooks that kill the process, or make Glue
# refuse, at the points named in the transaction id. Each fault fires once per transaction id
# (a marker file), so the redelivery that follows runs normally.
INJECTOR = """
import json
import os

import botocore.session
from botocore.exceptions import ClientError

MARKS = os.environ["ROCKET_FAULTS_DIR"]
THROTTLES = 2


def _first(point, transaction_id):
    try:
        fd = os.open(os.path.join(MARKS, f"{point}.{transaction_id}"), os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def _die():
    os._exit(137)


def before_start(params, context, **_):
    tx = (params.get("Arguments") or {}).get("--transaction_id", "")
    context["fault_tx"] = tx
    if "-die-before-start-" in tx and _first("die-before-start", tx):
        _die()
    if "-throttled-" in tx:
        for n in range(THROTTLES):
            if _first(f"throttled-{n}", tx):
                error = {"Code": "ThrottlingException", "Message": "Rate exceeded"}
                raise ClientError({"Error": error}, "StartJobRun")


def after_start(http_response, context, **_):
    tx = context.get("fault_tx", "")
    if http_response.status_code == 200 and "-die-after-start-" in tx:
        if _first("die-after-start", tx):
            _die()


def before_publish(params, context, **_):
    try:
        event = json.loads(params.get("Message", ""))
    except ValueError:
        return
    if isinstance(event, dict) and event.get("type") == "ingest.job.started.v1":
        context["fault_tx"] = event.get("subject") or ""


def after_publish(http_response, context, **_):
    tx = context.get("fault_tx", "")
    if http_response.status_code == 200 and "-die-after-publish-" in tx:
        if _first("die-after-publish", tx):
            _die()


_init = botocore.session.Session.__init__


def _init_with_faults(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    self.register("before-parameter-build.glue.StartJobRun", before_start)
    self.register("after-call.glue.StartJobRun", after_start)
    self.register("before-parameter-build.sns.Publish", before_publish)
    self.register("after-call.sns.Publish", after_publish)


botocore.session.Session.__init__ = _init_with_faults
"""

CRASH_POINTS = ("die-before-start", "die-after-start", "die-after-publish")


def request(transaction_id: str, job: str) -> IngestJobRequestedV1:
    return IngestJobRequestedV1(
        transaction_id=transaction_id,
        job_name=job,
        arguments={"dataset": "transactions", "prefix": f"transactions/{transaction_id}/"},
        requested_by="faults/ingest-gate",
        requested_at=datetime.now(UTC),
    )


def publish(platform: LocalPlatform, transaction_id: str, job: str, n: int) -> None:
    bus.publish(
        platform.topic_arn,
        request(transaction_id, job),
        correlation_id=f"{transaction_id}:{n}",
        sns_client=platform.client("sns"),
        source="rocket/faults",
    )


def publish_each(platform: LocalPlatform, ids: list[str], job: str, n: int) -> None:
    for transaction_id in ids:
        publish(platform, transaction_id, job, n)


def gate_spec(platform: LocalPlatform) -> FunctionSpec:
    """The gate function as deployed, for containers started by the test."""
    name = platform.outputs("ingest-gate")["GateFunctionName"]
    config = platform.client("lambda").get_function_configuration(FunctionName=name)
    return FunctionSpec(
        name=name,
        arn=config["FunctionArn"],
        handler=config["Handler"],
        environment=dict(config.get("Environment", {}).get("Variables", {})),
        timeout=int(config.get("Timeout", 3)),
        memory_size=int(config.get("MemorySize", 128)),
    )


def crashes(platform: LocalPlatform, function: str) -> int:
    return sum(
        1
        for i in platform.runtime.invocations()
        if i.function == function and i.error and i.error.startswith("Runtime.ExitError")
    )


@dataclass(frozen=True)
class Outcome:
    runs: dict[str, list[str]]  # transaction id -> Glue run ids (the emulator's record)
    executed: dict[str, list[str]]  # transaction id -> states of the scripts the runtime ran
    started: dict[str, list[IngestJobStartedV1]]
    other_events: list[str]
    records: dict[str, dict[str, Any]]
    dead: list[str]


def outcome(platform: LocalPlatform, token: str) -> Outcome:
    outputs = platform.outputs("ingest-gate")
    job = outputs["CanaryJobName"]
    runs: dict[str, list[str]] = {}
    pages = platform.client("glue").get_paginator("get_job_runs").paginate(JobName=job)
    for page in pages:
        for run in page["JobRuns"]:
            tx = run.get("Arguments", {}).get("--transaction_id", "")
            if tx.startswith(token):
                runs.setdefault(tx, []).append(run["Id"])
    executed: dict[str, list[str]] = {}
    for glue_run in platform.runtime.glue_runs(job):
        tx = glue_run.arguments.get("--transaction_id", "")
        if tx.startswith(token):
            executed.setdefault(tx, []).append(glue_run.state)
    mine = [e for e in platform.bus_events() if (e.subject or "").startswith(token)]
    started: dict[str, list[IngestJobStartedV1]] = {}
    for event in mine:
        if event.type == "ingest.job.started.v1":
            data = IngestJobStartedV1.model_validate(event.data)
            started.setdefault(data.transaction_id, []).append(data)
    s3 = platform.client("s3")
    bucket = outputs["IdempotencyBucketName"]
    listed = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=f"idempotency/{token}"
    )
    records: dict[str, dict[str, Any]] = {}
    for page in listed:
        for obj in page.get("Contents", []):
            record = json.loads(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
            records[record["transaction_id"]] = record
    return Outcome(
        runs=runs,
        executed=executed,
        started=started,
        other_events=[e.type for e in mine if e.type != "ingest.job.started.v1"],
        records=records,
        dead=dlq_bodies(platform, outputs["DeadLetterQueueUrl"], token),
    )


def dlq_bodies(platform: LocalPlatform, queue_url: str, token: str) -> list[str]:
    sqs = platform.client("sqs")
    bodies: list[str] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=600
        ).get("Messages", [])
        if not got:
            return [body for body in bodies if token in body]
        bodies += [m["Body"] for m in got]


def assert_one_run_each(result: Outcome, ids: list[str]) -> None:
    assert sorted(result.runs) == sorted(ids)
    assert {tx: len(run_ids) for tx, run_ids in result.runs.items() if len(run_ids) != 1} == {}
    assert {tx: states for tx, states in result.executed.items() if states != ["SUCCEEDED"]} == {}
    assert sorted(result.executed) == sorted(ids)
    assert sorted(result.started) == sorted(ids)
    for tx, events in result.started.items():
        assert {e.job_run_id for e in events} == set(result.runs[tx]), tx
    assert {tx: r["state"] for tx, r in result.records.items() if r["state"] != "COMPLETED"} == {}
    assert {tx: r["job_run_id"] for tx, r in result.records.items()} == {
        tx: run_ids[0] for tx, run_ids in result.runs.items()
    }


@pytest.fixture
def injected_faults(platform: LocalPlatform, tmp_path: Path) -> Iterator[Path]:
    """The deployed gate with the injector on its PYTHONPATH and short claims; restored after."""
    outputs = platform.outputs("ingest-gate")
    lam, sqs = platform.client("lambda"), platform.client("sqs")
    name, queue_url = outputs["GateFunctionName"], outputs["RequestQueueUrl"]
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
        "CLAIM_TTL_SECONDS": str(SHORT_SECONDS),
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


def test_crashes_and_throttling_start_each_job_once(
    platform: LocalPlatform, injected_faults: Path
) -> None:
    outputs = platform.outputs("ingest-gate")
    job, function = outputs["CanaryJobName"], outputs["GateFunctionName"]
    token = f"faults-{uuid.uuid4().hex[:8]}"
    crash_ids = [f"{token}-{point}-{n}" for point in CRASH_POINTS for n in range(2)]
    throttled = [f"{token}-throttled-{n}" for n in range(3)]
    plain = [f"{token}-plain-{n:02d}" for n in range(20)]
    ids = crash_ids + throttled + plain
    crashed_before = crashes(platform, function)

    # Every id twice. A crash takes its whole batch down, so each crashing request is published
    # alone (the batching window is 1 s): a valid request is never in two crashed batches in a
    # row, and its five deliveries always outlast the claims it waits for.
    rng = random.Random(4)
    rest = (throttled + plain) * 2
    rng.shuffle(rest)
    started_at = time.monotonic()
    for n, tx in enumerate(crash_ids):
        publish(platform, tx, job, 0)
        time.sleep(2.5)
        for other in rest[n * 10 : (n + 1) * 10]:
            publish(platform, other, job, 1)
        time.sleep(2.5)
    for other in rest[len(crash_ids) * 10 :]:
        publish(platform, other, job, 2)
    for tx in crash_ids:
        publish(platform, tx, job, 3)

    assert platform.wait_idle(timeout=720)
    elapsed = time.monotonic() - started_at
    result = outcome(platform, token)

    marks = sorted(p.name.split(".")[0] for p in injected_faults.iterdir())
    assert Counter(marks) == {
        "die-before-start": 2,
        "die-after-start": 2,
        "die-after-publish": 2,
        "throttled-0": 3,
        "throttled-1": 3,
    }
    assert crashes(platform, function) - crashed_before == len(crash_ids)
    assert_one_run_each(result, ids)
    assert result.dead == []
    assert result.other_events == []
    recovered = {tx: [e.recovered for e in events] for tx, events in result.started.items()}
    for tx in ids:
        if "-die-after-publish-" in tx:
            # The event went out before the crash and again on takeover: at least once.
            assert recovered[tx] == [False, True], tx
        elif "-die-after-start-" in tx:
            assert recovered[tx] == [True], tx
        else:
            assert recovered[tx] == [False], tx
    print(
        f"\ningest-gate faults: {len(ids)} ids, {2 * len(ids)} requests, "
        f"{len(crash_ids)} worker crashes, {2 * len(throttled)} throttled starts -> "
        f"{sum(len(r) for r in result.runs.values())} Glue runs, "
        f"{sum(len(e) for e in result.started.values())} started events, "
        f"0 in the DLQ; {elapsed:.0f} s to idle"
    )


@dataclass(frozen=True)
class Handled:
    container: int
    began: float
    ended: float
    transaction_ids: frozenset[str]
    failed: int


class Container(threading.Thread):
    """One more Lambda container of the gate polling the request queue, as Lambda scales out:
    a worker process of the runtime with the deployed environment, fed by this thread."""

    def __init__(
        self, number: int, platform: LocalPlatform, spec: FunctionSpec, stop: threading.Event
    ) -> None:
        super().__init__(name=f"gate-container-{number}", daemon=True)
        outputs = platform.outputs("ingest-gate")
        self.number = number
        self.queue_url = outputs["RequestQueueUrl"]
        self.queue_arn = outputs["RequestQueueArn"]
        self.region = platform.region
        self.sqs = platform.client("sqs")
        env = worker_environment(
            spec,
            endpoint_url=platform.endpoint_url,
            region=platform.region,
            task_root=platform.repo_root,
        )
        self.worker = FunctionWorker(spec, env, platform.repo_root)
        self.stop = stop
        self.handled: list[Handled] = []
        self.errors: list[str] = []

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self._poll()
        finally:
            self.worker.stop()

    def _poll(self) -> None:
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return
        event = {
            "Records": [
                sqs_record(m, queue_arn=self.queue_arn, region=self.region) for m in messages
            ]
        }
        began = time.monotonic()
        result = self.worker.invoke(event)
        ended = time.monotonic()
        if result.error is not None:
            self.errors.append(str(result.error.get("errorType")))
            return
        failed = {f["itemIdentifier"] for f in result.payload["batchItemFailures"]}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            entries = [
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                for n, m in enumerate(done[start : start + 10])
            ]
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        self.handled.append(
            Handled(self.number, began, ended, transaction_ids(messages), len(failed))
        )


def transaction_ids(messages: list[dict[str, Any]]) -> frozenset[str]:
    found: set[str] = set()
    for message in messages:
        try:
            found.add(json.loads(message["Body"])["data"]["transaction_id"])
        except (ValueError, KeyError, TypeError):
            continue
    return frozenset(found)


def handled_concurrently(handled: list[Handled]) -> set[str]:
    """Transaction ids that two containers were handling at the same moment."""
    both: set[str] = set()
    for a in handled:
        for b in handled:
            if a.container < b.container and a.began < b.ended and b.began < a.ended:
                both |= a.transaction_ids & b.transaction_ids
    return both


SOAK_IDS = 250
SOAK_COPIES = 5
SOAK_CONTAINERS = 2


def test_soak_heavily_duplicated_requests_start_each_job_once(platform: LocalPlatform) -> None:
    outputs = platform.outputs("ingest-gate")
    job = outputs["CanaryJobName"]
    token = f"soak-{uuid.uuid4().hex[:8]}"
    ids = [f"{token}-{n:04d}" for n in range(SOAK_IDS)]
    invalid = [
        json.dumps({"transaction_id": f"{token}-bad-{n}", "not": "a CloudEvent"}) for n in range(10)
    ]
    stop = threading.Event()
    containers = [Container(n, platform, gate_spec(platform), stop) for n in range(SOAK_CONTAINERS)]
    for container in containers:
        container.start()
    try:
        started_at = time.monotonic()
        # Every producer publishes the ids in the same order: the copies of an id reach the
        # queue at about the same moment and are received by different consumers.
        with ThreadPoolExecutor(max_workers=SOAK_COPIES) as pool:
            sent = [pool.submit(publish_each, platform, ids, job, n) for n in range(SOAK_COPIES)]
            for body in invalid:
                platform.client("sns").publish(
                    TopicArn=platform.topic_arn,
                    Message=body,
                    MessageAttributes={
                        "type": {"DataType": "String", "StringValue": "ingest.job.requested.v1"}
                    },
                )
            for done in sent:
                done.result()
        published = time.monotonic() - started_at
        assert platform.wait_idle(timeout=900)
        elapsed = time.monotonic() - started_at
    finally:
        stop.set()
        for container in containers:
            container.join(timeout=60)

    result = outcome(platform, token)
    assert_one_run_each(result, ids)
    assert {tx: len(events) for tx, events in result.started.items() if len(events) != 1} == {}
    assert result.other_events == []
    assert len(result.dead) == len(invalid)
    assert [c.errors for c in containers] == [[]] * SOAK_CONTAINERS
    handled = [h for c in containers for h in c.handled]
    concurrent = handled_concurrently(handled)
    # The point of the soak: copies of one id really were in two containers at once.
    assert concurrent
    requests = SOAK_IDS * SOAK_COPIES + len(invalid)
    print(
        f"\ningest-gate soak: {requests} requests ({SOAK_IDS} ids x {SOAK_COPIES} + "
        f"{len(invalid)} invalid), runtime poller + {SOAK_CONTAINERS} containers -> "
        f"{sum(len(r) for r in result.runs.values())} Glue runs, "
        f"{sum(len(e) for e in result.started.values())} started events, "
        f"{len(result.dead)} in the DLQ; {len(concurrent)} ids handled by two containers at "
        f"once; containers handled {sum(len(h.transaction_ids) for h in handled)} id-batches, "
        f"{sum(h.failed for h in handled)} records failed and retried; published in "
        f"{published:.0f} s, idle after {elapsed:.0f} s ({requests / elapsed:.1f} requests/s)"
    )
