"""ingest-gate on the local platform, wired by its own template.

300 requests for 200 distinct transaction ids (every other id requested twice: duplicates
interleaved, some published at the same moment from parallel producers) plus 10 messages that
break the contract must give exactly 200 Glue runs, 200 started events, 10 messages in the
DLQ, and nothing else. The runtime polls a queue with one poller, so here the copies are
handled one batch after another; tests/faults/test_ingest_gate.py adds consumers that handle
copies of one id at the same moment, and kills workers mid-request.
"""

from __future__ import annotations

import json
import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from rocket_contracts import bus
from rocket_contracts.models.ingest.job_requested_v1 import IngestJobRequestedV1
from rocket_contracts.models.ingest.job_started_v1 import IngestJobStartedV1
from rocket_infra.local import LocalPlatform

pytestmark = pytest.mark.e2e

DISTINCT = 200
DUPLICATED = 100


def request(transaction_id: str, job: str) -> IngestJobRequestedV1:
    return IngestJobRequestedV1(
        transaction_id=transaction_id,
        job_name=job,
        arguments={"dataset": "transactions", "prefix": f"transactions/{transaction_id}/"},
        requested_by="e2e/ingest-gate",
        requested_at=datetime.now(UTC),
    )


def invalid_bodies(token: str, job: str) -> list[str]:
    """Ten messages a confused producer could send with the right type attribute."""
    valid = json.loads(
        bus.to_json(
            bus.wrap(request(f"{token}-bad", job), correlation_id=token, source="rocket/e2e")
        )
    )

    def variant(envelope: dict[str, Any] | None = None, **data: Any) -> str:
        body = {**valid, **(envelope or {})}
        body["data"] = {**valid["data"], **data}
        return json.dumps(body)

    missing = {k: v for k, v in valid["data"].items() if k != "requested_by"}
    return [
        f"not json {token}",
        json.dumps([token]),
        json.dumps({**valid, "data": missing}),
        variant(transaction_id=f"{token} with spaces"),
        variant(arguments={"transaction_id": token}),
        variant(arguments={"dataset": 5}),
        variant(requested_at="yesterday"),
        variant({"specversion": "0.3"}),
        variant({"type": "ingest.job.started.v1"}),
        variant(job_name=f"no spaces allowed {token}"),
    ]


def publish_all(platform: LocalPlatform, bodies: list[IngestJobRequestedV1], topic: str) -> None:
    sns = platform.client("sns")
    for n, event in enumerate(bodies):
        bus.publish(
            topic,
            event,
            correlation_id=f"{event.transaction_id}:{n}",
            sns_client=sns,
            source="rocket/e2e",
        )


def dlq_bodies(platform: LocalPlatform, queue_url: str) -> list[str]:
    sqs = platform.client("sqs")
    bodies: list[str] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300
        ).get("Messages", [])
        if not got:
            return bodies
        bodies += [m["Body"] for m in got]


def test_300_requests_for_200_ids_and_10_invalid(platform: LocalPlatform) -> None:
    outputs = platform.outputs("ingest-gate")
    job = outputs["CanaryJobName"]
    topic = platform.outputs("platform")["EventTopicArn"]
    token = f"e2e-{uuid.uuid4().hex[:8]}"
    ids = [f"{token}-{n:03d}" for n in range(DISTINCT)]
    rng = random.Random(4)
    # Interleaved: every id once in random order, then the duplicates shuffled into the stream.
    sequential = [request(tx, job) for tx in ids[DUPLICATED:]]
    sequential += [request(tx, job) for tx in ids[: DUPLICATED // 2]] * 2
    rng.shuffle(sequential)
    # Concurrent: the other half of the duplicated ids, each sent by two producers at once.
    concurrent = [request(tx, job) for tx in ids[DUPLICATED // 2 : DUPLICATED]]
    assert len(sequential) + 2 * len(concurrent) == 300

    sns = platform.client("sns")
    with ThreadPoolExecutor(max_workers=3) as pool:
        jobs = [pool.submit(publish_all, platform, sequential, topic)]
        jobs += [pool.submit(publish_all, platform, concurrent, topic) for _ in range(2)]
        for bad in invalid_bodies(token, job):
            sns.publish(
                TopicArn=topic,
                Message=bad,
                MessageAttributes={
                    "type": {"DataType": "String", "StringValue": "ingest.job.requested.v1"}
                },
            )
        for done in jobs:
            done.result()

    assert platform.wait_idle(timeout=240)

    # What the gate started: the emulator's record of StartJobRun, every page of it.
    pages = platform.client("glue").get_paginator("get_job_runs").paginate(JobName=job)
    started_runs = {
        run["Id"]: run["Arguments"]["--transaction_id"]
        for page in pages
        for run in page["JobRuns"]
        if run.get("Arguments", {}).get("--transaction_id", "").startswith(token)
    }
    assert sorted(started_runs.values()) == ids
    # What the runtime ran for real (it reads every page of GetJobRuns): each started run ran
    # its script exactly once and succeeded, and nothing else ran for these ids.
    executed = [
        run
        for run in platform.runtime.glue_runs(job)
        if run.arguments.get("--transaction_id", "").startswith(token)
    ]
    assert len(executed) == DISTINCT
    assert sorted(run.run_id for run in executed) == sorted(started_runs)
    assert [run.state for run in executed] == ["SUCCEEDED"] * DISTINCT
    assert sorted(run.arguments["--transaction_id"] for run in executed) == ids

    mine = [e for e in platform.bus_events() if (e.subject or "").startswith(token)]
    started = [e for e in mine if e.type == "ingest.job.started.v1"]
    assert sorted(IngestJobStartedV1.model_validate(e.data).transaction_id for e in started) == ids
    assert {
        IngestJobStartedV1.model_validate(e.data).job_run_id for e in started
    } == started_runs.keys()
    assert [e.type for e in mine if e.type != "ingest.job.started.v1"] == []

    dead = [body for body in dlq_bodies(platform, outputs["DeadLetterQueueUrl"]) if token in body]
    assert len(dead) == 10

    s3 = platform.client("s3")
    listed = s3.get_paginator("list_objects_v2").paginate(
        Bucket=outputs["IdempotencyBucketName"], Prefix=f"idempotency/{token}"
    )
    keys = [o["Key"] for page in listed for o in page.get("Contents", [])]
    assert len(keys) == DISTINCT
    states = {
        json.loads(s3.get_object(Bucket=outputs["IdempotencyBucketName"], Key=k)["Body"].read())[
            "state"
        ]
        for k in keys
    }
    assert states == {"COMPLETED"}


def test_the_producer_cli_request_starts_the_job(platform: LocalPlatform) -> None:
    from ingest_gate.cli import main

    job = platform.outputs("ingest-gate")["CanaryJobName"]
    transaction_id = f"e2e-cli-{uuid.uuid4().hex[:8]}"
    argv = ["request", "--job", job, "--arg", "dataset=stores", "--transaction-id", transaction_id]
    argv += ["--endpoint-url", platform.endpoint_url, "--stage", platform.stage]

    assert main(argv) == 0
    assert platform.wait_idle(timeout=60)

    [started] = [
        e
        for e in platform.bus_events()
        if e.type == "ingest.job.started.v1" and e.subject == transaction_id
    ]
    data = IngestJobStartedV1.model_validate(started.data)
    assert data.arguments == {"--dataset": "stores", "--transaction_id": transaction_id}
