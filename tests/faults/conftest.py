"""Fault and soak suites (`make faults`): long runs on the local platform, kept out of `make test`.
Every test in this folder is marked `faults`; each writes its figures to BENCHMARKS.md."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from rocket_infra.local import LocalPlatform

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.faults)


@pytest.fixture(scope="session")
def platform() -> Iterator[LocalPlatform]:
    deploy_log = io.StringIO()
    with LocalPlatform.start(port=0, out=deploy_log) as local:
        yield local
