"""Fault and soak suites (`make faults`): long runs on the local platform, kept out of `make test`
except the seeded slice marked `faults_slice` (`make e2e` runs it).
Every test in this folder is marked `faults`; each writes its figures to BENCHMARKS.md."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent

# The platform suite reuses the per-service suites' helpers as `tests.faults.<module>` (and the
# compactor's e2e helpers as `tests.e2e.test_compactor`): the repository root is their base, as
# it is mypy's.
if str(HERE.parents[1]) not in sys.path:
    sys.path.insert(0, str(HERE.parents[1]))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The `platform` fixture comes from tests/conftest.py.
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.faults)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "faults_slice: the seeded slice of the fault suites that `make test` runs"
    )
