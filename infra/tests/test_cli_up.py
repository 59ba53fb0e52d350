"""`rocket up` as a user runs it: in its own process, reachable by `rocket trigger` and
`rocket events`, gone (state file included) after SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rocket_contracts import bus, registry
from rocket_infra import aws, control, deploy
from rocket_infra.emulator import die_with_parent


def _rocket(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rocket_infra.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def _publish_example(endpoint_url: str, export: str, correlation_id: str) -> None:
    event_type = "ingest.job.requested.v1"
    model = registry.model_for(event_type).model_validate(
        registry.schema_for(event_type)["examples"][0]
    )
    cfn = aws.client("cloudformation", endpoint_url=endpoint_url)
    bus.publish(
        deploy.exports(cfn)[export],
        model,
        correlation_id=correlation_id,
        sns_client=aws.client("sns", endpoint_url=endpoint_url),
        source="rocket/demo",
    )


def test_up_serves_trigger_and_events_until_stopped(probe_repo: Path, tmp_path: Path) -> None:
    env = {**os.environ, "ROCKET_REPO_ROOT": str(probe_repo)}
    stage = "uptest"
    log = (tmp_path / "up.log").open("w")
    up = subprocess.Popen(
        [sys.executable, "-m", "rocket_infra.cli", "up", "--port", "0", "--stage", stage],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        preexec_fn=die_with_parent,
    )
    try:
        deadline = time.monotonic() + 90
        while control.read_state(probe_repo, stage) is None:
            assert up.poll() is None, (tmp_path / "up.log").read_text()
            assert time.monotonic() < deadline, "rocket up did not come up"
            time.sleep(0.2)
        state = json.loads(control.state_path(probe_repo, stage).read_text())
        assert state["endpoint_url"].startswith("http://127.0.0.1:")
        assert state["pid"] == up.pid

        trigger = _rocket("trigger", "no-such-schedule", "--stage", stage, env=env)
        assert trigger.returncode == 1
        assert (
            "no-such-schedule" in trigger.stdout
        )  # the runtime's own answer, via the control queue

        _publish_example(state["endpoint_url"], f"rocket-{stage}-EventTopicArn", "up-corr-1")
        _publish_example(state["endpoint_url"], f"rocket-{stage}-EventTopicArn", "up-corr-2")
        deadline = time.monotonic() + 20
        lines: list[str] = []
        while len(lines) < 1 and time.monotonic() < deadline:
            events = _rocket("events", "--stage", stage, "--correlation-id", "up-corr-2", env=env)
            assert events.returncode == 0, events.stderr
            lines = events.stdout.splitlines()
        assert len(lines) == 1  # from the journal the running platform keeps of the bus
        assert lines[0].endswith("up-corr-2")

        redeploy = _rocket(
            "deploy", "probe", "--stage", stage, "--endpoint-url", state["endpoint_url"], env=env
        )
        assert redeploy.returncode == 0, redeploy.stderr
        assert f"the running platform ({stage}) now runs the new probe" in redeploy.stdout
    finally:
        up.send_signal(signal.SIGTERM)
        code = up.wait(timeout=30)
        log.close()
    assert code == 0, (tmp_path / "up.log").read_text()
    output = (tmp_path / "up.log").read_text()
    assert "rocket-uptest-platform" in output  # the stacks table
    assert "rocket-uptest-probe-requests" in output  # the queues table
    assert re.search(r"rocket-uptest-probe-reprocess +glue job", output)  # the compute table
    assert re.search(r"rocket-uptest-probe-nightly +schedule", output)
    assert not control.state_path(probe_repo, stage).exists()
    assert (probe_repo / ".rocket" / f"{stage}-emulator.log").stat().st_size > 0


def test_up_refuses_a_stage_that_is_already_up(
    probe_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rocket_infra import cli

    control.write_state(
        probe_repo, control.State("busy", "http://127.0.0.1:1", os.getpid(), "us-east-1", "")
    )
    try:
        os.environ["ROCKET_REPO_ROOT"] = str(probe_repo)
        assert cli.main(["up", "--stage", "busy", "--port", "0"]) == 1
    finally:
        os.environ.pop("ROCKET_REPO_ROOT", None)
        control.state_path(probe_repo, "busy").unlink()
    assert "already up" in capsys.readouterr().out


def test_up_on_a_port_in_use_fails_with_a_message(
    probe_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from rocket_infra import cli

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("ROCKET_REPO_ROOT", str(probe_repo))
        assert cli.main(["up", "--stage", "porttest", "--port", str(port)]) == 1
    assert "already in use" in capsys.readouterr().err
