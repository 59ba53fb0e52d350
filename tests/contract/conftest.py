"""Fixtures for the contract tests: the repository, its schema files, a scratch copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = REPO_ROOT / "contracts" / "schemas"
MODELS = REPO_ROOT / "contracts" / "src" / "rocket_contracts" / "models"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def contracts_copy(tmp_path: Path) -> Path:
    """A scratch repository root holding a copy of the schemas, the models and the codegen
    settings, so a test can edit them without touching the working tree."""
    root = tmp_path / "repo"
    shutil.copytree(SCHEMAS, root / "contracts" / "schemas")
    shutil.copytree(
        MODELS,
        root / "contracts" / "src" / "rocket_contracts" / "models",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy2(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    return root
