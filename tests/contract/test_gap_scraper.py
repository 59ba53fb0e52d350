"""gap-scraper's producer and consumer contracts.

Producer: every message it sends (download requests from the orchestrator, series.updated
from the worker on every path: values, no-data markers, quarantined rows, nothing written)
validates against its schema and parses back as its model. Consumer: every example of the
type its worker consumes parses in the worker's handler and reaches the worker.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from gap_scraper.adapters.bus import SOURCE, BusPublisher
from gap_scraper.adapters.queues import SqsRequestQueue
from gap_scraper.catalogue import load_catalogue
from gap_scraper.consumer import Consumer
from gap_scraper.domain import SeriesItem, SgsRow
from gap_scraper.handlers.worker import handler
from gap_scraper.orchestrator import Orchestrator
from gap_scraper.ports import PresentDates, WriteReport
from gap_scraper.worker import Worker
from rocket_contracts import registry
from rocket_contracts.bus import parse_message, to_json, wrap
from rocket_contracts.testing import CapturingSns, sqs_record
from rocket_contracts.validation import errors as schema_errors

REPO_ROOT = Path(__file__).resolve().parents[2]
MANIFEST = yaml.safe_load((REPO_ROOT / "services" / "gap-scraper" / "messages.yaml").read_text())
REQUESTED = "gapscraper.download.requested.v1"
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


class CapturingSqs:
    def __init__(self) -> None:
        self.bodies: list[str] = []

    def send_message_batch(self, QueueUrl: str, Entries: Sequence[Any]) -> Mapping[str, Any]:  # noqa: N803
        self.bodies.extend(e["MessageBody"] for e in Entries)
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


class EmptyTable:
    def __init__(self) -> None:
        self.written: list[SeriesItem] = []

    def present_dates(self, info_type: str, since: date) -> PresentDates:
        return PresentDates(frozenset(), 1)

    def write(self, items: Sequence[SeriesItem]) -> WriteReport:
        self.written.extend(items)
        return WriteReport(len(items), 1, 0)


class Source:
    def fetch(self, code: int, start: date, end: date) -> list[SgsRow]:
        rows = [SgsRow("10/11/2026", "5.3012"), SgsRow("11/11/2026", "5,30")]
        return [
            r for r in rows if start <= datetime.strptime(str(r.data), "%d/%m/%Y").date() <= end
        ]


class NoQuarantine:
    def quarantine(self, body: str, *, reason: str, detail: str) -> None:
        raise AssertionError(f"quarantined {reason}: {detail}")


class Context:
    function_name = "rocket-contract-gap-scraper-worker"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:contract"
    memory_limit_in_mb = 512
    aws_request_id = "contract"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def sent_requests() -> list[str]:
    sqs = CapturingSqs()
    Orchestrator(
        load_catalogue(),
        EmptyTable(),
        SqsRequestQueue("https://sqs.example/q", client=sqs),  # type: ignore[arg-type]
        earliest=date(2026, 1, 1),
    ).run(run_id="contract-run", now=NOW)
    return sqs.bodies


def published(requests: list[dict[str, Any]]) -> list[str]:
    sns = CapturingSns()
    worker = Worker(
        load_catalogue(),
        Source(),
        EmptyTable(),
        BusPublisher("arn:aws:sns:us-east-1:123456789012:t", client=sns),  # type: ignore[arg-type]
        clock=lambda: NOW,
    )
    records = [sqs_record(json.dumps(r), message_attributes={"type": REQUESTED}) for r in requests]
    response = handler({"Records": records}, Context(), consumer=Consumer(worker, NoQuarantine()))
    assert response == {"batchItemFailures": []}
    return [message for message, _ in sns.messages]


def request_envelope(
    start: str, end: str, key: str = "CURRENCY#USD", code: int = 1
) -> dict[str, Any]:
    example = dict(registry.schema_for(REQUESTED)["examples"][0])
    example.update(series_key=key, sgs_code=code, start_date=start, end_date=end, missing_days=1)
    model = registry.model_for(REQUESTED).model_validate(example)
    envelope: dict[str, Any] = json.loads(
        to_json(wrap(model, correlation_id="contract", source=SOURCE))
    )
    return envelope


def test_the_manifest_lists_what_the_worker_publishes() -> None:
    assert MANIFEST == {"consumes": {}, "produces": ["gapscraper.series.updated.v1"]}


def test_every_download_request_the_orchestrator_sends_validates() -> None:
    bodies = sent_requests()
    assert len(bodies) == len(load_catalogue().series)
    for body in bodies:
        parsed = parse_message(body, type_attribute=REQUESTED)
        assert parsed.event_type == REQUESTED
        assert parsed.correlation_id == "contract-run"


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-11-10", "2026-11-10"),  # a value
        ("2026-11-11", "2026-11-11"),  # a quarantined row
        ("2026-11-02", "2026-11-06"),  # a no-data marker (old enough) and a holiday
        ("2026-11-20", "2026-11-20"),  # a young day without value: nothing written
    ],
)
def test_every_series_updated_the_worker_publishes_validates(start: str, end: str) -> None:
    for message in published([request_envelope(start, end)]):
        envelope = json.loads(message)
        assert schema_errors(registry.schema_for(envelope["type"]), envelope["data"]) == []
        parsed = parse_message(message, type_attribute=envelope["type"])
        assert parsed.event_type in MANIFEST["produces"]
        registry.model_for(parsed.event_type).model_validate(parsed.data)


def test_every_example_of_the_consumed_type_parses_in_the_worker() -> None:
    examples = registry.schema_for(REQUESTED)["examples"]
    envelopes = [
        json.loads(
            to_json(
                wrap(
                    registry.model_for(REQUESTED).model_validate(e),
                    correlation_id="c",
                    source=SOURCE,
                )
            )
        )
        for e in examples
    ]
    messages = published(envelopes)
    assert [json.loads(m)["data"]["series_key"] for m in messages] == [
        e["series_key"] for e in examples
    ]
