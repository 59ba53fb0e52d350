"""asset-events tests: the fakes module sits next to this file (its name is unique in the repo)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from asset_events_fakes import World, new_world


@pytest.fixture
def world() -> World:
    return new_world()
