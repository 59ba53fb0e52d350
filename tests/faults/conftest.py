"""Fault and soak suites (`make faults`): long runs on the local platform, kept out of `make test`.
Every test in this folder is marked `faults`; each writes its figures to BENCHMARKS.md."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The `platform` fixture comes from tests/conftest.py.
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.faults)
