"""The gate function wired by bootstrap() against moto: real adapters, real requests, AWS calls."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from ingest_gate.bootstrap import bootstrap
from ingest_gate.consumer import Consumer
from ingest_gate.domain import Outcome, RetryLaterError
from ingest_gate.handlers.gate import handler
from ingest_gate.settings import Settings
from ingest_gate_fakes import FakeLambdaContext
from moto import mock_aws
from rocket_contracts.bus import ParsedMessage, parse_message, to_json, wrap
from rocket_contracts.models.ingest.job_requested_v1 import IngestJobRequestedV1
from rocket_contracts.models.ingest.job_started_v1 import IngestJobStartedV1

JOB = "rocket-test-ingest-gate-canary"
BUCKET = "rocket-test-ingest-gate-idempotency"


@dataclass
class Stack:
    session: boto3.Session
    calls: Counter[str]
    tap_url: str
    settings: Settings


@pytest.fixture
def stack() -> Iterator[Stack]:
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        s3, sns, sqs, glue = (session.client(n) for n in ("s3", "sns", "sqs", "glue"))
        s3.create_bucket(Bucket=BUCKET)
        glue.create_job(
            Name=JOB,
            Role="arn:aws:iam::123456789012:role/glue",
            Command={"Name": "pythonshell", "ScriptLocation": "s3://a/canary.py"},
            ExecutionProperty={"MaxConcurrentRuns": 100},
        )
        topic = sns.create_topic(Name="events")["TopicArn"]
        tap = sqs.create_queue(QueueName="tap")["QueueUrl"]
        tap_arn = sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=tap_arn["Attributes"]["QueueArn"],
            Attributes={"RawMessageDelivery": "true"},
        )
        calls: Counter[str] = Counter()
        session.events.register(
            "before-send", lambda request, **_: calls.update([request.url.split("/")[2]])
        )
        settings = Settings(
            event_topic_arn=topic,
            idempotency_bucket=BUCKET,
            allowed_jobs=frozenset({JOB}),
        )
        yield Stack(session, calls, tap, settings)


def sqs_event(*requests: IngestJobRequestedV1) -> dict[str, Any]:
    records = []
    for n, request in enumerate(requests):
        body = to_json(wrap(request, correlation_id=f"corr-{n}", source="rocket/tests"))
        records.append(
            {
                "messageId": f"m-{n}",
                "receiptHandle": f"r-{n}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795316400120",
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": "1795316400125",
                },
                "messageAttributes": {
                    "type": {"stringValue": "ingest.job.requested.v1", "dataType": "String"}
                },
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:requests",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def request(transaction_id: str, **arguments: str) -> IngestJobRequestedV1:
    return IngestJobRequestedV1(
        transaction_id=transaction_id,
        job_name=JOB,
        arguments=arguments,
        requested_by="tests",
        requested_at=datetime(2026, 11, 22, 3, 0, tzinfo=UTC),
    )


def test_a_request_starts_its_job_once_and_announces_it(stack: Stack) -> None:
    consumer = bootstrap(stack.settings, session=stack.session)
    event = sqs_event(request("tx-1", dataset="sales"), request("tx-1", dataset="sales"))

    response = handler(event, FakeLambdaContext(), consumer=consumer)

    assert response == {"batchItemFailures": []}
    runs = stack.session.client("glue").get_job_runs(JobName=JOB)["JobRuns"]
    assert [r["Arguments"] for r in runs] == [{"--dataset": "sales", "--transaction_id": "tx-1"}]
    record = json.loads(
        stack.session.client("s3")
        .get_object(Bucket=BUCKET, Key="idempotency/tx-1.json")["Body"]
        .read()
    )
    assert (record["state"], record["job_run_id"]) == ("COMPLETED", runs[0]["Id"])
    messages = stack.session.client("sqs").receive_message(
        QueueUrl=stack.tap_url, MaxNumberOfMessages=10
    )["Messages"]
    [started] = [parse_message(m["Body"]) for m in messages]
    assert isinstance(started.data, IngestJobStartedV1)
    assert (started.data.job_run_id, started.correlation_id) == (runs[0]["Id"], "corr-0")


def test_aws_requests_per_message_new_at_most_4_duplicate_at_most_2(stack: Stack) -> None:
    consumer = bootstrap(stack.settings, session=stack.session)
    handler(sqs_event(request("tx-first")), FakeLambdaContext(), consumer=consumer)
    stack.calls.clear()  # the first message of a container also reads the job definition (GetJob)
    handler(sqs_event(request("tx-new")), FakeLambdaContext(), consumer=consumer)
    new_calls = sum(stack.calls.values())
    stack.calls.clear()

    handler(sqs_event(request("tx-new")), FakeLambdaContext(), consumer=consumer)
    duplicate_calls = sum(stack.calls.values())

    assert new_calls <= 4  # claim, StartJobRun, publish, complete
    assert duplicate_calls <= 2  # failed claim, read


def atomic_conditional_writes(session: boto3.Session) -> None:
    """moto checks If-None-Match / If-Match and then writes, two steps another thread can run
    between (seen here: two claims of one id both succeeding, about 1 run in 12); S3 evaluates
    the condition atomically with the write. One PutObject at a time gives moto S3's atomicity;
    reads, Glue and SNS calls still run concurrently."""
    writes = threading.Lock()

    def begin_write(**_: Any) -> None:  # a before-call handler that returned a value would
        writes.acquire()  # replace the call's response

    def end_write(**_: Any) -> None:
        writes.release()

    # GetObject too: moto closes an object's in-memory file when a PutObject replaces it, and a
    # read in another thread at that moment fails with "I/O operation on closed file" (seen
    # about 1 run in 4 on a loaded machine); S3 serves the old or the new version.
    for operation in ("PutObject", "GetObject"):
        session.events.register(f"before-call.s3.{operation}", begin_write)
        for event in (f"after-call.s3.{operation}", f"after-call-error.s3.{operation}"):
            session.events.register(event, end_write)


def drain(sqs: Any, queue_url: str) -> list[ParsedMessage]:
    parsed: list[ParsedMessage] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        parsed += [parse_message(m["Body"]) for m in messages]
        entries = [
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)
        ]
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
    return parsed


# Only a guard against a hang if the gate ever leaves a claim nobody finishes; the test waits on
# deliveries finishing, never on a time budget, so a loaded machine only makes it slower.
STUCK_SECONDS = 300


@dataclass
class Deliveries:
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    retried: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    finished: int = 0
    progress: threading.Condition = field(default_factory=threading.Condition)

    def container(self, consumer: Consumer, records: list[Any], start: threading.Barrier) -> None:
        """One container delivering every record, again after a failure, as SQS does."""
        try:
            self._deliver(consumer, list(records), start)
        except Exception as exc:  # reported by the test, not lost with the thread
            with self.progress:
                self.errors.append(repr(exc))
                self.progress.notify_all()

    def _moved_since(self, seen: int) -> Callable[[], bool]:
        return lambda: self.finished > seen or bool(self.errors)

    def _deliver(self, consumer: Consumer, pending: list[Any], start: threading.Barrier) -> None:
        start.wait()
        while pending:
            record = pending.pop(0)
            with self.progress:
                seen = self.finished
            try:
                result = consumer(record)
            except RetryLaterError as exc:
                with self.progress:
                    self.retried[type(exc).__name__] += 1
                    # Another container holds the claim mid-way: the answer changes once a
                    # delivery finishes (the holder's), so wait for that, not for a delay.
                    moved = self.progress.wait_for(self._moved_since(seen), STUCK_SECONDS)
                    if self.errors:
                        return  # another container failed: the test reports that
                if not moved:
                    raise AssertionError(f"no delivery finished in {STUCK_SECONDS} s") from exc
                pending.append(record)
                continue
            with self.progress:
                self.outcomes[result.outcome] += 1
                self.finished += 1
                self.progress.notify_all()


def test_duplicates_delivered_to_eight_containers_at_once_start_one_run_each(
    stack: Stack,
) -> None:
    atomic_conditional_writes(stack.session)
    ids = [f"tx-race-{n}" for n in range(5)]
    records = sqs_event(*(request(tx, dataset="sales") for tx in ids))["Records"]
    # Each thread is a container with its own clients, as Lambda scales out on one queue.
    consumers = [bootstrap(stack.settings, session=stack.session) for _ in range(8)]
    start = threading.Barrier(len(consumers))
    deliveries = Deliveries()
    threads = [
        threading.Thread(target=deliveries.container, args=(c, records, start)) for c in consumers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert deliveries.errors == []
    assert deliveries.outcomes == {Outcome.STARTED: len(ids), Outcome.DUPLICATE: 7 * len(ids)}
    # A copy that found another's live claim failed and came back: the only retry reason.
    assert set(deliveries.retried) <= {"ClaimHeldError"}
    runs = stack.session.client("glue").get_job_runs(JobName=JOB)["JobRuns"]
    assert sorted(r["Arguments"]["--transaction_id"] for r in runs) == ids
    s3 = stack.session.client("s3")
    for run in runs:
        key = f"idempotency/{run['Arguments']['--transaction_id']}.json"
        record = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
        assert (record["state"], record["job_run_id"]) == ("COMPLETED", run["Id"])
    started = drain(stack.session.client("sqs"), stack.tap_url)
    assert sorted(p.envelope.subject or "" for p in started) == ids
