"""Fixtures for the rocket CLI tests: an emulator and a small repository with a test service."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from rocket_infra import deploy, project
from rocket_infra.emulator import Emulator
from rocket_infra.local import emulator_config

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]


def make_repo(target: Path) -> Path:
    """A workspace with the real platform template and the test-only `probe` service."""
    (target / "infra").mkdir(parents=True)
    shutil.copy(REPO / "infra" / "platform.yaml", target / "infra" / "platform.yaml")
    shutil.copytree(FIXTURES / "services", target / "services")
    (target / "pyproject.toml").write_text(
        '[tool.uv.workspace]\nmembers = ["services/*"]\n', encoding="utf-8"
    )
    return target


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    # configured as `rocket up` configures it (e.g. Step Functions executing mode)
    with Emulator.running(config=emulator_config()) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def probe_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("repo"))


@pytest.fixture
def fresh_probe_repo(tmp_path: Path) -> Path:
    """A repository of the test's own, for tests that edit its templates."""
    return make_repo(tmp_path)


@pytest.fixture(scope="session")
def deployed_probe(emulator_server: Emulator, probe_repo: Path) -> deploy.Deployed:
    """platform + probe deployed into the emulator, as `rocket deploy --endpoint-url` does."""
    for name in (project.PLATFORM, "probe"):
        deployed = deploy.deploy(
            project.service(probe_repo, name),
            stage="local",
            endpoint_url=emulator_server.endpoint_url,
            repo_root=probe_repo,
        )
    return deployed
