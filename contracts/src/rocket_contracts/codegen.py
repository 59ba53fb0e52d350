"""Generate ``rocket_contracts.models`` from ``contracts/schemas`` (``make models``).

    python -m rocket_contracts.codegen            # rewrite the models that changed
    python -m rocket_contracts.codegen --check    # exit 1 and list what would change

Every schema ``<domain>/<name>.v<N>.json`` becomes ``models/<domain>/<name>_v<N>.py``
(hyphens and dots become underscores) through datamodel-code-generator, one domain directory
at a time (a ``$ref`` into ``<domain>/common.v<N>.json`` imports its one generated class),
with the settings in the root ``pyproject.toml`` ``[tool.datamodel-codegen]`` table, so the
output is the same bytes on every run. Model files whose schema is gone are deleted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rocket_contracts.registry import module_stem

HEADER = (
    "# GENERATED from contracts/schemas by `make models` (datamodel-code-generator)."
    " Do not edit by hand.\n"
)
_PACKAGE_DOCSTRING = '"""Models generated from contracts/schemas/{where}."""\n'


class CodegenError(RuntimeError):
    """datamodel-code-generator could not turn a schema into a model."""


@dataclass(frozen=True)
class Layout:
    """Where the schemas are read from and the models written to, under one repository root."""

    root: Path

    @property
    def schemas(self) -> Path:
        return self.root / "contracts" / "schemas"

    @property
    def models(self) -> Path:
        return self.root / "contracts" / "src" / "rocket_contracts" / "models"


@dataclass
class Plan:
    """What regenerating would do to the models directory."""

    write: dict[str, str] = field(default_factory=dict)
    delete: list[str] = field(default_factory=list)

    @property
    def changes(self) -> list[str]:
        return sorted([*self.write, *self.delete])


def default_root() -> Path:
    """The repository root this package was imported from (contracts/src/rocket_contracts/..)."""
    return Path(__file__).resolve().parents[3]


@contextlib.contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    # datamodel-code-generator reads [tool.datamodel-codegen] from the pyproject.toml
    # found from the current directory, so generate from the repository root.
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def generate_domain(domain: Path, root: Path) -> dict[str, str]:
    """The generated Python source of every schema file in one domain directory, by module
    file name (``job-requested.v1.json`` -> ``job_requested_v1.py``).

    The whole directory is generated at once, so a ``$ref`` into the domain's shared
    definitions (``common.v1.json#/$defs/asset``) becomes an import of the one class generated
    for it (``common_v1.Asset``) instead of a copy in every module.
    """
    from datamodel_code_generator.__main__ import Exit, main  # only needed to generate

    with (
        tempfile.TemporaryDirectory() as scratch,
        _working_directory(root),
        warnings.catch_warnings(),
    ):
        # Its notices about future default formatters are for its CLI users, not ours.
        warnings.simplefilter("ignore", FutureWarning)
        output = Path(scratch) / domain.name
        status = main(["--input", str(domain), "--output", str(output)])
        if status != Exit.OK or not output.is_dir():
            msg = f"datamodel-code-generator failed on {domain} (exit {status})"
            raise CodegenError(msg)
        generated: dict[str, str] = {}
        for schema in sorted(domain.glob("*.json")):
            module = output / f"{module_stem(schema.name)}.py"
            if not module.is_file():
                msg = f"datamodel-code-generator wrote no {module.name} for {schema}"
                raise CodegenError(msg)
            generated[module.name] = module.read_text(encoding="utf-8")
        return generated


def render(layout: Layout) -> dict[str, str]:
    """Every file the models package should contain, by path relative to it."""
    files: dict[str, str] = {"__init__.py": HEADER + _PACKAGE_DOCSTRING.format(where="")}
    for domain in sorted(path for path in layout.schemas.iterdir() if path.is_dir()):
        if not any(domain.glob("*.json")):
            continue
        where = f"{domain.name}/"
        files[f"{domain.name}/__init__.py"] = HEADER + _PACKAGE_DOCSTRING.format(where=where)
        for name, source in generate_domain(domain.resolve(), layout.root).items():
            files[f"{domain.name}/{name}"] = source
    return files


def plan(layout: Layout) -> Plan:
    """Compare what the schemas generate with what the models directory holds."""
    wanted = render(layout)
    result = Plan()
    for relative, content in wanted.items():
        current = layout.models / relative
        if not current.is_file() or current.read_bytes() != content.encode("utf-8"):
            result.write[relative] = content
    if layout.models.is_dir():
        for existing in sorted(layout.models.rglob("*.py")):
            relative = existing.relative_to(layout.models).as_posix()
            if relative not in wanted:
                result.delete.append(relative)
    return result


def apply(layout: Layout, changes: Plan) -> None:
    """Write the models that changed and delete the ones whose schema is gone."""
    for relative, content in changes.write.items():
        target = layout.models / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode("utf-8"))
    for relative in changes.delete:
        (layout.models / relative).unlink()
    for directory in sorted(layout.models.rglob("*"), reverse=True):
        if directory.is_dir() and not any(directory.glob("*.py")):
            with contextlib.suppress(OSError):
                directory.rmdir()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rocket_contracts.codegen", description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if models are stale"
    )
    parser.add_argument("--root", type=Path, default=None, help="repository root (default: this)")
    args = parser.parse_args(argv)
    layout = Layout((args.root or default_root()).resolve())
    changes = plan(layout)
    if args.check:
        if changes.changes:
            print("generated models are stale; run `make models`:", file=sys.stderr)
            for relative in changes.changes:
                print(f"  contracts/src/rocket_contracts/models/{relative}", file=sys.stderr)
            return 1
        print("generated models are up to date")
        return 0
    apply(layout, changes)
    for relative in changes.changes:
        print(f"updated contracts/src/rocket_contracts/models/{relative}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
