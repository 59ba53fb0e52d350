"""`rocket redrive` and `rocket events` against a deployed stack in the emulator."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from rocket_contracts import bus, registry
from rocket_infra import aws, cli, deploy, events, redrive
from rocket_infra.emulator import Emulator

STAGE = "local"


def _drain(sqs: Any, queue_url: str) -> None:
    """Empty a queue (PurgeQueue is allowed once a minute per queue)."""
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in batch],
        )


def _sqs(emulator: Emulator) -> Any:
    return aws.client("sqs", endpoint_url=emulator.endpoint_url)


def _queue_urls(emulator: Emulator) -> dict[str, str]:
    cfn = aws.client("cloudformation", endpoint_url=emulator.endpoint_url)
    return deploy.resources_of_type(cfn, "rocket-local-probe", "AWS::SQS::Queue")


def test_find_pair_by_logical_id_name_or_suffix(
    emulator_server: Emulator, deployed_probe: deploy.Deployed
) -> None:
    sqs, queues = _sqs(emulator_server), _queue_urls(emulator_server)
    for name in ("RequestQueue", "DeadLetterQueue", "rocket-local-probe-requests-dlq", "requests"):
        pair = redrive.find_pair(sqs, queues, name)
        assert pair.source_url.endswith("/rocket-local-probe-requests")
        assert pair.dlq_arn.endswith(":rocket-local-probe-requests-dlq")
    with pytest.raises(redrive.RedriveError, match="no dead-letter queue"):
        redrive.find_pair(sqs, queues, "NotifyQueue")
    with pytest.raises(redrive.RedriveError, match="matches 0 queues"):
        redrive.find_pair(sqs, queues, "nope")


def test_redrive_moves_every_message_back_with_its_attributes(
    emulator_server: Emulator,
    deployed_probe: deploy.Deployed,
    probe_repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sqs = _sqs(emulator_server)
    pair = redrive.find_pair(sqs, _queue_urls(emulator_server), "DeadLetterQueue")
    _drain(sqs, pair.source_url)  # the session's other tests publish there too
    for i in range(12):
        sqs.send_message(
            QueueUrl=pair.dlq_url,
            MessageBody=json.dumps({"n": i}),
            MessageAttributes={"type": {"DataType": "String", "StringValue": "x.y.z.v1"}},
        )
    monkeypatch.setenv("ROCKET_REPO_ROOT", str(probe_repo))

    code = cli.main(
        ["redrive", "probe", "DeadLetterQueue", "--endpoint-url", emulator_server.endpoint_url]
    )

    assert code == 0
    assert "moved 12 messages" in capsys.readouterr().out
    moved: list[Any] = []
    while batch := sqs.receive_message(
        QueueUrl=pair.source_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", []):
        moved.extend(batch)
        sqs.delete_message_batch(
            QueueUrl=pair.source_url,
            Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in batch],
        )
    # The session's other tests publish to the source queue too, at any time: only the messages
    # sent here (the one `type` they carry) are this test's.
    ours = [
        m
        for m in moved
        if m.get("MessageAttributes", {}).get("type", {}).get("StringValue") == "x.y.z.v1"
    ]
    assert sorted(json.loads(m["Body"])["n"] for m in ours) == list(range(12))
    assert "Messages" not in sqs.receive_message(QueueUrl=pair.dlq_url)


def _publish_example(emulator: Emulator, correlation_id: str) -> None:
    event_type = "ingest.job.requested.v1"
    model = registry.model_for(event_type).model_validate(
        registry.schema_for(event_type)["examples"][0]
    )
    topic = deploy.exports(aws.client("cloudformation", endpoint_url=emulator.endpoint_url))[
        f"rocket-{STAGE}-EventTopicArn"
    ]
    bus.publish(
        topic,
        model,
        correlation_id=correlation_id,
        sns_client=aws.client("sns", endpoint_url=emulator.endpoint_url),
        source="rocket/demo",
    )


def test_bus_tap_records_every_event_and_journals_it(
    emulator_server: Emulator, deployed_probe: deploy.Deployed, tmp_path: Path
) -> None:
    sqs, sns = _sqs(emulator_server), aws.client("sns", endpoint_url=emulator_server.endpoint_url)
    topic = deploy.exports(aws.client("cloudformation", endpoint_url=emulator_server.endpoint_url))[
        f"rocket-{STAGE}-EventTopicArn"
    ]
    queue_url = events.ensure_tap(sqs, sns, STAGE, topic)
    assert events.ensure_tap(sqs, sns, STAGE, topic) == queue_url  # idempotent: one subscription
    journal = tmp_path / "events.jsonl"
    tap = events.BusTap(sqs, queue_url, journal)
    _publish_example(emulator_server, "corr-a")
    sns.publish(TopicArn=topic, Message="not a cloudevent")
    _publish_example(emulator_server, "corr-b")

    deadline = time.monotonic() + 5
    while len(tap.events()) < 2 and time.monotonic() < deadline:
        pass

    seen = tap.events()
    assert sorted(e.correlationid for e in seen) == ["corr-a", "corr-b"]
    assert tap.not_cloudevents == ["not a cloudevent"]
    journaled = events.read_journal(journal)
    assert [m.body for m in journaled] == [m.body for m in tap.messages()]
    assert len(journaled) == 3  # the message that is no CloudEvent is kept too
    with journal.open("a") as half_written:
        half_written.write('{"body": "{\\"specversion')
    assert len(events.read_journal(journal)) == 3  # the line being written is read next time
    assert [m.inspected.correlation_id for m in events.select(journaled, "corr-b")] == ["corr-b"]
    line = events.format_event(seen[0])
    assert "ingest.job.requested.v1" in line
    assert "rocket/demo" in line


def test_events_command_reads_the_tap_queue_filtered_by_correlation_id(
    emulator_server: Emulator,
    deployed_probe: deploy.Deployed,
    probe_repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sqs, sns = _sqs(emulator_server), aws.client("sns", endpoint_url=emulator_server.endpoint_url)
    topic = deploy.exports(aws.client("cloudformation", endpoint_url=emulator_server.endpoint_url))[
        f"rocket-{STAGE}-EventTopicArn"
    ]
    events.ensure_tap(sqs, sns, STAGE, topic)
    _publish_example(emulator_server, "wanted-1")
    _publish_example(emulator_server, "other-2")
    monkeypatch.setenv("ROCKET_REPO_ROOT", str(probe_repo))

    code = cli.main(
        ["events", "--endpoint-url", emulator_server.endpoint_url, "--correlation-id", "wanted-1"]
    )

    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines[0] == events.HEADER
    assert len(lines) == 2
    assert lines[1].endswith("wanted-1")
    assert "ingest.job.requested.v1" in lines[1]


def test_events_and_trigger_without_a_running_platform_fail_clearly(
    probe_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROCKET_REPO_ROOT", str(probe_repo))
    assert cli.main(["events", "--stage", "nowhere"]) == 1
    assert cli.main(["trigger", "daily", "--stage", "nowhere"]) == 1
    assert "no `rocket up` is running for stage nowhere" in capsys.readouterr().out


class _MoveTaskSqs:
    """Just enough SQS for the AWS redrive path: records the StartMessageMoveTask call."""

    def __init__(self) -> None:
        self.started: list[dict[str, str]] = []

    def start_message_move_task(self, **kwargs: str) -> dict[str, str]:
        self.started.append(kwargs)
        return {"TaskHandle": "handle-1"}


def test_on_aws_redrive_is_a_message_move_task() -> None:
    sqs = _MoveTaskSqs()
    pair = redrive.QueuePair(
        "https://sqs/1/src",
        "arn:aws:sqs:eu-west-1:1:src",
        "https://sqs/1/dlq",
        "arn:aws:sqs:eu-west-1:1:dlq",
    )
    assert redrive.start_move_task(sqs, pair) == "handle-1"
    assert sqs.started == [
        {
            "SourceArn": "arn:aws:sqs:eu-west-1:1:dlq",
            "DestinationArn": "arn:aws:sqs:eu-west-1:1:src",
        }
    ]
