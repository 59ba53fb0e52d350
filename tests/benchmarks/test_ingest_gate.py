"""ingest-gate benchmarks: AWS requests per message (the cost figure) and messages per second.

Run: make bench (or: uv run pytest -m bench tests/benchmarks/test_ingest_gate.py -s -p no:xdist)
Figures go to BENCHMARKS.md by hand; nothing here asserts on time.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from ingest_gate.bootstrap import bootstrap
from ingest_gate.consumer import Consumer
from ingest_gate.handlers.gate import handler
from ingest_gate.settings import Settings
from moto import mock_aws
from rocket_contracts import bus
from rocket_contracts.models.ingest.job_requested_v1 import IngestJobRequestedV1
from rocket_infra.local import LocalPlatform

pytestmark = pytest.mark.bench

JOB = "rocket-bench-ingest-gate-canary"
BUCKET = "rocket-bench-ingest-gate-idempotency"
BATCH = 10


class Context:
    function_name = "rocket-bench-ingest-gate"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:rocket-bench"
    memory_limit_in_mb = 256
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass
class Harness:
    consumer: Consumer
    operations: Counter[str]
    requests: Counter[str]
    session: boto3.Session
    topic: str


@pytest.fixture
def harness() -> Iterator[Harness]:
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        session.client("s3").create_bucket(Bucket=BUCKET)
        session.client("glue").create_job(
            Name=JOB,
            Role="arn:aws:iam::123456789012:role/glue",
            Command={"Name": "pythonshell", "ScriptLocation": "s3://a/canary.py"},
            ExecutionProperty={"MaxConcurrentRuns": 1000},
        )
        topic = session.client("sns").create_topic(Name="events")["TopicArn"]
        operations: Counter[str] = Counter()
        requests: Counter[str] = Counter()

        def count_call(model: Any, **_: Any) -> None:
            operations[f"{model.service_model.service_name}:{model.name}"] += 1

        def count_send(request: Any, **_: Any) -> None:
            requests["http"] += 1

        session.events.register("before-call", count_call)
        session.events.register("before-send", count_send)
        settings = Settings(
            event_topic_arn=topic, idempotency_bucket=BUCKET, allowed_jobs=frozenset({JOB})
        )
        yield Harness(bootstrap(settings, session=session), operations, requests, session, topic)


def request(transaction_id: str) -> IngestJobRequestedV1:
    return IngestJobRequestedV1(
        transaction_id=transaction_id,
        job_name=JOB,
        arguments={"dataset": "transactions", "prefix": f"transactions/{transaction_id}/"},
        requested_by="bench",
        requested_at=datetime.now(UTC),
    )


def sqs_event(ids: list[str]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{tx}",
                "receiptHandle": f"r-{tx}",
                "body": bus.to_json(
                    bus.wrap(request(tx), correlation_id=f"c-{tx}", source="rocket/bench")
                ),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795316400120",
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": "1795316400125",
                },
                "messageAttributes": {},
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:requests",
                "awsRegion": "us-east-1",
            }
            for tx in ids
        ]
    }


def run_batches(harness: Harness, ids: list[str]) -> float:
    """Seconds to push `ids` through the handler in SQS-sized batches; every record must pass."""
    events = [sqs_event(ids[i : i + BATCH]) for i in range(0, len(ids), BATCH)]
    start = time.perf_counter()
    for event in events:
        response = handler(event, Context(), consumer=harness.consumer)
        assert response == {"batchItemFailures": []}
    return time.perf_counter() - start


class SeedGate:
    """The seed's record handler, as the baseline: check the marker (HeadObject), mark the id
    processed (PutObject), start the job, announce it. Same parsing, clients and batches as the
    gate; it is what the gate costs against, not a correct alternative (it races and loses the
    job when the start fails, see the README)."""

    def __init__(self, harness: Harness) -> None:
        self.s3 = harness.session.client("s3")
        self.glue = harness.session.client("glue")
        self.sns = harness.session.client("sns")
        self.topic = harness.topic

    def __call__(self, record: SQSRecord) -> None:
        data = bus.parse_record(record).data_as(IngestJobRequestedV1)
        key = f"processed/{data.transaction_id}"
        try:
            self.s3.head_object(Bucket=BUCKET, Key=key)
            return
        except self.s3.exceptions.ClientError:
            pass
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=b"")
        arguments = {f"--{k}": v for k, v in data.arguments.items()}
        run = self.glue.start_job_run(JobName=data.job_name, Arguments=arguments)
        self.sns.publish(TopicArn=self.topic, Message=json.dumps({"JobRunId": run["JobRunId"]}))


def run_seed_batches(harness: Harness, ids: list[str]) -> float:
    seed = SeedGate(harness)
    events = [sqs_event(ids[i : i + BATCH]) for i in range(0, len(ids), BATCH)]
    start = time.perf_counter()
    for event in events:
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        response = process_partial_response(event=event, record_handler=seed, processor=processor)
        assert response == {"batchItemFailures": []}
    return time.perf_counter() - start


def test_aws_requests_per_message(harness: Harness) -> None:
    ids = [f"tx-{n}" for n in range(50)]
    run_batches(harness, ids)
    new_ops, new_http = dict(harness.operations), harness.requests["http"]
    harness.operations.clear()
    harness.requests.clear()
    run_batches(harness, ids)
    dup_ops, dup_http = dict(harness.operations), harness.requests["http"]

    print(f"\ningest-gate AWS calls, new: {new_http / len(ids):.2f}/message {new_ops}")
    print(f"ingest-gate AWS calls, duplicate: {dup_http / len(ids):.2f}/message {dup_ops}")
    assert new_http / len(ids) <= 4
    assert dup_http / len(ids) <= 2


def test_handler_throughput_in_process_moto(harness: Harness) -> None:
    ids = [f"tx-{n}" for n in range(500)]
    run_batches(harness, ids[:20])  # warm up imports and moto's backends
    run_seed_batches(harness, [f"seed-{tx}" for tx in ids[:20]])
    new = run_batches(harness, ids[20:])
    duplicate = run_batches(harness, ids[20:])
    seed_ids = [f"seed-{tx}" for tx in ids[20:]]
    seed_new = run_seed_batches(harness, seed_ids)
    seed_duplicate = run_seed_batches(harness, seed_ids)
    n = len(ids) - 20
    print(f"\ningest-gate handler, in-process moto: new {n / new:.0f} msg/s, ", end="")
    print(f"duplicate {n / duplicate:.0f} msg/s ({n} messages, batches of {BATCH})")
    print(f"seed check-then-put baseline: new {n / seed_new:.0f} msg/s, ", end="")
    print(f"duplicate {n / seed_duplicate:.0f} msg/s")
    print(
        f"gate / baseline: new {seed_new / new:.2f}x, duplicate {seed_duplicate / duplicate:.2f}x"
    )


def test_throughput_through_the_local_runtime() -> None:
    with LocalPlatform.start(services=["ingest-gate"]) as platform:
        job = platform.outputs("ingest-gate")["CanaryJobName"]
        topic = platform.outputs("platform")["EventTopicArn"]
        sns = platform.client("sns")
        token = f"bench-{uuid.uuid4().hex[:8]}"
        ids = [f"{token}-{n:03d}" for n in range(200)]

        def push() -> float:
            start = time.perf_counter()
            for tx in ids:
                model = request(tx).model_copy(update={"job_name": job})
                bus.publish(topic, model, correlation_id=tx, sns_client=sns, source="rocket/bench")
            assert platform.wait_idle(timeout=300)
            return time.perf_counter() - start

        new = push()
        duplicate = push()
        print(f"\ningest-gate through the local runtime: new {len(ids) / new:.1f} msg/s, ", end="")
        print(f"duplicate {len(ids) / duplicate:.1f} msg/s ({len(ids)} messages, publish to idle)")
