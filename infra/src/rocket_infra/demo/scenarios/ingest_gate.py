"""ingest-gate in the demo: a morning of job requests, with the usual accidents.

A scheduler asks for the nightly reprocessing of six datasets through the canary job; one
request is redelivered twice (producer retry), one transaction id is reused with other
arguments, one asks for a job that is not on the allow-list, and one message is malformed.
Expected: six runs, six started events, two rejections (one per reason), the malformed message
in the DLQ, and nothing else.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rocket_contracts.models.ingest.job_requested_v1 import IngestJobRequestedV1

from rocket_infra.demo.report import ScenarioReport

if TYPE_CHECKING:
    from rocket_infra.local import LocalPlatform

DATASETS = ("transactions", "customers", "products", "stores", "payments", "refunds")
REQUESTED = "ingest.job.requested.v1"


def _request(transaction_id: str, job: str, dataset: str, day: str) -> IngestJobRequestedV1:
    return IngestJobRequestedV1(
        transaction_id=transaction_id,
        job_name=job,
        arguments={"dataset": dataset, "prefix": f"{dataset}/{day}/"},
        requested_by="scheduler/nightly-reprocess",
        requested_at=datetime.now(UTC),
    )


def _dead_letters(platform: LocalPlatform, queue_url: str, token: str) -> int:
    sqs = platform.client("sqs")
    found = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60
        ).get("Messages", [])
        if not messages:
            return found
        found += sum(token in m["Body"] for m in messages)


def run(platform: LocalPlatform) -> ScenarioReport:
    outputs = platform.outputs("ingest-gate")
    job = outputs["CanaryJobName"]
    token = f"demo-{uuid.uuid4().hex[:6]}"
    day = datetime.now(UTC).strftime("%Y/%m/%d")
    requests = [_request(f"{token}-{d}", job, d, day) for d in DATASETS]
    sent = [*requests, requests[0], requests[0]]  # a producer retrying twice
    sent.append(_request(requests[1].transaction_id, job, "customers", "1999/01/01"))  # reused id
    sent.append(_request(f"{token}-cleanup", "drop-all-tables", "all", day))  # not allow-listed
    for n, request in enumerate(sent):
        platform.publish(request, correlation_id=f"{token}:{n}", source="rocket/demo")
    malformed = json.dumps({"specversion": "1.0", "type": REQUESTED, "id": token, "data": {}})
    platform.client("sns").publish(
        TopicArn=platform.outputs("platform")["EventTopicArn"],
        Message=malformed,
        MessageAttributes={"type": {"DataType": "String", "StringValue": REQUESTED}},
    )

    report = ScenarioReport(
        service="ingest-gate",
        came_in={REQUESTED: len(sent), f"{REQUESTED} (malformed)": 1},
    )
    report.expect(platform.wait_idle(120), "the platform did not go idle within 120 s")

    mine = [e for e in platform.bus_events() if (e.subject or "").startswith(token)]
    went_out = Counter(e.type for e in mine if e.type != REQUESTED)
    reasons = Counter(
        str(e.data.get("reason")) for e in mine if e.type == "ingest.job.rejected.v1" and e.data
    )
    runs = [
        r
        for r in platform.runtime.glue_runs(job)
        if r.arguments.get("--transaction_id", "").startswith(token)
    ]
    report.went_out = {
        **dict(went_out),
        **{f"rejected: {reason}": count for reason, count in reasons.items()},
        f"glue runs of {job}": len(runs),
    }
    dead = _dead_letters(platform, outputs["DeadLetterQueueUrl"], token)
    report.quarantined = {"requests DLQ": dead}
    dlq = outputs["DeadLetterQueueUrl"].rsplit("/", 1)[-1]
    report.sent_on_purpose(f"1 malformed {REQUESTED} (empty data)", f"DLQ {dlq}: {dead} message")
    report.sent_on_purpose(
        "1 request for a job not on the allow-list",
        f"ingest.job.rejected.v1 UNKNOWN_JOB: {reasons['UNKNOWN_JOB']}",
    )
    report.sent_on_purpose(
        "1 transaction id reused with other arguments",
        f"ingest.job.rejected.v1 CONFLICTING_PAYLOAD: {reasons['CONFLICTING_PAYLOAD']}",
    )

    report.expect(len(runs) == len(DATASETS), f"expected 6 Glue runs, got {len(runs)}")
    report.expect(all(r.state == "SUCCEEDED" for r in runs), "a canary run did not succeed")
    report.expect(
        went_out["ingest.job.started.v1"] == len(DATASETS),
        f"expected 6 started events, got {went_out['ingest.job.started.v1']}",
    )
    report.expect(
        reasons == Counter({"UNKNOWN_JOB": 1, "CONFLICTING_PAYLOAD": 1}),
        f"expected one rejection per reason, got {dict(reasons)}",
    )
    report.expect(dead == 1, f"expected the malformed request in the DLQ, found {dead}")
    return report
