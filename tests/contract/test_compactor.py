"""compactor's producer and consumer contracts.

Producer: every message the service publishes, through the real bus publish, validates against
its schema and parses back as its model: compactor.domain.processed.v1 in each of its statuses
(COMPACTED with drift and quarantine, ALREADY_COMPACTED, NO_INPUT) and the daily schedule's
compactor.compaction.requested.v1. Consumer: every example of the type it consumes, and the
schedule's own request as it comes off the queue (raw delivery), parses in its handler and
starts executions.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from compactor.adapters.bus import SOURCE, SnsPublisher
from compactor.domains import DomainCatalog, default_domains_dir
from compactor.handlers import requests, schedule
from compactor.requests import Requests
from rocket_contracts import registry
from rocket_contracts.bus import parse_message
from rocket_contracts.models.compactor.compaction_requested_v1 import (
    CompactorCompactionRequestedV1,
)
from rocket_contracts.models.compactor.domain_processed_v1 import CompactorDomainProcessedV1
from rocket_contracts.testing import CapturingSns, sqs_record, sqs_record_for
from rocket_contracts.validation import errors as schema_errors
from rocket_infra.runtime.worker import LambdaContext

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICE = REPO_ROOT / "services" / "compactor"
sys.path.insert(0, str(SERVICE / "tests"))

from compactor_fakes import (  # type: ignore[import-not-found]  # noqa: E402
    LANDING,
    Harness,
    job,
    landing_key,
    ndjson,
    record,
)

MANIFEST = yaml.safe_load((SERVICE / "messages.yaml").read_text())
REQUESTED = "compactor.compaction.requested.v1"
PROCESSED = "compactor.domain.processed.v1"
MODELS = {REQUESTED: CompactorCompactionRequestedV1, PROCESSED: CompactorDomainProcessedV1}


def context() -> LambdaContext:
    return LambdaContext(
        {
            "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:rocket-contract",
            "request_id": "contract",
            "deadline_ms": int(time.time() * 1000) + 60_000,
        }
    )


class FakeExecutions:
    def __init__(self) -> None:
        self.started: dict[str, dict[str, Any]] = {}

    def start(self, name: str, payload: dict[str, Any]) -> bool:
        fresh = name not in self.started
        self.started.setdefault(name, payload)
        return fresh


def _publisher(sns: CapturingSns) -> SnsPublisher:
    return SnsPublisher("arn:aws:sns:us-east-1:123456789012:events", client=sns)  # type: ignore[arg-type]


@pytest.fixture
def published(tmp_path: Path) -> list[tuple[str, Mapping[str, Any]]]:
    """What the service publishes: a day compacted (drift, a broken line, a declared field
    missing), the same day asked again, an empty day, and the schedule's request."""
    sns = CapturingSns()
    harness = Harness(tmp_path)
    harness.compactor.publisher = _publisher(sns)
    harness.store.put(
        LANDING,
        landing_key(0, 0),
        ndjson(record(1), record(2, amount=2.5, coupon={"code": "C1"}), "{broken", {"x": 1}),
    )
    for execution, domain in (("exec-1", "orders"), ("exec-2", "orders"), ("exec-3", "clicks")):
        _, done = harness.run(job(execution, domain=domain))
        assert done is not None
    event = json.loads(
        (SERVICE / "tests" / "events" / "scheduled-event.json").read_text(encoding="utf-8")
    )
    schedule.handler(event, context(), bus=_publisher(sns))
    return sns.messages


def test_manifest_lists_what_the_service_produces_and_consumes() -> None:
    assert sorted(MANIFEST["produces"]) == sorted(MODELS)
    assert MANIFEST["consumes"] == {REQUESTED: "compactor.handlers.requests"}
    assert set(MODELS) <= set(registry.event_types())


def test_every_published_message_validates_and_parses(
    published: list[tuple[str, Mapping[str, Any]]],
) -> None:
    statuses: list[str] = []
    types: list[str] = []
    for message, attributes in published:
        event_type = attributes["type"]["StringValue"]
        types.append(event_type)
        envelope = json.loads(message)
        assert envelope["source"] == SOURCE
        assert schema_errors(registry.schema_for(event_type), envelope["data"]) == []
        parsed = parse_message(message, type_attribute=event_type)
        assert isinstance(parsed.data, MODELS[event_type])
        if isinstance(parsed.data, CompactorDomainProcessedV1):
            statuses.append(str(parsed.data.status))
    assert types == [PROCESSED, PROCESSED, PROCESSED, REQUESTED]
    assert statuses == ["COMPACTED", "ALREADY_COMPACTED", "NO_INPUT"]
    compacted = json.loads(published[0][0])["data"]
    assert compacted["quarantine"]["records"] == 2
    assert {"name": "coupon", "type": "struct<code:string>"} in compacted["columns"]


@pytest.mark.parametrize("index", range(len(registry.schema_for(REQUESTED)["examples"])))
def test_every_example_of_the_consumed_type_parses_in_the_handler(index: int) -> None:
    example = registry.schema_for(REQUESTED)["examples"][index]
    domains = DomainCatalog.load(default_domains_dir())
    if "domains" in example:  # an example may name domains this deployment does not declare
        example = {**example, "domains": ["orders"]}
    executions = FakeExecutions()
    starter = Requests(domains, executions)
    event = {"Records": [sqs_record_for(CompactorCompactionRequestedV1.model_validate(example))]}
    assert requests.handler(event, context(), starter=starter) == {"batchItemFailures": []}
    assert executions.started


def test_the_schedules_request_off_the_queue_starts_every_domain(
    published: list[tuple[str, Mapping[str, Any]]],
) -> None:
    message, attributes = published[-1]
    record_ = sqs_record(message, message_attributes={"type": attributes["type"]["StringValue"]})
    executions = FakeExecutions()
    starter = Requests(DomainCatalog.load(default_domains_dir()), executions)
    assert requests.handler({"Records": [record_]}, context(), starter=starter) == {
        "batchItemFailures": []
    }
    assert sorted(p["job"]["domain"] for p in executions.started.values()) == ["clicks", "orders"]
