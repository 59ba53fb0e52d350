"""Every workspace member declares exactly what its code imports.

A service's Lambda package is built from its own dependencies alone (`rocket build`), while the
workspace's shared virtualenv holds everyone's: an import that only works because a sibling, the
root dev group or a transitive dependency installed the package passes every local test and then
fails in Lambda with ``ModuleNotFoundError``. So this reads each member's ``src`` with ``ast``
and compares the top-level imports to its ``[project] dependencies``: nothing imported may be
undeclared, nothing declared may be unused.

Not counted: the standard library, the member's own packages, relative imports, and imports
under ``if TYPE_CHECKING:`` (stub packages such as ``mypy_boto3_*`` are dev tools, never
shipped). Optional-dependency extras count as declared: code behind an extra is not part of the
Lambda package's runtime path (``rocket_contracts.codegen`` runs only under ``make models``).
"""

from __future__ import annotations

import ast
import re
import shutil
import sys
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version
from rocket_infra import requirements

ROOT = Path(__file__).resolve().parents[2]


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    return _normalize(re.split(r"[\[<>=!~;@ ]", requirement.strip(), maxsplit=1)[0])


@dataclass(frozen=True)
class Member:
    """One workspace member: its directory, distribution name and what it declares."""

    path: Path
    name: str
    declared: frozenset[str]
    extras: frozenset[str]

    @property
    def own_packages(self) -> frozenset[str]:
        src = self.path / "src"
        return frozenset(p.name for p in src.iterdir() if (p / "__init__.py").is_file())

    @classmethod
    def read(cls, path: Path) -> Member:
        project = tomllib.loads((path / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        optional: Mapping[str, list[str]] = project.get("optional-dependencies", {})
        return cls(
            path=path,
            name=_normalize(project["name"]),
            declared=frozenset(_requirement_name(r) for r in project.get("dependencies", [])),
            extras=frozenset(_requirement_name(r) for rs in optional.values() for r in rs),
        )


def workspace_members(root: Path = ROOT) -> list[Member]:
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    return [Member.read(root / m) for m in pyproject["tool"]["uv"]["workspace"]["members"]]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(nodes: Iterable[ast.AST]) -> Iterator[tuple[str, int]]:
    """(top-level module, line) of every absolute import that runs at import or call time."""
    for node in nodes:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _runtime_imports(node.orelse)
            continue
        if isinstance(node, ast.Import):
            yield from ((alias.name.split(".")[0], node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0], node.lineno
        yield from _runtime_imports(ast.iter_child_nodes(node))


def imported_modules(member: Member) -> dict[str, list[str]]:
    """Third-party (and sibling) top-level modules the member's src imports -> where."""
    found: dict[str, list[str]] = {}
    skip = set(sys.stdlib_module_names) | member.own_packages | {"__future__"}
    for path in sorted((member.path / "src").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for module, line in _runtime_imports([tree]):
            if module not in skip:
                where = f"{path.relative_to(member.path)}:{line}"
                found.setdefault(module, []).append(where)
    return found


@cache
def _installed_packages() -> Mapping[str, list[str]]:
    return packages_distributions()


@cache
def _workspace_packages() -> dict[str, str]:
    return {package: m.name for m in workspace_members() for package in m.own_packages}


def distribution_of(module: str) -> str | None:
    """The distribution that provides top-level ``module`` (a workspace member or installed)."""
    if module in _workspace_packages():
        return _workspace_packages()[module]
    providers = _installed_packages().get(module, [])
    return _normalize(providers[0]) if len(providers) == 1 else None


def problems(member: Member) -> list[str]:
    """Every import that is undeclared and every declaration that nothing imports."""
    found: list[str] = []
    used: set[str] = set()
    for module, places in sorted(imported_modules(member).items()):
        distribution = distribution_of(module)
        if distribution is None:
            found.append(f"import {module} ({places[0]}): no single installed distribution")
            continue
        used.add(distribution)
        if distribution not in member.declared | member.extras:
            found.append(f"import {module} ({places[0]}): {distribution} is not declared")
    found += [f"{name} is declared but never imported" for name in sorted(member.declared - used)]
    return found


# Known gaps in members this suite does not own; strict, so fixing one turns the run red until
# its entry goes. infra's code catches botocore's ClientError but only boto3 is declared.
KNOWN_GAPS: dict[str, str] = {}


@pytest.mark.parametrize("member", workspace_members(), ids=lambda m: m.name)
def test_member_declares_exactly_what_it_imports(
    member: Member, request: pytest.FixtureRequest
) -> None:
    if member.name in KNOWN_GAPS:
        request.applymarker(pytest.mark.xfail(reason=KNOWN_GAPS[member.name], strict=True))

    assert problems(member) == []


# -- the check itself fails when it should ----------------------------------------------------


def _fake_member(tmp_path: Path, dependencies: list[str], source: str) -> Member:
    package = tmp_path / "svc" / "src" / "svc"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "handler.py").write_text(source)
    deps = ", ".join(f'"{d}"' for d in dependencies)
    (tmp_path / "svc" / "pyproject.toml").write_text(
        f'[project]\nname = "svc"\nversion = "0"\ndependencies = [{deps}]\n'
    )
    return Member.read(tmp_path / "svc")


def test_an_import_installed_only_transitively_is_reported(tmp_path: Path) -> None:
    member = _fake_member(
        tmp_path, ["boto3>=1.35"], "import boto3\nfrom botocore.exceptions import ClientError\n"
    )

    assert problems(member) == ["import botocore (src/svc/handler.py:2): botocore is not declared"]


def test_an_unused_declaration_is_reported(tmp_path: Path) -> None:
    member = _fake_member(tmp_path, ["PyYAML>=6", "pydantic"], "import yaml\n")

    assert problems(member) == ["pydantic is declared but never imported"]


def test_a_sibling_member_must_be_declared_too(tmp_path: Path) -> None:
    member = _fake_member(tmp_path, [], "def f() -> None:\n    from rocket_contracts import bus\n")

    assert problems(member) == [
        "import rocket_contracts (src/svc/handler.py:2): rocket-contracts is not declared"
    ]


def test_type_checking_imports_stdlib_and_own_modules_are_not_counted(tmp_path: Path) -> None:
    source = (
        "from typing import TYPE_CHECKING\nimport json\nfrom svc import handler\n"
        "from . import handler as again\n"
        "if TYPE_CHECKING:\n    from mypy_boto3_s3 import S3Client\n"
        "else:\n    import yaml\n"
    )
    member = _fake_member(tmp_path, [], source)

    assert problems(member) == ["import yaml (src/svc/handler.py:8): pyyaml is not declared"]


# -- hashed requirements per deployable (requirements/*.txt, `make requirements`) --------------


def _pins(text: str) -> dict[str, tuple[Version, int]]:
    """name -> (pinned version, number of hashes) of a hashed requirements file."""
    found: dict[str, tuple[Version, int]] = {}
    for entry in re.split(r"\n(?=[^\s#])", text):
        first = entry.split("\n", 1)[0]
        if first.startswith("#") or not first.strip():
            continue
        requirement = Requirement(first.rstrip(" \\"))
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", first
        found[_normalize(requirement.name)] = (
            Version(specifier.version),
            entry.count("--hash=sha256:"),
        )
    return found


@pytest.mark.parametrize("deployable", requirements.deployables(ROOT), ids=lambda d: d.name)
def test_requirements_file_pins_every_declared_dependency_with_hashes(
    deployable: requirements.Deployable,
) -> None:
    text = deployable.path(ROOT).read_text("utf-8")
    pins = _pins(text)
    assert all(hashes >= 1 for _, hashes in pins.values())
    assert "://" not in text, "a requirements file names a location"
    assert not re.search(r"^\s*(-i|-f|-e|--index-url|--extra-index-url|--find-links)\b", text, re.M)
    members = {m.name: m for m in workspace_members()}
    pending, seen = [deployable.distribution], set()
    while pending:
        member = members[pending.pop()]
        if member.name in seen:
            continue
        seen.add(member.name)
        project = tomllib.loads((member.path / "pyproject.toml").read_text("utf-8"))["project"]
        for declared in map(Requirement, project.get("dependencies", [])):
            name = _normalize(declared.name)
            if name in members:
                pending.append(name)
                continue
            assert name in pins, f"{deployable.path(ROOT).name}: {name} is not pinned"
            assert declared.specifier.contains(pins[name][0], prereleases=True), (
                f"{deployable.path(ROOT).name}: {name}=={pins[name][0]} does not satisfy "
                f"{declared} ({member.name}): run `make requirements`"
            )


def test_requirements_files_are_current_with_every_pyproject() -> None:
    assert requirements.stale(ROOT) == [], "run `make requirements` and commit requirements/"


def _copy_workspace(target: Path) -> Path:
    for member in workspace_members():
        relative = member.path.relative_to(ROOT)
        (target / relative).mkdir(parents=True)
        shutil.copy(member.path / "pyproject.toml", target / relative / "pyproject.toml")
        if (member.path / "template.yaml").is_file():
            shutil.copy(member.path / "template.yaml", target / relative / "template.yaml")
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    shutil.copytree(ROOT / requirements.FOLDER, target / requirements.FOLDER)
    return target


def test_a_changed_dependency_names_the_files_to_regenerate(tmp_path: Path) -> None:
    root = _copy_workspace(tmp_path)
    contracts = root / "contracts" / "pyproject.toml"
    contracts.write_text(contracts.read_text().replace('"jsonschema>=4.23"', '"jsonschema>=4.25"'))
    (root / requirements.FOLDER / "gap-scraper.txt").unlink()

    stale = requirements.stale(root)

    # contracts is in every deployable that depends on it; gap-scraper's file is gone
    assert "requirements/gap-scraper.txt is missing" in stale
    assert any(line.startswith("requirements/etl-layers.txt was generated") for line in stale)
    assert any(line.startswith("requirements/infra.txt was generated") for line in stale)
    assert not any(line.startswith("requirements/compactor.txt") for line in stale)


def test_export_cleaning_drops_location_lines_and_refuses_a_host() -> None:
    exported = "--index-url https://example.invalid/simple\nsix==1.17.0 \\\n    --hash=sha256:ab\n"
    assert requirements.clean(exported) == "six==1.17.0 \\\n    --hash=sha256:ab\n"
    with pytest.raises(requirements.RequirementsError, match="name a location"):
        requirements.clean("six @ https://example.invalid/six-1.17.0.whl\n")
