"""`rocket demo`: run every scenario module against one local platform and print what happened."""

from __future__ import annotations

import contextlib
import importlib
import os
import pkgutil
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from rocket_infra import table
from rocket_infra.demo.report import ScenarioReport
from rocket_infra.events import BusMessage

if TYPE_CHECKING:
    from rocket_infra.local import LocalPlatform

SCENARIOS_PACKAGE = "rocket_infra.demo.scenarios"


@dataclass(frozen=True)
class Scenario:
    name: str
    run: Callable[[LocalPlatform], ScenarioReport]


def discover(package: str = SCENARIOS_PACKAGE) -> list[Scenario]:
    """Every module of `package` with a `run(platform)` function, in name order."""
    module = importlib.import_module(package)
    found: list[Scenario] = []
    for info in sorted(pkgutil.iter_modules(module.__path__), key=lambda i: i.name):
        try:
            scenario = importlib.import_module(f"{package}.{info.name}")
        except Exception as exc:  # a scenario that does not import is a failed scenario
            found.append(Scenario(info.name, _broken(exc)))
            continue
        run = getattr(scenario, "run", None)
        if callable(run):
            found.append(Scenario(info.name, run))
    return found


def _broken(exc: Exception) -> Callable[[LocalPlatform], ScenarioReport]:
    def run(_platform: LocalPlatform) -> ScenarioReport:
        raise ImportError(f"scenario does not import: {exc!r}") from exc

    return run


def run_scenarios(platform: LocalPlatform, scenarios: Sequence[Scenario]) -> list[ScenarioReport]:
    """Run each scenario; one that raises becomes a failed report, the others still run."""
    reports: list[ScenarioReport] = []
    for scenario in scenarios:
        try:
            report = scenario.run(platform)
        except Exception as exc:  # a broken scenario is reported, not fatal to the demo
            report = ScenarioReport(
                service=scenario.name.replace("_", "-"),
                failures=[f"scenario raised {type(exc).__name__}: {exc}"],
            )
            traceback.print_exc()
        reports.append(report)
    return reports


def render_report(report: ScenarioReport) -> str:
    rows: list[tuple[str, str, int]] = []
    for label, counts in (
        ("came in", report.came_in),
        ("went out", report.went_out),
        ("quarantined", report.quarantined),
    ):
        rows.extend((label, what, count) for what, count in sorted(counts.items()))
    verdict = "OK" if not report.failures else f"FAILED ({len(report.failures)})"
    lines = [f"== {report.service}: {verdict}", table.render(("flow", "what", "count"), rows)]
    if report.deliberate:
        lines.append("")
        lines.append(
            table.render(
                ("sent on purpose; expected to be refused", "ended in"),
                [(d.what, d.ended_in) for d in report.deliberate],
            )
        )
    lines.extend(f"   x {failure}" for failure in report.failures)
    return "\n".join(lines)


def _bus_row(message: BusMessage) -> tuple[str, ...]:
    inspected = message.inspected
    envelope = inspected.envelope or {}

    def text(name: str) -> str:
        value = envelope.get(name)
        return value if isinstance(value, str) and value else "-"

    event_type = text("type") if text("type") != "-" else (message.type_attribute or "-")
    return (
        message.sent_at.strftime("%H:%M:%S.%f")[:-3],
        event_type,
        text("source"),
        text("subject"),
        inspected.correlation_id or "-",
        inspected.problem or "",
    )


def render_bus(messages: Sequence[BusMessage]) -> str:
    """Every message that crossed the shared topic: a count per type that adds up to the
    total, then one aligned row per message, flagged ones with the first reason."""
    flagged = sum(1 for m in messages if not m.inspected.ok)
    counts = Counter(
        (_bus_row(m)[1], "flagged" if not m.inspected.ok else "valid") for m in messages
    )
    lines = [
        f"== bus: {len(messages)} messages crossed the shared topic: "
        f"{len(messages) - flagged} valid, {flagged} flagged"
    ]
    if messages:
        rows = [(t, state, n) for (t, state), n in sorted(counts.items())]
        rows.append(("total", "", len(messages)))
        lines.append(table.render(("type", "state", "count"), rows))
        lines.append("")
        lines.append(
            table.render(
                ("time", "type", "source", "subject", "correlation id", "flagged"),
                [_bus_row(m) for m in messages],
            )
        )
    return "\n".join(lines)


PlatformFactory = Callable[[], contextlib.AbstractContextManager["LocalPlatform"]]


def _default_platform() -> contextlib.AbstractContextManager[LocalPlatform]:
    from rocket_infra.local import LocalPlatform

    return LocalPlatform.start(port=0)


@contextlib.contextmanager
def logs_to(path: Path | None) -> Iterator[None]:
    """Send everything written to file descriptor 2 (the runtime's log lines, and the handler
    processes' logs, metrics and warnings, which inherit it) to ``path``; None leaves it."""
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def run_demo(
    scenarios: Sequence[Scenario] | None = None,
    *,
    platform_factory: PlatformFactory = _default_platform,
    out: TextIO | None = None,
    idle_timeout: float = 60.0,
    log: Path | None = None,
) -> int:
    """Start the platform, run the scenarios, print a table per service and the bus; 0 when every
    expectation held, 1 otherwise. With ``log``, the handlers' and runtime's log lines go to that
    file instead of the terminal."""
    out = out or sys.stdout
    started = time.monotonic()
    scenarios = discover() if scenarios is None else scenarios
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("")
        print(f"handler and runtime logs: {log} (rocket -v demo prints them here)", file=out)
    with logs_to(log), platform_factory() as platform:
        print(
            f"platform up at {platform.endpoint_url} in {time.monotonic() - started:.1f} s",
            file=out,
            flush=True,
        )
        reports = run_scenarios(platform, scenarios)
        if not platform.wait_idle(idle_timeout):
            reports.append(
                ScenarioReport(service="runtime", failures=[f"not idle after {idle_timeout:.0f} s"])
            )
        bus = platform.bus_messages()
    print(file=out)
    for report in reports:
        print(render_report(report), file=out)
        print(file=out)
    print(render_bus(bus), file=out)
    failed = [r.service for r in reports if r.failures]
    summary = f"{len(scenarios)} scenarios, {len(failed)} failed"
    print(
        f"\n{summary}{': ' + ', '.join(failed) if failed else ''} "
        f"({time.monotonic() - started:.1f} s)",
        file=out,
    )
    return 1 if failed else 0


@contextlib.contextmanager
def existing(platform: LocalPlatform) -> Iterator[LocalPlatform]:
    """A factory for a platform that is already running (tests, `rocket up`)."""
    yield platform
