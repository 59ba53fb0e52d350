"""`rocket demo`: run every scenario module against one local platform and print what happened."""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from rocket_contracts.envelope import CloudEvent

from rocket_infra import table
from rocket_infra.demo.report import ScenarioReport
from rocket_infra.events import format_event

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
    lines = [f"== {report.service}: {verdict}", table.render(("", "what", "count"), rows)]
    lines.extend(f"   x {failure}" for failure in report.failures)
    return "\n".join(lines)


def render_bus(events: Sequence[CloudEvent], rejects: int = 0) -> str:
    counts = Counter(event.type for event in events)
    lines = [f"== bus: {len(events)} events" + (f", {rejects} not CloudEvents" if rejects else "")]
    if counts:
        lines.append(table.render(("type", "count"), sorted(counts.items())))
        lines.append("")
        lines.extend(format_event(event) for event in events)
    return "\n".join(lines)


PlatformFactory = Callable[[], contextlib.AbstractContextManager["LocalPlatform"]]


def _default_platform() -> contextlib.AbstractContextManager[LocalPlatform]:
    from rocket_infra.local import LocalPlatform

    return LocalPlatform.start(port=0)


def run_demo(
    scenarios: Sequence[Scenario] | None = None,
    *,
    platform_factory: PlatformFactory = _default_platform,
    out: TextIO | None = None,
    idle_timeout: float = 60.0,
) -> int:
    """Start the platform, run the scenarios, print a table per service and the bus; 0 when every
    expectation held, 1 otherwise."""
    out = out or sys.stdout
    started = time.monotonic()
    scenarios = discover() if scenarios is None else scenarios
    with platform_factory() as platform:
        print(
            f"platform up at {platform.endpoint_url} in {time.monotonic() - started:.1f} s",
            file=out,
        )
        reports = run_scenarios(platform, scenarios)
        if not platform.wait_idle(idle_timeout):
            reports.append(
                ScenarioReport(service="runtime", failures=[f"not idle after {idle_timeout:.0f} s"])
            )
        bus = platform.bus_events()
        rejects = len(platform.bus_rejects())
    for report in reports:
        print(render_report(report), file=out)
        print(file=out)
    print(render_bus(bus, rejects), file=out)
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
