"""`rocket demo`: scenarios run against one local platform; the exit status says if any failed."""

from __future__ import annotations

import io
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from rocket_contracts import registry
from rocket_infra.demo import runner
from rocket_infra.demo.report import ScenarioReport
from rocket_infra.local import LocalPlatform


@pytest.fixture(scope="module")
def local_platform(probe_repo: Path) -> Iterator[LocalPlatform]:
    """The platform stack only (no services): what every scenario runs on, started once."""
    with LocalPlatform.start(services=[], repo_root=probe_repo, out=io.StringIO()) as platform:
        yield platform


def _demo(platform: LocalPlatform, scenarios: list[runner.Scenario]) -> tuple[int, str]:
    out = io.StringIO()
    code = runner.run_demo(
        scenarios, platform_factory=lambda: runner.existing(platform), out=out, idle_timeout=10
    )
    return code, out.getvalue()


def _passing(platform: LocalPlatform) -> ScenarioReport:
    event_type = "ingest.job.requested.v1"
    example = registry.schema_for(event_type)["examples"][0]
    platform.publish(
        registry.model_for(event_type).model_validate(example), correlation_id="demo-pass-1"
    )
    return ScenarioReport("passing", came_in={event_type: 1}, went_out={"nothing": 0})


def _failing(_platform: LocalPlatform) -> ScenarioReport:
    report = ScenarioReport("failing", came_in={"x.y.z.v1": 2})
    report.expect(False, "expected 2 rows written, saw 0")
    return report


def _raising(_platform: LocalPlatform) -> ScenarioReport:
    raise RuntimeError("boom")


def test_zero_scenarios_exit_zero(local_platform: LocalPlatform) -> None:
    code, out = _demo(local_platform, [])
    assert code == 0
    assert "0 scenarios, 0 failed" in out


def test_passing_scenario_prints_its_table_and_the_bus(local_platform: LocalPlatform) -> None:
    code, out = _demo(local_platform, [runner.Scenario("passing", _passing)])
    assert code == 0
    assert "== passing: OK" in out
    assert "came in   ingest.job.requested.v1  1" in out
    assert "demo-pass-1" in out  # the event, as the bus tap saw it
    assert any(e.correlationid == "demo-pass-1" for e in local_platform.bus_events())


def test_a_failing_scenario_fails_the_demo_and_the_others_still_run(
    local_platform: LocalPlatform,
) -> None:
    code, out = _demo(
        local_platform,
        [
            runner.Scenario("raising", _raising),
            runner.Scenario("failing", _failing),
            runner.Scenario("passing", _passing),
        ],
    )
    assert code == 1
    assert "scenario raised RuntimeError: boom" in out
    assert "x expected 2 rows written, saw 0" in out
    assert "== passing: OK" in out
    assert "3 scenarios, 2 failed: raising, failing" in out


def test_platform_outputs_and_physical_ids(local_platform: LocalPlatform) -> None:
    outputs = local_platform.outputs("platform")
    assert outputs["EventTopicArn"] == local_platform.physical_id("platform", "EventTopic")
    assert local_platform.endpoint_url.startswith("http://127.0.0.1:")


def test_discover_finds_run_functions_and_accepts_an_empty_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "demo_pkg_for_test"
    package.mkdir()
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert runner.discover("demo_pkg_for_test") == []
    (package / "b_service.py").write_text(
        textwrap.dedent(
            """
            def run(platform):
                return None
            """
        )
    )
    (package / "a_helper.py").write_text("VALUE = 1\n")
    (package / "c_broken.py").write_text("raise RuntimeError('half-written scenario')\n")
    sys.modules.pop("demo_pkg_for_test", None)
    found = runner.discover("demo_pkg_for_test")
    assert [s.name for s in found] == ["b_service", "c_broken"]
    with pytest.raises(ImportError, match="half-written scenario"):
        found[1].run(None)  # type: ignore[arg-type]
    for scenario in runner.discover():
        assert callable(scenario.run)


def _noisy_with_poison(platform: LocalPlatform) -> ScenarioReport:
    import os
    import subprocess

    # What handler processes and the runtime do: log lines on file descriptor 2.
    os.write(2, b'{"level":"INFO","message":"record handled"}\n')
    subprocess.run(
        [sys.executable, "-c", "import sys; sys.stderr.write('child warning\\n')"], check=True
    )
    platform.client("sns").publish(TopicArn=platform.topic_arn, Message="poison-demo-1")
    report = ScenarioReport("noisy", came_in={"poison": 1})
    report.sent_on_purpose("1 message that is not JSON", "nowhere: no consumer subscribed")
    return report


def test_logs_go_to_the_log_file_and_poison_is_announced(
    local_platform: LocalPlatform, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / ".rocket" / "local-demo.log"
    out = io.StringIO()

    code = runner.run_demo(
        [runner.Scenario("noisy", _noisy_with_poison)],
        platform_factory=lambda: runner.existing(local_platform),
        out=out,
        idle_timeout=10,
        log=log,
    )

    printed = out.getvalue()
    assert code == 0
    assert capfd.readouterr().err == ""  # nothing reached the terminal's stderr
    assert "record handled" in log.read_text()
    assert "child warning" in log.read_text()
    assert f"handler and runtime logs: {log}" in printed
    assert "sent on purpose; expected to be refused" in printed
    [announced] = [line for line in printed.splitlines() if line.startswith("1 message")]
    assert announced.split("  ")[0] == "1 message that is not JSON"
    assert announced.endswith("nowhere: no consumer subscribed")
    # The bus summary adds up: the per-type counts sum to the total it announces.
    bus = printed[printed.index("== bus:") :]
    total = int(bus.removeprefix("== bus: ").split(" ", 1)[0])
    counts = bus.split("\n\n")[0].splitlines()[3:]
    assert counts[-1].split() == ["total", str(total)]
    assert sum(int(row.split()[-1]) for row in counts[:-1]) == total
    assert any(row.split()[1] == "flagged" for row in counts[:-1])
    assert "message body is not JSON" in bus
