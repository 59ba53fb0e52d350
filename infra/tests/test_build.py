"""`rocket build`: the Lambda zip of a service, trimmed, within budget, imported from the zip.

The every-service build (`package` marker, `make packages`) installs each service's real
wheels for the Lambda platform and imports every module of the service from the unzipped tree
in an interpreter that sees nothing else; the trimming rules, the budget and the source scan
are checked on small trees on every `make test`.
"""

from __future__ import annotations

import ast
import base64
import csv
import hashlib
import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from rocket_infra import build, project

REPO = Path(__file__).resolve().parents[2]
# What the Lambda runtime provides besides the standard library: boto3 and its dependencies.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")


def _services() -> list[str]:
    return [s.name for s in project.services(REPO)]


def _lambda_like_python() -> tuple[list[str], str]:
    """The Lambda's Python (3.12) if this machine has one, else this interpreter: the package is
    then built for this version (same code path, other wheel tags)."""
    candidates = [os.environ.get("ROCKET_LAMBDA_PYTHON", ""), "python3.12"]
    candidates += sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 12))"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == "True":
            return [candidate], "3.12"
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


def _modules(source: Path, package: str) -> list[str]:
    """Every module of the package, from its files (not from what imports pull in)."""
    names = []
    for path in sorted((source / package).rglob("*.py")):
        parts = path.relative_to(source).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _imported_anywhere(source: Path) -> list[str]:
    """Every absolute module a service's code imports, at module level or inside a function."""
    found: set[str] = set()
    for path in source.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module)
    return sorted(found)


IMPORT_SCRIPT = """
import importlib, json, sys
root, runtime = sys.argv[1], sys.argv[2]
own, imported = json.loads(sys.argv[3]), json.loads(sys.argv[4])
sys.path[:0] = [root, runtime]
failures = []
for name in own + imported:
    try:
        module = importlib.import_module(name)
    except ImportError as exc:  # a file the package lacks: what trimming must never cause
        failures.append(f"{name}: {exc!r}")
        continue
    except Exception as exc:  # settings read at import time need the Lambda's environment
        if name in own:
            failures.append(f"{name}: {exc!r}")
        continue
    origin = getattr(module, "__file__", None) or ""
    if name in own and not origin.startswith(root):
        failures.append(f"{name} imported from {origin}, not from the package")
print("\\n".join(failures))
sys.exit(1 if failures else 0)
"""


@pytest.mark.package
@pytest.mark.parametrize("service", _services())
def test_every_module_imports_from_the_built_package_within_budget(
    service: str, tmp_path: Path
) -> None:
    python, version = _lambda_like_python()
    target = project.service(REPO, service)
    archive = build.build(target, REPO, dist=tmp_path / "dist", python_version=version)
    unzipped = tmp_path / "unzipped"
    zipfile.ZipFile(archive).extractall(unzipped)
    assert build.unzipped_size(unzipped) <= build.budget_bytes()
    assert not (unzipped / "boto3").exists()
    assert not (unzipped / "botocore").exists()
    members = [m.package.name for m in build.dependencies(target, REPO)[0]]
    if "rocket_contracts" in members:
        envelope = unzipped / "rocket_contracts" / "schemas" / "cloudevents" / "envelope.v1.json"
        assert envelope.is_file()
    own = [module for package in members for module in _modules(unzipped, package)]
    # codegen runs only under `make models` (its extra is not in the package)
    own = [m for m in own if not m.startswith("rocket_contracts.codegen")]
    imported = [
        m
        for m in _imported_anywhere(target.source_dir)
        if m.split(".")[0] not in members and not m.startswith("mypy_boto3")
    ]
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "1",
    }
    runtime = _runtime_dir(tmp_path / "runtime")
    # -I: no user site, no environment; -S: no site-packages at all (not even this venv's)
    result = subprocess.run(
        [
            *python,
            "-I",
            "-S",
            "-c",
            IMPORT_SCRIPT,
            str(unzipped),
            str(runtime),
            json.dumps(own),
            json.dumps(imported),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    records = list(unzipped.glob("*.dist-info/RECORD"))
    assert all(_record_problems(r, unzipped) == [] for r in records)


def _record_problems(record: Path, root: Path) -> list[str]:
    rows = csv.reader(record.read_text("utf-8").splitlines())
    return [row[0] for row in rows if row and not (root / row[0]).exists()]


# ---------------------------------------------------------------- trimming rules, fast


def _write(root: Path, relative: str, body: bytes = b"x") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return path


def _record_row(root: Path, path: Path) -> list[str]:
    digest = base64.urlsafe_b64encode(hashlib.sha256(path.read_bytes()).digest()).rstrip(b"=")
    return [
        path.relative_to(root).as_posix(),
        f"sha256={digest.decode()}",
        str(len(path.read_bytes())),
    ]


# What a service may use: the trimming leaves these.
KEPT = (
    "pyarrow/__init__.py",
    "pyarrow/parquet/core.py",
    "pyarrow/compute.py",
    "pyarrow/fs.py",
    "pyarrow/lib.cpython-312-x86_64-linux-gnu.so",
    "pyarrow/libarrow.so.2600",
    "pyarrow/_dataset_parquet.cpython-312-x86_64-linux-gnu.so",
    "pyarrow/vendored/version.py",
    "other/testing.py",
    "other/tests_helpers.py",
)


@pytest.fixture
def wheel_tree(tmp_path: Path) -> Path:
    """An installed pyarrow-shaped tree with its RECORD."""
    root = tmp_path / "site"
    trimmed = [
        "pyarrow/flight.py",
        "pyarrow/_flight.cpython-312-x86_64-linux-gnu.so",
        "pyarrow/libarrow_flight.so.2600",
        "pyarrow/libarrow_python_flight.so.2600",
        "pyarrow/include/arrow/api.h",
        "pyarrow/src/arrow/python/common.h",
        "pyarrow/tests/test_array.py",
        "pyarrow/lib.pyx",
        "pyarrow/lib.pxd",
        "pyarrow/types.pxi",
        "pyarrow/includes/libarrow.pxd",
        "pyarrow/_orc.cpython-312-x86_64-linux-gnu.so",
        "pyarrow/orc.py",
        "pyarrow/_dataset_orc.cpython-312-x86_64-linux-gnu.so",
        "pyarrow/_hdfs.cpython-312-x86_64-linux-gnu.so",
        "pyarrow/_gcsfs.cpython-312-x86_64-linux-gnu.so",
        "pyarrow/_azurefs.cpython-312-x86_64-linux-gnu.so",
        "pyarrow/_s3fs.cpython-312-x86_64-linux-gnu.so",
        "pyarrow/libarrow_s3.so.2600",
        "pyarrow/__pycache__/compute.cpython-312.pyc",
        "other/tests/test_x.py",
    ]
    paths = [_write(root, r) for r in [*KEPT, *trimmed]]
    # the development names of a library: identical copies of the SONAME file
    body = b"\x7fELF libarrow_python"
    for name in ("libarrow_python.so.2600", "libarrow_python.so", "libarrow_python.so.2600.1.0"):
        paths.append(_write(root, f"pyarrow/{name}", body))
    # a same-named file that is not a copy stays
    paths.append(_write(root, "pyarrow/libarrow.so", b"a linker script, not the library"))
    record = root / "pyarrow-26.0.0.dist-info" / "RECORD"
    record.parent.mkdir()
    rows = [_record_row(root, p) for p in paths] + [[record.relative_to(root).as_posix(), "", ""]]
    with record.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return root


def test_trim_removes_what_no_service_imports_and_keeps_the_rest(wheel_tree: Path) -> None:
    before = {p.relative_to(wheel_tree).as_posix() for p in wheel_tree.rglob("*") if p.is_file()}

    removed = build.trim(wheel_tree)

    after = {p.relative_to(wheel_tree).as_posix() for p in wheel_tree.rglob("*") if p.is_file()}
    assert after == {
        *KEPT,
        "pyarrow/libarrow.so",
        "pyarrow/libarrow_python.so.2600",
        "pyarrow-26.0.0.dist-info/RECORD",
    }
    assert before > after
    assert "Arrow Flight RPC (pyarrow.flight)" in removed
    assert removed["duplicate copies of shared libraries"] == 2 * len(b"\x7fELF libarrow_python")
    assert not (wheel_tree / "pyarrow" / "include").exists()
    assert not (wheel_tree / "pyarrow" / "__pycache__").exists()


def test_trim_leaves_the_record_listing_exactly_the_files_left(wheel_tree: Path) -> None:
    build.trim(wheel_tree)

    record = wheel_tree / "pyarrow-26.0.0.dist-info" / "RECORD"
    listed = {row[0] for row in csv.reader(record.read_text().splitlines()) if row}
    on_disk = {p.relative_to(wheel_tree).as_posix() for p in wheel_tree.rglob("*") if p.is_file()}
    assert listed == on_disk
    # the rows kept are the original rows, hashes and sizes included
    row = next(r for r in csv.reader(record.read_text().splitlines()) if r[0].endswith("fs.py"))
    assert row == _record_row(wheel_tree, wheel_tree / "pyarrow" / "fs.py")


def test_trim_rule_globs_stay_within_their_folder() -> None:
    rule = build.TrimRule(("*/tests", "pyarrow/_flight*"), "example")
    assert rule.matches("other/tests")
    assert rule.matches("pyarrow/_flight.cpython-312-x86_64-linux-gnu.so")
    assert not rule.matches("a/b/tests")
    assert not rule.matches("pyarrow/sub/_flight.so")
    assert not rule.matches("other/tests_helpers.py")
    assert build.TrimRule(("**/__pycache__",), "x").matches("a/b/__pycache__")
    assert build.TrimRule(("**/__pycache__",), "x").matches("__pycache__")


# ---------------------------------------------------------------- nothing trimmed is used


def trimmed_uses(source: Path) -> list[str]:
    """file:line of every import of a trimmed module and every use of a trimmed name."""
    found: list[str] = []
    modules = build.TRIMMED_MODULES
    for path in sorted(source.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                names += [a.name for a in node.names]
            elif isinstance(node, ast.Attribute):
                names = [node.attr]
            elif isinstance(node, ast.Name):
                names = [node.id]
            hits = [
                n
                for n in names
                if n in build.TRIMMED_NAMES or any(n == m or n.startswith(f"{m}.") for m in modules)
            ]
            if hits:
                found.append(f"{path.name}:{getattr(node, 'lineno', 0)} {hits[0]}")
    return found


@pytest.mark.parametrize("service", _services())
def test_no_service_uses_what_the_build_trims(service: str) -> None:
    assert trimmed_uses(project.service(REPO, service).source_dir) == []


def test_the_trimmed_use_scan_finds_imports_and_attribute_uses(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        "import pyarrow.flight\nfrom pyarrow import orc\nfrom pyarrow.fs import S3FileSystem\n"
        "def f():\n    import pyarrow.fs as fs\n    return fs.GcsFileSystem()\n"
        "# a message in flight is not pyarrow.flight\n"
    )

    assert trimmed_uses(tmp_path) == [
        "a.py:1 pyarrow.flight",
        "a.py:2 pyarrow.orc",
        "a.py:3 S3FileSystem",
        "a.py:6 GcsFileSystem",
    ]


# ---------------------------------------------------------------- budget and requirements


def test_build_fails_above_the_budget_and_leaves_no_zip(probe_repo: Path, tmp_path: Path) -> None:
    probe = project.service(probe_repo, "probe")
    assert build.build(probe, probe_repo, dist=tmp_path).is_file()
    with pytest.raises(build.BuildError, match="above the package budget"):
        build.build(probe, probe_repo, dist=tmp_path / "small", limit=100)
    assert not (tmp_path / "small" / "probe.zip").exists()


def test_budget_is_a_setting_capped_at_lambdas_limit() -> None:
    assert build.budget_bytes({}) == 200 * 2**20
    assert build.budget_bytes({build.BUDGET_VARIABLE: "120"}) == 120 * 2**20
    assert build.budget_bytes({build.BUDGET_VARIABLE: "900"}) == build.LAMBDA_UNZIPPED_LIMIT
    with pytest.raises(build.BuildError, match="not a number"):
        build.budget_bytes({build.BUDGET_VARIABLE: "lots"})


def test_runtime_provided_packages_leave_the_hashed_requirements_whole() -> None:
    pinned = (
        "# header\nboto3==1.40.0 \\\n    --hash=sha256:aa\n    # via svc\n"
        "botocore==1.40.0 \\\n    --hash=sha256:bb \\\n    --hash=sha256:cc\n"
        "    # via\n    #   boto3\n    #   svc\n"
        "pydantic==2.12.0 \\\n    --hash=sha256:dd\n    # via svc\n"
        "s3transfer==0.14.0 \\\n    --hash=sha256:ee\n"
        "six==1.17.0 ; python_full_version < '3.13' \\\n    --hash=sha256:ff\n"
    )

    assert build.without_runtime_provided(pinned) == (
        "# header\npydantic==2.12.0 \\\n    --hash=sha256:dd\n    # via svc\n"
        "six==1.17.0 ; python_full_version < '3.13' \\\n    --hash=sha256:ff\n"
    )


def test_a_service_with_dependencies_needs_its_requirements_file(
    fresh_probe_repo: Path, tmp_path: Path
) -> None:
    pyproject = fresh_probe_repo / "services" / "probe" / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("dependencies = []", 'dependencies = ["six"]')
    )

    with pytest.raises(build.BuildError, match="make requirements"):
        build.build(project.service(fresh_probe_repo, "probe"), fresh_probe_repo, dist=tmp_path)


def test_dependencies_follow_workspace_members_and_leave_out_the_runtime() -> None:
    members, requirements = build.dependencies(project.service(REPO, "ingest-gate"), REPO)
    assert [m.name for m in members][:1] == ["ingest-gate"]
    assert "rocket-contracts" in [m.name for m in members]
    names = {build.requirement_name(r) for r in requirements}
    assert "pydantic" in names
    assert not names & {"boto3", "botocore", "s3transfer"}


def test_platform_has_no_package(tmp_path: Path) -> None:
    with pytest.raises(build.BuildError):
        build.build(project.service(REPO, "platform"), REPO, dist=tmp_path)
