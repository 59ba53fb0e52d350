"""`rocket up` as a user runs it: in its own process, reachable by `rocket trigger` and
`rocket events`, gone (state file included) after SIGTERM."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from rocket_contracts import bus, registry
from rocket_infra import aws, control, deploy
from rocket_infra.emulator import die_with_parent

# Only a guard against a hung child process: no step is expected to take anywhere near this.
_HANG_GUARD = 300.0


def _rocket(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rocket_infra.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=_HANG_GUARD,
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


class _Output:
    """A child's merged stdout/stderr, read on a thread as it comes (so the child never blocks
    on a full pipe), kept for failure messages; `wait_for` blocks until a line contains a text."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def wait_for(self, text: str) -> str:
        def found() -> str | None:
            return next((line for line in self.lines if text in line), None)

        with self._changed:
            arrived = self._changed.wait_for(lambda: found() or self._closed, _HANG_GUARD)
            line = found()
        assert line is not None, f"no {text!r} (output ended: {arrived}):\n{self.text()}"
        return line

    def text(self, *, complete: bool = False) -> str:
        """What was read so far; with `complete`, all of it up to the end of the stream (once
        the process has exited)."""
        if complete:
            self._thread.join(_HANG_GUARD)
        with self._changed:
            return "".join(self.lines)


def _spawn(*args: str, env: dict[str, str], own_group: bool = False) -> subprocess.Popen[str]:
    """`own_group`: the child leads a process group of its own, as a shell starts a command."""
    return subprocess.Popen(
        [sys.executable, "-m", "rocket_infra.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        preexec_fn=die_with_parent,
        start_new_session=own_group,
    )


def _stopped(process: subprocess.Popen[str], output: _Output, timeout: float = 60.0) -> int:
    """The exit code of a `rocket up` told to stop; one still running after `timeout` (stopping
    takes seconds) fails the test with where each of its threads was."""
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGUSR1)  # faulthandler: every thread's stack to stderr
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)  # the time to write them
        process.kill()
        process.wait(timeout=_HANG_GUARD)
        pytest.fail(f"rocket up did not stop within {timeout} s:\n{output.text(complete=True)}")


def _errors(text: str) -> list[str]:
    """Lines of a log that report a failure."""
    return [
        line
        for line in text.splitlines()
        if "Traceback" in line or '"level": "ERROR"' in line or "poll failed" in line
    ]


def test_up_serves_trigger_and_events_until_stopped(probe_repo: Path) -> None:
    env = {**os.environ, "ROCKET_REPO_ROOT": str(probe_repo)}
    stage = "uptest"
    up = _spawn(
        "up", "--port", "0", "--stage", stage, "--parameter", "probe:RetentionDays=7", env=env
    )
    output = _Output(up)
    standin_url = ""
    try:
        # printed after the state file is written and the control queue exists
        output.wait_for("Ctrl-C to stop.")
        state = json.loads(control.state_path(probe_repo, stage).read_text())
        assert state["endpoint_url"].startswith("http://127.0.0.1:")
        assert state["pid"] == up.pid
        # the stand-in's URL and the command line's value reached the stack
        [standin] = [line.split() for line in output.lines if line.startswith("probe ")]
        assert standin[:3] == ["probe", "echo", "EchoBaseUrl"]
        cfn = aws.client("cloudformation", endpoint_url=state["endpoint_url"])
        stack = cfn.describe_stacks(StackName=f"rocket-{stage}-probe")["Stacks"][0]
        given = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
        standin_url = standin[3]
        assert (given["EchoBaseUrl"], given["RetentionDays"]) == (standin_url, "7")
        with urllib.request.urlopen(f"{standin_url}/up", timeout=5) as answer:
            assert json.loads(answer.read()) == {"path": "/up"}

        trigger = _rocket("trigger", "no-such-schedule", "--stage", stage, env=env)
        assert trigger.returncode == 1
        # the runtime's own answer, through the control queue (not a timeout of the command)
        assert "UnknownScheduleError: 'no-such-schedule'" in trigger.stdout, trigger

        # --follow prints the request's events as the running platform journals them
        follow = _spawn("events", "--stage", stage, "--correlation-id", "up-corr-2", "-f", env=env)
        followed = _Output(follow)
        try:
            _publish_example(state["endpoint_url"], f"rocket-{stage}-EventTopicArn", "up-corr-1")
            _publish_example(state["endpoint_url"], f"rocket-{stage}-EventTopicArn", "up-corr-2")
            assert followed.wait_for("up-corr-2").rstrip().endswith("up-corr-2")
        finally:
            follow.terminate()
            follow.wait(timeout=_HANG_GUARD)
        # the same journal read once, without --follow: the header, then only that request's
        # event
        events = _rocket("events", "--stage", stage, "--correlation-id", "up-corr-2", env=env)
        assert events.returncode == 0, events.stderr
        header, *lines = events.stdout.splitlines()
        assert header.split()[:2] == ["time", "type"]
        assert [line.split()[-1] for line in lines] == ["up-corr-2"]

        redeploy = _rocket(
            "deploy", "probe", "--stage", stage, "--endpoint-url", state["endpoint_url"], env=env
        )
        assert redeploy.returncode == 0, redeploy.stderr
        assert f"the running platform ({stage}) now runs the new probe" in redeploy.stdout
        stack = cfn.describe_stacks(StackName=f"rocket-{stage}-probe")["Stacks"][0]
        given = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
        assert given["EchoBaseUrl"] == standin_url  # still the stand-in this `up` runs
    finally:
        up.send_signal(signal.SIGTERM)
        code = _stopped(up, output)
    text = output.text(complete=True)
    assert code == 0, text
    assert "rocket-uptest-platform" in text  # the stacks table
    assert "rocket-uptest-probe-requests" in text  # the queues table
    assert re.search(r"rocket-uptest-probe-reprocess +glue job", text)  # the compute table
    assert re.search(r"rocket-uptest-probe-nightly +schedule", text)
    assert not control.state_path(probe_repo, stage).exists()
    with pytest.raises(urllib.error.URLError):  # the stand-in stopped with the platform
        urllib.request.urlopen(f"{standin_url}/up", timeout=5)
    assert (probe_repo / ".rocket" / f"{stage}-emulator.log").stat().st_size > 0
    assert _errors(text) == []


def test_ctrl_c_stops_up_without_an_error(probe_repo: Path) -> None:
    env = {**os.environ, "ROCKET_REPO_ROOT": str(probe_repo)}
    stage = "ctrlc"
    up = _spawn("up", "--port", "0", "--stage", stage, env=env, own_group=True)
    output = _Output(up)
    try:
        output.wait_for("Ctrl-C to stop.")
        # a warm worker process for the schedule's function, in the same foreground group
        fired = _rocket("trigger", f"rocket-{stage}-probe-nightly", "--stage", stage, env=env)
        assert fired.returncode == 0, fired
        output.wait_for('"message": "worker started"')
    finally:
        # what a terminal does on Ctrl-C: SIGINT to every process of the foreground group,
        # the emulator `up` started included
        os.killpg(up.pid, signal.SIGINT)
        code = _stopped(up, output)
    text = output.text(complete=True)
    assert code == 0, text
    assert "stopping" in text
    assert _errors(text) == []
    assert not control.state_path(probe_repo, stage).exists()
    emulator_log = (probe_repo / ".rocket" / f"{stage}-emulator.log").read_text()
    assert _errors(emulator_log) == [], emulator_log


def test_up_refuses_a_stage_that_is_already_up(
    probe_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from rocket_infra import cli

    control.write_state(
        probe_repo, control.State("busy", "http://127.0.0.1:1", os.getpid(), "us-east-1", "")
    )
    monkeypatch.setenv("ROCKET_REPO_ROOT", str(probe_repo))
    try:
        assert cli.main(["up", "--stage", "busy", "--port", "0"]) == 1
    finally:
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
