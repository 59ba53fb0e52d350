"""`rocket publish` and `rocket events`: every message that crossed the shared topic is shown,
the ones a consumer would refuse or never see flagged with why."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rocket_contracts import bus, registry
from rocket_infra import aws, cli, deploy, events, publish
from rocket_infra.emulator import Emulator

STAGE = "local"
REQUESTED = "ingest.job.requested.v1"
DATA = registry.schema_for(REQUESTED)["examples"][0]


def _message(body: str, type_attribute: str | None = REQUESTED) -> events.BusMessage:
    return events.BusMessage(body, type_attribute, datetime(2026, 11, 22, 3, tzinfo=UTC))


def _rocket_body(**changes: Any) -> str:
    model = registry.model_for(REQUESTED).model_validate(DATA)
    envelope = json.loads(bus.to_json(bus.wrap(model, correlation_id="req-1", source="rocket/x")))
    return json.dumps({**envelope, **changes})


def test_a_valid_event_is_not_flagged() -> None:
    inspected = _message(_rocket_body()).inspected

    assert inspected.ok
    assert inspected.event is not None
    assert inspected.correlation_id == "req-1"


def test_an_outside_producers_event_is_valid_but_not_rockets_own() -> None:
    body = json.dumps(
        {"specversion": "1.0", "id": "e-1", "source": "https://x.example.com", "type": REQUESTED}
        | {"data": DATA}
    )

    inspected = _message(body).inspected

    assert inspected.ok
    assert inspected.event is None
    assert inspected.correlation_id == "e-1"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("not json", "message body is not JSON: $: "),
        (json.dumps({"hello": 1}), "not a CloudEvent: $: 'data' is a required property"),
        (
            _rocket_body(data={**DATA, "job_name": "has spaces"}),
            f"invalid {REQUESTED}: $.data.job_name: 'has spaces' does not match",
        ),
    ],
    ids=["not-json", "not-a-cloudevent", "invalid-data"],
)
def test_a_message_a_consumer_refuses_is_flagged_with_the_first_error(
    body: str, problem: str
) -> None:
    message = _message(body)

    assert (message.inspected.problem or "").startswith(problem)
    assert events.format_message(message).splitlines()[1].startswith(f"  ! {problem}")


def test_a_message_without_the_type_attribute_matched_no_subscription() -> None:
    message = _message(_rocket_body(), type_attribute=None)

    assert message.inspected.problem == events.NO_SUBSCRIPTION
    assert json.loads(events.message_json(message))["problem"] == events.NO_SUBSCRIPTION


def test_publish_refuses_what_a_consumer_would_refuse() -> None:
    with pytest.raises(publish.PublishError, match=r"no contract for 'ingest\.job\.exploded\.v1'"):
        publish.build("ingest.job.exploded.v1", DATA)
    with pytest.raises(publish.PublishError, match=r"\$\.data\.job_name"):
        publish.build(REQUESTED, {**DATA, "job_name": "has spaces"})
    with pytest.raises(publish.PublishError, match=r"\$\.source"):
        publish.build(REQUESTED, DATA, source="not a uri")


def test_publish_reads_data_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(DATA))

    assert publish.read_data(f"@{path}") == DATA
    with pytest.raises(publish.PublishError, match="cannot read"):
        publish.read_data(f"@{tmp_path / 'missing.json'}")
    with pytest.raises(publish.PublishError, match="JSON object"):
        publish.read_data("[1]")


def test_published_and_stray_messages_all_show_in_rocket_events(
    emulator_server: Emulator,
    deployed_probe: deploy.Deployed,
    probe_repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    endpoint = emulator_server.endpoint_url
    sqs, sns = aws.client("sqs", endpoint_url=endpoint), aws.client("sns", endpoint_url=endpoint)
    topic = deploy.exports(aws.client("cloudformation", endpoint_url=endpoint))[
        f"rocket-{STAGE}-EventTopicArn"
    ]
    tap = events.ensure_tap(sqs, sns, STAGE, topic)
    list(events.receive(sqs, tap))  # what earlier tests left on the tap
    monkeypatch.setenv("ROCKET_REPO_ROOT", str(probe_repo))
    data = tmp_path / "request.json"
    data.write_text(json.dumps(DATA))
    common = ["--endpoint-url", endpoint, "--stage", STAGE]

    source = ["--source", "https://airflow.example.com/d", "--correlation-id", "req-cli"]
    published = cli.main(["publish", REQUESTED, "--data", f"@{data}", *source, *common])
    sns.publish(TopicArn=topic, Message='{"broken": ')
    sns.publish(TopicArn=topic, Message=_rocket_body())  # no type attribute
    capsys.readouterr()
    shown = cli.main(["events", "--json", *common])

    assert published == 0
    assert shown == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    by_problem = {line["problem"]: line for line in lines}
    assert len(lines) == 3
    good = by_problem[None]
    assert good["type_attribute"] == REQUESTED
    assert good["correlation_id"] == "req-cli"
    assert good["event"]["source"] == "https://airflow.example.com/d"
    assert by_problem[events.NO_SUBSCRIPTION]["event"]["type"] == REQUESTED
    [broken] = [line for line in lines if "body" in line]
    assert broken["body"] == '{"broken": '
    assert broken["problem"].startswith(events.NO_SUBSCRIPTION + "; message body is not JSON")
