"""The local platform every end-to-end test runs on: brought up once per test session on a free
port (emulator, every stack deployed from its template, the runtime running), torn down at the
end. Every test in this folder is marked `e2e`."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The `platform` fixture comes from tests/conftest.py.
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)
