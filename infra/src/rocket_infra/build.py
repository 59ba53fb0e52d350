"""`rocket build <service>`: the Lambda deployment package of one service, as a zip under dist/.

The zip holds the service's package, every workspace package it depends on (rocket_contracts
with its schema files) and its third-party dependencies installed as wheels for the Lambda
platform from the service's hashed requirements file (`requirements/<service>.txt`), without
what the Lambda runtime already provides and without the parts of those wheels no service uses
(`TRIM_RULES`). A package above the budget (`ROCKET_PACKAGE_BUDGET_MB`, default 200 MB unzipped,
under Lambda's 250 MB hard limit so a dependency bump has room) fails the build.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from rocket_infra.project import Service

LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
# Room under Lambda's hard limit: the next minor release of pyarrow or DuckDB must not be the
# one that breaks a deploy.
DEFAULT_BUDGET_MB = 200
BUDGET_VARIABLE = "ROCKET_PACKAGE_BUDGET_MB"
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
class TrimRule:
    """Paths (globs relative to the package root, `*` within one folder) no service needs."""

    patterns: tuple[str, ...]
    why: str

    def matches(self, relative: str) -> bool:
        return any(_glob(p).match(relative) for p in self.patterns)


def _glob(pattern: str) -> re.Pattern[str]:
    """`**/` spans folders (or none), `*` stays within one name."""
    regex = "".join(
        "(?:.*/)?" if part == "**/" else "[^/]*" if part == "*" else re.escape(part)
        for part in re.split(r"(\*\*/|\*)", pattern)
        if part
    )
    return re.compile(f"^{regex}$")


# What no service imports: the package's import test (infra/tests/test_build.py, every module of
# every service imported from the built tree) and its source scan fail when one starts to.
TRIM_RULES = (
    TrimRule(("**/__pycache__", "**/*.pyc"), "bytecode: the runtime compiles what it imports"),
    TrimRule(
        ("**/*.pyx", "**/*.pxd", "**/*.pxi", "pyarrow/includes"), "Cython sources and declarations"
    ),
    TrimRule(("pyarrow/include", "pyarrow/src", "**/*.h", "**/*.hpp"), "C and C++ headers"),
    TrimRule(("*/tests", "pyarrow/_pyarrow_cpp_tests*"), "the dependencies' own test suites"),
    TrimRule(
        (
            "pyarrow/flight.py",
            "pyarrow/_flight*",
            "pyarrow/libarrow_flight.so*",
            "pyarrow/libarrow_python_flight.so*",
        ),
        "Arrow Flight RPC (pyarrow.flight)",
    ),
    TrimRule(("pyarrow/orc.py", "pyarrow/_orc*", "pyarrow/_dataset_orc*"), "ORC files"),
    TrimRule(
        ("pyarrow/_hdfs*", "pyarrow/_gcsfs*", "pyarrow/_azurefs*"),
        "HDFS, GCS and Azure filesystems (pyarrow.fs reports them as not built)",
    ),
    # Services reach S3 through their boto3 adapters (one client, one retry policy, moto in
    # tests); Arrow's own S3 client is the largest library a service never loads.
    TrimRule(("pyarrow/_s3fs*", "pyarrow/libarrow_s3.so*"), "Arrow's S3 filesystem"),
)
# Modules and names the rules remove: a service that uses one needs its rule dropped first
# (tests/infra and infra/tests/test_build.py scan every service's source for them).
TRIMMED_MODULES = (
    "pyarrow.flight",
    "pyarrow._flight",
    "pyarrow.orc",
    "pyarrow._orc",
    "pyarrow._dataset_orc",
    "pyarrow._hdfs",
    "pyarrow._gcsfs",
    "pyarrow._azurefs",
    "pyarrow._s3fs",
)
TRIMMED_NAMES = (
    "S3FileSystem",
    "HadoopFileSystem",
    "GcsFileSystem",
    "AzureFileSystem",
    "OrcFileFormat",
    "FlightClient",
)
# A shared library's development names (libx.so, libx.so.N.M.K) beside the name the loader
# asks for (libx.so.N, its SONAME): wheels cannot hold symlinks, so each is a full copy.
_LOADED_NAME = re.compile(r"^(?P<stem>.+\.so)\.(?P<major>\d+)$")


def _duplicate_libraries(target: Path) -> list[Path]:
    found: list[Path] = []
    for loaded in target.rglob("*.so.*"):
        match = _LOADED_NAME.match(loaded.name)
        if match is None or not loaded.is_file():
            continue
        stem = loaded.with_name(match["stem"])
        copies = [stem, *loaded.parent.glob(f"{loaded.name}.*")]
        found += [c for c in copies if c.is_file() and _same_file(loaded, c)]
    return found


def _same_file(a: Path, b: Path) -> bool:
    return a.stat().st_size == b.stat().st_size and a.read_bytes() == b.read_bytes()


def trim(target: Path, rules: tuple[TrimRule, ...] = TRIM_RULES) -> dict[str, int]:
    """Remove what `rules` name and duplicate library copies; bytes removed per reason. Every
    `*.dist-info/RECORD` then lists only files that are still there."""
    removed: dict[str, int] = {}
    for path in sorted(target.rglob("*"), key=lambda p: len(p.parts)):
        if not os.path.lexists(path):
            continue  # inside a folder already removed
        relative = path.relative_to(target).as_posix()
        rule = next((r for r in rules if r.matches(relative)), None)
        if rule is not None:
            removed[rule.why] = removed.get(rule.why, 0) + _remove(path)
    for path in _duplicate_libraries(target):
        why = "duplicate copies of shared libraries"
        removed[why] = removed.get(why, 0) + _remove(path)
    for record in target.glob("*.dist-info/RECORD"):
        _rewrite_record(record, target)
    return removed


def _remove(path: Path) -> int:
    if path.is_dir() and not path.is_symlink():
        size = unzipped_size(path)
        shutil.rmtree(path)
        return size
    size = path.stat().st_size
    path.unlink()
    return size


def _rewrite_record(record: Path, target: Path) -> None:
    rows = list(csv.reader(io.StringIO(record.read_text("utf-8"))))
    kept = [row for row in rows if row and (target / row[0]).exists()]
    if len(kept) != len(rows):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(kept)
        record.write_text(buffer.getvalue(), "utf-8")


@dataclass(frozen=True)
class Member:
    """A workspace package: its distribution name, its folder and its import package."""

    name: str
    root: Path
    package: Path


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = _NAME.match(requirement.strip())
    if match is None:
        raise BuildError(f"cannot read requirement {requirement!r}")
    return normalize(match.group(0))


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
            members[normalize(name)] = Member(name, folder, package)
    return members


def dependencies(service: Service, root: Path) -> tuple[list[Member], list[str]]:
    """The workspace packages and the third-party requirements `service` needs, transitively."""
    members = workspace_members(root)
    own = tomllib.loads((service.root / "pyproject.toml").read_text())["project"]["name"]
    found: list[Member] = []
    requirements: list[str] = []
    pending = [normalize(own)]
    while pending:
        member = members[pending.pop()]
        if member in found:
            continue
        found.append(member)
        declared = tomllib.loads((member.root / "pyproject.toml").read_text())["project"]
        for requirement in declared.get("dependencies", []):
            name = requirement_name(requirement)
            if name in members:
                pending.append(name)
            elif name not in RUNTIME_PROVIDED and requirement not in requirements:
                requirements.append(requirement)
    return found, requirements


def uv_command() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def requirements_file(service: Service, root: Path) -> Path:
    return root / "requirements" / f"{service.name}.txt"


def without_runtime_provided(pinned: str) -> str:
    """The hashed requirements minus the packages the Lambda runtime ships (each entry is one
    line plus its backslash continuations and `# via` comments)."""
    kept: list[str] = []
    skipping = False
    for line in pinned.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            skipping = requirement_name(line) in RUNTIME_PROVIDED
        elif not line or line.startswith("#"):
            skipping = False
        if not skipping:
            kept.append(line)
    return "\n".join(kept) + "\n"


def install(pinned: Path, target: Path, python_version: str, platform: str, staging: Path) -> None:
    """Exactly the pinned set, every file checked against its hash (`--require-hashes`,
    `--no-deps`: nothing resolved here), wheels only, for the Lambda platform."""
    filtered = staging / "requirements.txt"
    filtered.write_text(without_runtime_provided(pinned.read_text("utf-8")), "utf-8")
    command = [
        *uv_command(),
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
        "--require-hashes",
        "--no-deps",
        "-r",
        str(filtered),
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


def budget_bytes(environ: Mapping[str, str] = os.environ) -> int:
    """The unzipped budget: `ROCKET_PACKAGE_BUDGET_MB` (MiB), default 200, never above Lambda's."""
    raw = environ.get(BUDGET_VARIABLE, str(DEFAULT_BUDGET_MB))
    try:
        budget = int(float(raw) * 2**20)
    except ValueError as exc:
        raise BuildError(f"{BUDGET_VARIABLE}={raw!r} is not a number of MB") from exc
    return min(budget, LAMBDA_UNZIPPED_LIMIT)


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f} MB"


def build(
    service: Service,
    root: Path,
    *,
    dist: Path | None = None,
    python_version: str = LAMBDA_PYTHON,
    platform: str = LAMBDA_PLATFORM,
    limit: int | None = None,
    out: TextIO | None = None,
) -> Path:
    """Build dist/<service>.zip; raise BuildError above `limit` bytes unzipped (the budget)."""
    if service.is_platform:
        raise BuildError("the platform stack has no Lambda package")
    out = out or sys.stderr
    limit = budget_bytes() if limit is None else limit
    members, requirements = dependencies(service, root)
    destination = (dist or root / "dist") / f"{service.name}.zip"
    pinned = requirements_file(service, root)
    if requirements and not pinned.is_file():
        raise BuildError(
            f"{service.name} declares third-party dependencies but {pinned} is missing: "
            "run `make requirements`"
        )
    with tempfile.TemporaryDirectory(prefix=f"rocket-build-{service.name}-") as staging:
        target = Path(staging) / "package"
        target.mkdir()
        if requirements:
            install(pinned, target, python_version, platform, Path(staging))
        _remove_runtime_provided(target)
        installed = unzipped_size(target)
        trimmed = trim(target)
        for member in members:
            _copy_member(member, target)
        size = unzipped_size(target)
        for why, removed in sorted(trimmed.items(), key=lambda item: -item[1]):
            print(f"  trimmed {_mb(removed):>9}  {why}", file=out)
        if size > limit:
            destination.unlink(missing_ok=True)
            raise BuildError(
                f"{service.name}: {_mb(size)} unzipped, above the package budget of "
                f"{_mb(limit)} ({BUDGET_VARIABLE}; Lambda's limit is "
                f"{_mb(LAMBDA_UNZIPPED_LIMIT)}). Largest: {_largest(target)}"
            )
        _zip(target, destination)
    print(
        f"{destination}: {_mb(destination.stat().st_size)} zipped, {_mb(size)} unzipped "
        f"(budget {_mb(limit)}; dependencies {_mb(installed)} before trimming; "
        f"{', '.join(m.name for m in members)} + {len(requirements)} requirements)",
        file=out,
    )
    return destination


def _largest(target: Path, count: int = 3) -> str:
    tops = sorted(target.iterdir(), key=lambda p: -_size(p))[:count]
    return ", ".join(f"{p.name} {_mb(_size(p))}" for p in tops)


def _size(path: Path) -> int:
    return unzipped_size(path) if path.is_dir() else path.stat().st_size
