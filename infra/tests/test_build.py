"""`rocket build`: the Lambda zip of a service, imported in a clean interpreter."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from rocket_infra import build, project

REPO = Path(__file__).resolve().parents[2]
# ingest-gate is built on every run (small wheels); the heavy ones (duckdb, pyarrow) only with
# ROCKET_BUILD_ALL=1, where downloading a few hundred MB of Lambda wheels is acceptable.
ALWAYS = {"ingest-gate"}
# What the Lambda runtime provides besides the standard library: boto3 and its dependencies.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")


def _services() -> list[str]:
    return [s.name for s in project.services(REPO)]


def _lambda_like_python() -> tuple[list[str], str]:
    """An interpreter of the Lambda's version if this machine has one, else this one: the
    package is then built for this version (same code path, other wheel tags)."""
    for candidate in ("python3.12",):
        path = shutil.which(candidate)
        if path and subprocess.run([path, "-c", "pass"], capture_output=True).returncode == 0:
            return [path], "3.12"
    base = getattr(sys, "_base_executable", sys.executable)
    return [base], f"{sys.version_info.major}.{sys.version_info.minor}"


def _runtime_dir(target: Path) -> Path:
    """Only boto3 and its dependencies, linked from this venv (the runtime's share)."""
    target.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for name in RUNTIME_PACKAGES:
        if (site / name).exists():
            (target / name).symlink_to(site / name)
    return target


def _handler_modules(unzipped: Path, package: str) -> list[str]:
    handlers = unzipped / package / "handlers"
    return sorted(
        f"{package}.handlers.{p.stem}" for p in handlers.glob("*.py") if p.stem != "__init__"
    )


@pytest.mark.parametrize("service", _services())
def test_every_handler_imports_from_the_unzipped_package(service: str, tmp_path: Path) -> None:
    if service not in ALWAYS and os.environ.get("ROCKET_BUILD_ALL") != "1":
        pytest.skip("heavy dependencies: set ROCKET_BUILD_ALL=1 to build this one")
    python, version = _lambda_like_python()
    target = project.service(REPO, service)
    archive = build.build(target, REPO, dist=tmp_path / "dist", python_version=version)
    unzipped = tmp_path / "unzipped"
    zipfile.ZipFile(archive).extractall(unzipped)
    modules = _handler_modules(unzipped, target.package)
    if not modules:
        pytest.skip(f"{service} has no handlers yet")
    assert not (unzipped / "boto3").exists()
    assert not (unzipped / "botocore").exists()
    assert (
        unzipped / "rocket_contracts" / "schemas" / "cloudevents" / "envelope.v1.json"
    ).is_file()
    runtime = _runtime_dir(tmp_path / "runtime")
    script = (
        "import importlib, sys\n"
        f"sys.path[:0] = [{str(unzipped)!r}, {str(runtime)!r}]\n"
        f"for name in {modules!r}:\n"
        "    module = importlib.import_module(name)\n"
        "    assert callable(module.handler), name\n"
        "    assert module.__file__.startswith(sys.path[0]), module.__file__\n"
        "print('imported', len(sys.argv))\n"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "1",
    }
    # -I: no user site, no environment; -S: no site-packages at all (not even this venv's)
    result = subprocess.run(
        [*python, "-I", "-S", "-c", script], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr


def test_build_fails_above_the_size_limit(probe_repo: Path, tmp_path: Path) -> None:
    probe = project.service(probe_repo, "probe")
    assert build.build(probe, probe_repo, dist=tmp_path).is_file()
    with pytest.raises(build.BuildError, match="above Lambda's limit"):
        build.build(probe, probe_repo, dist=tmp_path / "small", limit=100)
    assert not (tmp_path / "small" / "probe.zip").exists()


def test_dependencies_follow_workspace_members_and_leave_out_the_runtime() -> None:
    members, requirements = build.dependencies(project.service(REPO, "ingest-gate"), REPO)
    assert [m.name for m in members][:1] == ["ingest-gate"]
    assert "rocket-contracts" in [m.name for m in members]
    names = {build._requirement_name(r) for r in requirements}
    assert "pydantic" in names
    assert not names & {"boto3", "botocore", "s3transfer"}


def test_platform_has_no_package(tmp_path: Path) -> None:
    with pytest.raises(build.BuildError):
        build.build(project.service(REPO, "platform"), REPO, dist=tmp_path)
