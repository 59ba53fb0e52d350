"""Cross-service test configuration: the local platform the e2e and fault suites run on."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from rocket_infra.local import LocalPlatform

# The daily schedules, as deployed, fire by the wall clock: a run crossing 01:30 UTC had the
# compactor's schedule start yesterday's execution before a test landed yesterday's files, and
# the test's own trigger then found it started. Tests fire schedules themselves
# (`runtime.trigger`), so here the schedules are set to a time no run reaches.
NEVER = "cron(0 0 1 1 ? 2199)"
QUIET_SCHEDULES = {
    service: {"ScheduleExpression": NEVER} for service in ("compactor", "gap-scraper")
}


@pytest.fixture(scope="session")
def platform() -> Iterator[LocalPlatform]:
    """Brought up once per test session on a free port (emulator, every stack deployed from its
    template, the runtime running) and torn down at the end; only suites that ask for it pay."""
    deploy_log = io.StringIO()
    with LocalPlatform.start(port=0, out=deploy_log, parameters=QUIET_SCHEDULES) as local:
        yield local
