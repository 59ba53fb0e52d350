"""The handlers as Lambda calls them: requests from the queue (every example of the contract
parses; a bad record fails alone), the schedule's request, and each workflow step with the
payload the state machine sends."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from compactor.domains import DomainCatalog, default_domains_dir
from compactor.handlers import compact, finalize, plan, release, requests, schedule
from compactor.requests import Requests, execution_name
from compactor_fakes import LAKE, LANDING, Harness, job, landing_key, ndjson, record
from pydantic import BaseModel
from rocket_contracts import registry
from rocket_contracts.models.compactor.compaction_requested_v1 import (
    CompactorCompactionRequestedV1,
)
from rocket_contracts.testing import RecordingDeadLetters, sqs_record, sqs_record_for

EVENTS = Path(__file__).parent.parent / "events"
REQUESTED = "compactor.compaction.requested.v1"


@dataclass
class FakeLambdaContext:
    function_name: str = "rocket-test-compactor"
    function_version: str = "$LATEST"
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:rocket-test-compactor"
    )
    memory_limit_in_mb: int = 256
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"
    log_group_name: str = "/aws/lambda/rocket-test-compactor"
    log_stream_name: str = "2026/11/22/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class FakeExecutions:
    def __init__(self) -> None:
        self.started: dict[str, dict[str, Any]] = {}

    def start(self, name: str, payload: dict[str, Any]) -> bool:
        if name in self.started:
            return False
        self.started[name] = payload
        return True


class FakeBus:
    def __init__(self) -> None:
        self.published: list[tuple[BaseModel, str, str]] = []

    def publish(self, event: BaseModel, *, correlation_id: str, subject: str) -> None:
        self.published.append((event, correlation_id, subject))


def starter() -> tuple[Requests, FakeExecutions]:
    executions = FakeExecutions()
    return Requests(DomainCatalog.load(default_domains_dir()), executions), executions


def request(**fields: Any) -> CompactorCompactionRequestedV1:
    body = {
        "request_id": "r-1",
        "date": "2026-11-21",
        "requested_by": "test",
        "requested_at": "2026-11-22T00:00:00Z",
        **fields,
    }
    return CompactorCompactionRequestedV1.model_validate(body)


@pytest.mark.parametrize("index", range(len(registry.schema_for(REQUESTED)["examples"])))
def test_every_example_of_the_contract_starts_executions(index: int) -> None:
    example = registry.schema_for(REQUESTED)["examples"][index]
    if "domains" in example:  # the example names domains of its own
        example = {**example, "domains": ["orders"]}
    active, executions = starter()
    event = {"Records": [sqs_record_for(CompactorCompactionRequestedV1.model_validate(example))]}
    response = requests.handler(event, FakeLambdaContext(), starter=active)
    assert response == {"batchItemFailures": []}
    assert executions.started


def test_a_request_without_domains_starts_one_execution_per_declared_domain() -> None:
    active, executions = starter()
    event = {"Records": [sqs_record_for(request(), correlation_id="corr-9")]}
    requests.handler(event, FakeLambdaContext(), starter=active)
    jobs = [p["job"] for p in executions.started.values()]
    assert sorted(j["domain"] for j in jobs) == ["clicks", "orders"]
    assert {j["correlation_id"] for j in jobs} == {"corr-9"}
    assert all(j["execution"] == execution_name("r-1", j["domain"], "2026-11-21") for j in jobs)


def test_a_redelivered_request_starts_nothing_new() -> None:
    active, executions = starter()
    record_ = sqs_record_for(request(domains=["orders"]))
    for _ in range(2):
        response = requests.handler({"Records": [record_]}, FakeLambdaContext(), starter=active)
        assert response == {"batchItemFailures": []}
    assert len(executions.started) == 1


def test_bad_records_fail_alone() -> None:
    active, executions = starter()
    good = sqs_record_for(request(domains=["orders"]))
    unknown = sqs_record_for(request(request_id="r-2", domains=["payments"]))
    broken = sqs_record('{"not": "a cloudevent"}', message_id="broken")
    event = {"Records": [good, unknown, broken]}
    response = requests.handler(event, FakeLambdaContext(), starter=active)
    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    assert failed == {unknown["messageId"], "broken"}
    assert [p["job"]["domain"] for p in executions.started.values()] == ["orders"]


def test_bad_records_go_to_the_dlq_at_once_with_their_reason() -> None:
    active, executions = starter()
    good = sqs_record_for(request(domains=["orders"]))
    unknown = sqs_record_for(request(request_id="r-2", domains=["payments"]))
    broken = sqs_record('{"not": "a cloudevent"}', message_id="broken")
    dead_letters = RecordingDeadLetters()
    event = {"Records": [good, unknown, broken]}

    response = requests.handler(
        event, FakeLambdaContext(), starter=active, dead_letters=dead_letters
    )

    assert response == {"batchItemFailures": []}
    sent = {
        message_id: (body, reason, detail) for body, reason, detail, message_id in dead_letters.sent
    }
    assert sent[unknown["messageId"]] == (
        unknown["body"],
        "unknown_domain",
        "no domain declared as payments",
    )
    assert sent["broken"][:2] == ('{"not": "a cloudevent"}', "contract_violation")
    assert [p["job"]["domain"] for p in executions.started.values()] == ["orders"]


def test_a_bad_record_whose_dlq_send_fails_fails_alone() -> None:
    active, _ = starter()
    broken = sqs_record('{"not": "a cloudevent"}', message_id="broken")
    dead_letters = RecordingDeadLetters(fail_with=ConnectionError("sqs down"))
    response = requests.handler(
        {"Records": [broken]}, FakeLambdaContext(), starter=active, dead_letters=dead_letters
    )
    assert response == {"batchItemFailures": [{"itemIdentifier": "broken"}]}


def test_the_schedule_asks_for_the_previous_utc_day() -> None:
    event = json.loads((EVENTS / "scheduled-event.json").read_text())
    bus = FakeBus()
    answer = schedule.handler(event, FakeLambdaContext(), bus=bus)
    assert answer == {"request_id": "compactor-daily:2026-11-21", "date": "2026-11-21"}
    (published, correlation, subject) = bus.published[0]
    assert isinstance(published, CompactorCompactionRequestedV1)
    assert published.domains is None
    assert (correlation, subject) == ("compactor-daily:2026-11-21", "2026-11-21")


def test_the_steps_with_the_payloads_the_state_machine_sends(harness: Harness) -> None:
    harness.store.put(LANDING, landing_key(0, 1), ndjson(record(1), record(2)))
    the_job = job().model_dump(mode="json")
    app = harness.compactor
    context = FakeLambdaContext()
    planned = plan.handler({"job": the_job}, context, app=app)
    assert planned["outcome"] == "planned"
    for index in planned["ranges"]:  # the Map's ItemSelector
        item = {"job": the_job, "manifest_key": planned["manifest_key"], "index": index}
        done = compact.handler(item, context, app=app)
        assert done == {"index": index, "rows": 2, "rejected": 0}
    state = {"job": the_job, "planned": planned}
    finalized = finalize.handler(state, context, app=app)
    assert finalized == {"status": "COMPACTED", "files": 1, "records": 2, "rejected": 0}
    assert harness.store.keys(LAKE, "_locks/") == []


def test_release_gives_a_failed_executions_lock_back(harness: Harness) -> None:
    the_job = job()
    harness.store.put(LANDING, landing_key(0, 1), ndjson(record(1)))
    harness.compactor.plan(the_job)
    assert harness.store.keys(LAKE, "_locks/")
    error = {"Error": "CountMismatchError", "Cause": "{}"}
    payload = {"job": the_job.model_dump(mode="json"), "error": error}
    answer = release.handler(payload, FakeLambdaContext(), app=harness.compactor)
    assert answer == {"released": True}
    assert harness.store.keys(LAKE, "_locks/") == []
