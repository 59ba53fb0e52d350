"""`rocket redrive asset-events upsert|drop` runs the service's attempt-counting redrive (the
function its schedule runs), not the generic move; other queues keep the generic move."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from rocket_infra import aws, cli

STAGE = "local"
FUNCTION = f"arn:aws:lambda:us-east-1:123456789012:function:rocket-{STAGE}-asset-events-redrive"


@pytest.fixture
def events() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("events", region_name="us-east-1")
        for queue in ("upsert", "drop"):
            name = f"rocket-{STAGE}-asset-events-redrive-{queue}"
            client.put_rule(Name=name, ScheduleExpression="rate(1 hour)")
            client.put_targets(
                Rule=name,
                Targets=[{"Id": "redrive", "Arn": FUNCTION, "Input": json.dumps({"queue": queue})}],
            )
        yield client


def _url(name: str) -> str:
    return f"https://sqs.us-east-1.amazonaws.com/123456789012/{name}"


@pytest.mark.parametrize("queue", ["upsert", "drop"])
def test_the_request_queues_are_redriven_by_the_services_function(events: Any, queue: str) -> None:
    found = cli.service_redrive(
        events, STAGE, "asset-events", _url(f"rocket-{STAGE}-asset-events-{queue}")
    )

    assert found == (FUNCTION, json.dumps({"queue": queue}))


@pytest.mark.parametrize(
    ("service", "queue"),
    [
        ("asset-events", f"rocket-{STAGE}-asset-events-platform"),  # no rule of its own
        ("ingest-gate", f"rocket-{STAGE}-ingest-gate-requests"),
        ("asset-events", "someone-elses-upsert"),  # not a queue of the stack
    ],
)
def test_other_queues_keep_the_generic_move(events: Any, service: str, queue: str) -> None:
    assert cli.service_redrive(events, STAGE, service, _url(queue)) is None


class _Lambda:
    """What `aws lambda invoke` answers: the redrive function's report, or its error."""

    def __init__(self, body: dict[str, Any], *, error: bool = False) -> None:
        self.body, self.error, self.calls = body, error, list[dict[str, Any]]()
        self.configs: list[Any] = []

    def get_function_configuration(self, FunctionName: str) -> dict[str, Any]:  # noqa: N803
        return {"FunctionName": FunctionName, "Timeout": 120}

    def invoke(self, **call: Any) -> dict[str, Any]:
        self.calls.append(call)
        answer: dict[str, Any] = {"Payload": io.BytesIO(json.dumps(self.body).encode())}
        if self.error:
            answer["FunctionError"] = "Unhandled"
        return answer


def _on_aws(monkeypatch: pytest.MonkeyPatch, fake: _Lambda) -> None:
    real = aws.client

    def client(name: str, **kw: Any) -> Any:
        if name != "lambda":
            return real(name, **kw)
        fake.configs.append(kw.get("config"))
        return fake

    monkeypatch.setattr(aws, "client", client)


def test_on_aws_the_function_is_invoked_and_its_report_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    parked = "s3://rocket-prod-asset-events-content-1/parked/upsert/m-1.json"
    fake = _Lambda({"queue": "upsert", "moved": 4, "parked": [parked]})
    _on_aws(monkeypatch, fake)
    args = cli.build_parser().parse_args(["redrive", "asset-events", "upsert", "--stage", "prod"])

    status = cli._run_service_redrive(args, None, FUNCTION, '{"queue": "upsert"}')

    assert status == 0
    assert fake.calls == [{"FunctionName": FUNCTION, "Payload": b'{"queue": "upsert"}'}]
    # The invoke waits for the function's 120 s and is not retried.
    invoking = fake.configs[-1]
    assert (invoking.read_timeout, invoking.retries["total_max_attempts"]) == (130, 1)
    out = capsys.readouterr().out
    assert 'rocket-local-asset-events-redrive {"queue": "upsert"}: moved 4, parked 1' in out
    assert f"parked {parked}" in out


def test_on_aws_a_failed_redrive_fails_the_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = _Lambda({"errorType": "ValueError", "errorMessage": "queue must be one of upsert, drop"})
    fake.error = True
    _on_aws(monkeypatch, fake)
    args = cli.build_parser().parse_args(["redrive", "asset-events", "drop", "--stage", "prod"])

    status = cli._run_service_redrive(args, None, FUNCTION, '{"queue": "drop"}')

    assert status == 1
    assert "failed: ValueError: queue must be one of upsert, drop" in capsys.readouterr().out


def test_the_help_says_which_redrive_runs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["redrive", "--help"])
    text = " ".join(capsys.readouterr().out.split())

    assert "rocket-<stage>-<service>-redrive-<queue>" in text
    assert "attempts counted in a message attribute" in text
    assert "parked in the content bucket" in text
    assert "rocket redrive asset-events upsert" in text
