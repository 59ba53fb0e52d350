"""Settings from the Lambda environment, and the producer CLI's request building."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ingest_gate.cli import UsageError, build_request, main, parse_pairs
from ingest_gate.settings import Settings

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def test_settings_read_the_allow_list_as_the_template_writes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EVENT_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:rocket-dev-events")
    monkeypatch.setenv("IDEMPOTENCY_BUCKET", "bucket")
    # The template joins the platform's jobs with an empty AdditionalJobNames: trailing comma.
    monkeypatch.setenv(
        "ALLOWED_JOBS", "rocket-dev-ingest-gate-canary, rocket-dev-etl-layers-reprocess,"
    )
    monkeypatch.setenv("CLAIM_TTL_SECONDS", "90")

    settings = Settings()  # type: ignore[call-arg]

    assert settings.allowed_jobs == {
        "rocket-dev-ingest-gate-canary",
        "rocket-dev-etl-layers-reprocess",
    }
    assert (settings.claim_ttl_seconds, settings.idempotency_prefix) == (90, "idempotency/")
    assert settings.queue_url is None


def test_settings_refuse_a_missing_topic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVENT_TOPIC_ARN", raising=False)
    monkeypatch.setenv("IDEMPOTENCY_BUCKET", "bucket")
    monkeypatch.setenv("ALLOWED_JOBS", "a")
    with pytest.raises(ValueError, match="event_topic_arn"):
        Settings()  # type: ignore[call-arg]


def test_cli_arguments_become_a_valid_request() -> None:
    request = build_request(
        job="rocket-dev-ingest-gate-canary",
        pairs=["dataset=sales", "--prefix=sales/2026/11/", "empty="],
        transaction_id="tx-1",
        requested_by="cli/ana",
        now=NOW,
    )

    assert request.arguments == {"dataset": "sales", "prefix": "sales/2026/11/", "empty": ""}
    assert (request.transaction_id, request.job_name) == ("tx-1", "rocket-dev-ingest-gate-canary")


@pytest.mark.parametrize("pair", ["novalue", "=x"])
def test_cli_refuses_malformed_pairs(pair: str) -> None:
    with pytest.raises(UsageError):
        parse_pairs([pair])


def test_cli_refuses_a_request_the_contract_refuses(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        [
            "request",
            "--job",
            "job",
            "--arg",
            "transaction_id=mine",
            "--transaction-id",
            "tx-1",
            "--topic-arn",
            "arn:aws:sns:us-east-1:123456789012:events",
        ]
    )

    assert status == 2
    assert "transaction_id" in capsys.readouterr().err
