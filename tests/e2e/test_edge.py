"""The edge of the local platform as an outside producer meets it.

An event written by the official CloudEvents SDK (source a URL, no dataschema, no correlationid,
a traceparent) and published to the shared topic with the `type` attribute, exactly as the root
README shows with `aws sns publish`, must start the Glue job through ingest-gate, and the gate's
started event must carry the SDK event's id as correlation id and its traceparent.
"""

from __future__ import annotations

import json
import re
import shlex
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cloudevents.core.bindings.http import to_structured_event
from cloudevents.core.v1.event import CloudEvent as SdkCloudEvent
from rocket_contracts.models.ingest.job_started_v1 import IngestJobStartedV1
from rocket_infra import events
from rocket_infra.local import LocalPlatform

pytestmark = pytest.mark.e2e

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_cloudevents_sdk_event_drives_ingest_gate(platform: LocalPlatform) -> None:
    job = platform.outputs("ingest-gate")["CanaryJobName"]
    transaction_id = f"e2e-sdk-{uuid.uuid4().hex[:8]}"
    event = SdkCloudEvent(
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "type": "ingest.job.requested.v1",
            "source": "https://airflow.example.com/dags/daily",
            "traceparent": TRACEPARENT,
        },
        {
            "transaction_id": transaction_id,
            "job_name": job,
            "arguments": {"dataset": "stores"},
            "requested_by": "airflow/daily",
            "requested_at": datetime.now(UTC).isoformat(),
        },
    )
    body = to_structured_event(event).body.decode("utf-8")

    platform.client("sns").publish(
        TopicArn=platform.topic_arn,
        Message=body,
        MessageAttributes={
            "type": {"DataType": "String", "StringValue": "ingest.job.requested.v1"}
        },
    )
    assert platform.wait_idle(timeout=60)

    runs = platform.client("glue").get_job_runs(JobName=job)["JobRuns"]
    assert [r for r in runs if r.get("Arguments", {}).get("--transaction_id") == transaction_id], (
        "the gate started no run for the SDK's request"
    )
    [started] = [
        e
        for e in platform.bus_events()
        if e.type == "ingest.job.started.v1" and e.subject == transaction_id
    ]
    assert IngestJobStartedV1.model_validate(started.data).job_name == job
    assert started.correlationid == json.loads(body)["id"]
    assert started.traceparent == TRACEPARENT


def _readme_sns_publish() -> dict[str, str]:
    """The `aws sns publish` command of the root README: its options by name."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```bash\n(.*?)```", readme, re.S) if "sns publish" in b]
    words = shlex.split(block.replace("\\\n", " "))
    return {
        word[2:]: words[index + 1]
        for index, word in enumerate(words)
        if word.startswith("--") and index + 1 < len(words)
    }


def test_the_readmes_aws_sns_publish_starts_the_job_and_without_type_is_flagged(
    platform: LocalPlatform,
) -> None:
    command = _readme_sns_publish()
    assert command["endpoint-url"] == "http://127.0.0.1:4566"  # what `make up` listens on
    assert command["topic-arn"] == platform.topic_arn
    message = json.loads(command["message"])
    transaction_id = f"{message['data']['transaction_id']}-{uuid.uuid4().hex[:6]}"
    message["data"]["transaction_id"] = transaction_id
    message["id"] = f"readme-{uuid.uuid4().hex[:8]}"
    sns = platform.client("sns")

    sns.publish(
        TopicArn=platform.topic_arn,
        Message=json.dumps(message),
        MessageAttributes=json.loads(command["message-attributes"]),
    )
    stray = {**message, "id": f"stray-{uuid.uuid4().hex[:8]}"}
    sns.publish(TopicArn=platform.topic_arn, Message=json.dumps(stray))
    sns.publish(TopicArn=platform.topic_arn, Message="{not json " + transaction_id)
    assert platform.wait_idle(timeout=60)

    assert [
        e
        for e in platform.bus_events()
        if e.type == "ingest.job.started.v1" and e.subject == transaction_id
    ]
    mine = [m for m in platform.bus_messages() if transaction_id in m.body]
    problems = sorted(str(m.inspected.problem) for m in mine if not m.inspected.ok)
    assert len(mine) == 4  # the request, the stray copy, the broken one, the started event
    assert problems[0] == events.NO_SUBSCRIPTION
    assert problems[1].startswith(events.NO_SUBSCRIPTION + "; message body is not JSON")
