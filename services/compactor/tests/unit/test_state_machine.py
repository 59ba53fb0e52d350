"""The workflow as the template deploys it: every Task retries transient errors only and
catches the rest, the Map is bounded, and every failure path releases the day's lock."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode
from compactor import ports

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
# Errors a retry cannot cure: they fail the execution at once (through Release).
PERMANENT = {
    "CountMismatchError",
    "FieldLostError",
    "LockLostError",
    "SchemaConflictError",
    "ObjectChangedError",
    "IncompleteRangesError",
    "UnknownDomainError",
    "ValidationError",
}

State = dict[str, Any]


def definition() -> dict[str, Any]:
    body, problems = decode(str(TEMPLATE))
    assert not problems
    assert body is not None
    machine = body["Resources"]["CompactionStateMachine"]["Properties"]
    text = machine["DefinitionString"]["Fn::Sub"]
    # Placeholders as CloudFormation fills them: function ARNs and numeric parameters.
    filled = re.sub(r"\$\{(\w+)\.Arn\}", r"arn:aws:lambda:us-east-1:000000000000:function:\1", text)
    filled = re.sub(r"\$\{(\w+)\}", "7", filled)
    return dict(json.loads(filled))


def states(machine: dict[str, Any]) -> dict[str, State]:
    found: dict[str, State] = {}
    for name, state in machine["States"].items():
        found[name] = state
        if state["Type"] == "Map":
            found.update(states(state["ItemProcessor"]))
    return found


def test_every_task_retries_and_catches() -> None:
    for name, state in states(definition()).items():
        if state["Type"] != "Task":
            continue
        assert state.get("Retry"), name
        assert state.get("Catch"), name
        retried = {e for r in state["Retry"] for e in r["ErrorEquals"]}
        assert not retried & PERMANENT, name
        assert "States.ALL" not in retried, name
        assert {"StorageError", "CatalogError", "PublishError"} <= retried, name


def test_the_retried_error_names_are_the_services_own_exceptions() -> None:
    retried = {e for r in definition()["States"]["Plan"]["Retry"] for e in r["ErrorEquals"]}
    own = {e for e in retried if not e.startswith(("Lambda.", "Sandbox.", "Runtime."))}
    for name in own:
        assert issubclass(getattr(ports, name), ports.CompactorError)


def test_the_map_runs_ranges_with_bounded_concurrency() -> None:
    compact = definition()["States"]["CompactRanges"]
    assert compact["Type"] == "Map"
    assert compact["MaxConcurrency"] == 7  # the MapMaxConcurrency parameter
    assert compact["ItemsPath"] == "$.planned.ranges"
    assert compact["ResultPath"] is None  # range results stay in S3, not in the payload


def test_a_day_of_many_ranges_runs_them_as_a_distributed_map_read_from_the_plan() -> None:
    inline = definition()["States"]["CompactRanges"]
    distributed = definition()["States"]["CompactRangesDistributed"]
    assert distributed["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    reader = distributed["ItemReader"]
    assert reader["Resource"] == "arn:aws:states:::s3:getObject"
    assert reader["ReaderConfig"] == {"InputType": "JSON"}
    assert reader["Parameters"]["Key.$"] == "$.planned.ranges_key"  # not in the payload
    assert distributed["MaxConcurrency"] == 7
    # No tolerated failures (the default): one failed range fails the day.
    assert "ToleratedFailurePercentage" not in distributed
    assert "ToleratedFailureCount" not in distributed
    assert distributed["ResultPath"] is None
    # The same range step, with the same retries and the same Fail on a lost range.
    assert distributed["ItemSelector"] == inline["ItemSelector"]
    assert distributed["ItemProcessor"]["States"] == inline["ItemProcessor"]["States"]
    assert distributed["Next"] == inline["Next"] == "Finalize"


def test_the_plan_says_which_map_runs_its_ranges() -> None:
    route = definition()["States"]["Route"]
    (distributed,) = [c for c in route["Choices"] if c["Next"] == "CompactRangesDistributed"]
    assert distributed["And"] == [
        {"Variable": "$.planned.outcome", "StringEquals": "planned"},
        {"Variable": "$.planned.distributed", "BooleanEquals": True},
    ]
    # Choices are tried in order: a planned day reaches the inline Map only when not distributed.
    (inline,) = [c for c in route["Choices"] if c["Next"] == "CompactRanges"]
    assert route["Choices"].index(distributed) < route["Choices"].index(inline)


@pytest.mark.parametrize("name", ["Plan", "CompactRanges", "CompactRangesDistributed", "Finalize"])
def test_every_failure_goes_through_release(name: str) -> None:
    machine = definition()
    (catch,) = machine["States"][name]["Catch"]
    assert catch["ErrorEquals"] == ["States.ALL"]
    assert catch["Next"] == "Release"
    assert machine["States"]["Release"]["Next"] == "Failed"


def test_a_busy_day_ends_the_execution_cleanly() -> None:
    machine = definition()
    choices = {
        c["StringEquals"]: c["Next"]
        for c in machine["States"]["Route"]["Choices"]
        if "And" not in c
    }
    assert machine["States"][choices["busy"]]["Type"] == "Succeed"
    assert choices["planned"] == "CompactRanges"
    assert machine["States"]["Route"]["Default"] == "Finalize"
