"""`rocket build <service>`: the Lambda deployment package of one service, as a zip under dist/.

The zip holds the service's package, every workspace package it depends on (rocket_contracts
with its schema files) and its third-party dependencies installed as wheels for the Lambda
platform, without what the Lambda runtime already provides.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from rocket_infra.project import Service

LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
LAMBDA_PYTHON = "3.12"
# The python3.12 runtime runs on Amazon Linux 2023 (glibc 2.34): manylinux_2_28 wheels run there,
# and current duckdb/pyarrow releases publish no cp312 manylinux2014 wheels at all.
LAMBDA_PLATFORM = "x86_64-manylinux_2_28"
# The Lambda Python runtime ships these; bundling them only adds size and version skew.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


class BuildError(RuntimeError):
    """The package could not be built, or is too large for Lambda."""


@dataclass(frozen=True)
class Member:
    """A workspace package: its distribution name, its folder and its import package."""

    name: str
    root: Path
    package: Path


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    match = _NAME.match(requirement.strip())
    if match is None:
        raise BuildError(f"cannot read requirement {requirement!r}")
    return _normalize(match.group(0))


def workspace_members(root: Path) -> dict[str, Member]:
    config = tomllib.loads((root / "pyproject.toml").read_text())
    members: dict[str, Member] = {}
    for pattern in config["tool"]["uv"]["workspace"]["members"]:
        for folder in sorted(root.glob(pattern)):
            pyproject = folder / "pyproject.toml"
            if not pyproject.is_file():
                continue
            name = tomllib.loads(pyproject.read_text())["project"]["name"]
            package = folder / "src" / name.replace("-", "_")
            members[_normalize(name)] = Member(name, folder, package)
    return members


def dependencies(service: Service, root: Path) -> tuple[list[Member], list[str]]:
    """The workspace packages and the third-party requirements `service` needs, transitively."""
    members = workspace_members(root)
    own = tomllib.loads((service.root / "pyproject.toml").read_text())["project"]["name"]
    found: list[Member] = []
    requirements: list[str] = []
    pending = [_normalize(own)]
    while pending:
        member = members[pending.pop()]
        if member in found:
            continue
        found.append(member)
        declared = tomllib.loads((member.root / "pyproject.toml").read_text())["project"]
        for requirement in declared.get("dependencies", []):
            name = _requirement_name(requirement)
            if name in members:
                pending.append(name)
            elif name not in RUNTIME_PROVIDED and requirement not in requirements:
                requirements.append(requirement)
    return found, requirements


def _uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def install(requirements: list[str], target: Path, python_version: str, platform: str) -> None:
    """Wheels only, for the Lambda platform (no sdist builds, nothing compiled here)."""
    command = [
        *_uv(),
        "pip",
        "install",
        "--quiet",
        "--target",
        str(target),
        "--python-platform",
        platform,
        "--python-version",
        python_version,
        "--only-binary",
        ":all:",
        *requirements,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError(f"installing dependencies failed:\n{result.stderr.strip()}")


def _remove_runtime_provided(target: Path) -> None:
    for name in RUNTIME_PROVIDED:
        shutil.rmtree(target / name, ignore_errors=True)
        for info in target.glob(f"{name}-*.dist-info"):
            shutil.rmtree(info, ignore_errors=True)


def _copy_member(member: Member, target: Path) -> None:
    destination = target / member.package.name
    shutil.copytree(member.package, destination, ignore=shutil.ignore_patterns("__pycache__"))
    schemas = member.root / "schemas"
    if schemas.is_dir():  # rocket_contracts: the schema files ship inside the package
        shutil.copytree(schemas, destination / "schemas", dirs_exist_ok=True)


def unzipped_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _zip(folder: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), (2020, 1, 1, 0, 0, 0))
                info.external_attr = (path.stat().st_mode & 0o777) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())


def build(
    service: Service,
    root: Path,
    *,
    dist: Path | None = None,
    python_version: str = LAMBDA_PYTHON,
    platform: str = LAMBDA_PLATFORM,
    limit: int = LAMBDA_UNZIPPED_LIMIT,
    out: TextIO | None = None,
) -> Path:
    """Build dist/<service>.zip; raise BuildError above `limit` bytes unzipped."""
    if service.is_platform:
        raise BuildError("the platform stack has no Lambda package")
    out = out or sys.stderr
    members, requirements = dependencies(service, root)
    destination = (dist or root / "dist") / f"{service.name}.zip"
    with tempfile.TemporaryDirectory(prefix=f"rocket-build-{service.name}-") as staging:
        target = Path(staging)
        if requirements:
            install(requirements, target, python_version, platform)
        _remove_runtime_provided(target)
        for member in members:
            _copy_member(member, target)
        size = unzipped_size(target)
        if size > limit:
            raise BuildError(
                f"{service.name}: {size / 2**20:.1f} MB unzipped, above Lambda's limit of "
                f"{limit / 2**20:.0f} MB"
            )
        _zip(target, destination)
    print(
        f"{destination}: {destination.stat().st_size / 2**20:.1f} MB zipped, "
        f"{size / 2**20:.1f} MB unzipped ({', '.join(m.name for m in members)} + "
        f"{len(requirements)} requirements)",
        file=out,
    )
    return destination
