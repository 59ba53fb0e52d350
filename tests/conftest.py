"""Cross-service test configuration: the local platform the e2e and fault suites run on."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from rocket_infra.local import LocalPlatform


@pytest.fixture(scope="session")
def platform() -> Iterator[LocalPlatform]:
    """Brought up once per test session on a free port (emulator, every stack deployed from its
    template, the runtime running) and torn down at the end; only suites that ask for it pay."""
    deploy_log = io.StringIO()
    with LocalPlatform.start(port=0, out=deploy_log) as local:
        yield local
