"""The local platform across a redeploy and a stop, as `rocket up` runs it."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rocket_infra.local import LocalPlatform

STAGE = "lptest"


@pytest.fixture(scope="module")
def platform(probe_repo: Path) -> Iterator[LocalPlatform]:
    with pytest.MonkeyPatch.context() as patch:
        # The probe service is not installed in the environment the workers run in.
        patch.setenv("PYTHONPATH", str(probe_repo / "services" / "probe" / "src"))
        with LocalPlatform.start(
            stage=STAGE, services=["probe"], repo_root=probe_repo, out=io.StringIO()
        ) as started:
            yield started


def _execute(platform: LocalPlatform, marker: str) -> dict[str, Any]:
    sfn = platform.client("stepfunctions")
    arn = platform.physical_id("probe", "Workflow")
    execution = sfn.start_execution(
        stateMachineArn=arn, name=marker, input=json.dumps({"marker": marker})
    )
    deadline = time.monotonic() + 60
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.1)


def _handler_calls(platform: LocalPlatform) -> int:
    return sum(
        1
        for call in platform.runtime.invocations()
        if call.source.startswith("stepfunctions:") and call.function == f"rocket-{STAGE}-probe"
    )


def test_a_state_machine_still_runs_its_handler_after_an_unchanged_redeploy(
    platform: LocalPlatform,
) -> None:
    calls = _handler_calls(platform)
    first = _execute(platform, "before")
    assert first["status"] == "SUCCEEDED", first
    assert json.loads(first["output"]) == {"marker": "before"}
    assert _handler_calls(platform) == calls + 1

    platform.deploy("probe")  # the same template again, as `rocket deploy probe` while up

    second = _execute(platform, "after")
    assert second["status"] == "SUCCEEDED", second
    assert json.loads(second["output"]) == {"marker": "after"}
    assert _handler_calls(platform) == calls + 2
