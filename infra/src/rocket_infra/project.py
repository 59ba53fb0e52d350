"""Where things are in the repository: the root, the platform template, the services."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from rocket_infra import naming

PLATFORM = "platform"


class UnknownServiceError(ValueError):
    """A service name that has no folder with a template under services/."""


@dataclass(frozen=True)
class Service:
    """One deployable stack: `platform` or a folder under services/."""

    name: str
    root: Path
    template: Path

    @property
    def package(self) -> str:
        """The importable package (`ingest-gate` -> `ingest_gate`); `rocket_infra` for platform."""
        return "rocket_infra" if self.name == PLATFORM else self.name.replace("-", "_")

    @property
    def source_dir(self) -> Path:
        return self.root / "src" / self.package

    @property
    def is_platform(self) -> bool:
        return self.name == PLATFORM


def _is_workspace_root(path: Path) -> bool:
    pyproject = path / "pyproject.toml"
    if not pyproject.is_file():
        return False
    data = tomllib.loads(pyproject.read_text())
    return "workspace" in data.get("tool", {}).get("uv", {})


def repo_root(start: Path | None = None) -> Path:
    """The workspace root: $ROCKET_REPO_ROOT, else the first uv workspace above `start` (or cwd),
    else the checkout this package was installed from."""
    override = os.environ.get("ROCKET_REPO_ROOT")
    if override:
        return Path(override).resolve()
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if _is_workspace_root(candidate):
            return candidate
    return Path(__file__).resolve().parents[3]


stack_name = naming.stack_name  # where callers have always found it


def platform_service(root: Path) -> Service:
    return Service(PLATFORM, root / "infra", root / "infra" / "platform.yaml")


def services(root: Path) -> list[Service]:
    """Every service folder that has a template, in name order (the platform excluded)."""
    found = sorted(p.parent for p in (root / "services").glob("*/template.yaml"))
    return [Service(p.name, p, p / "template.yaml") for p in found]


def service(root: Path, name: str) -> Service:
    if name == PLATFORM:
        return platform_service(root)
    folder = root / "services" / name
    if not (folder / "template.yaml").is_file():
        known = ", ".join([PLATFORM, *(s.name for s in services(root))])
        raise UnknownServiceError(f"unknown service {name!r} (known: {known})")
    return Service(name, folder, folder / "template.yaml")


def service_names(root: Path) -> list[str]:
    return [s.name for s in services(root)]
