"""Is a new version of a schema file backward compatible with the old one?

Within a major version (one ``<entity>-<verb>.v<N>.json`` file) a change must keep two promises:

* every message valid under the old schema is valid under the new one, so consumers built on
  the new schema read what producers of the old one sent (and what waits in queues and DLQs):
  no required field added, no type narrowed, no enum value removed, no constraint tightened,
  no property dropped from a closed object, ``additionalProperties`` never made stricter;
* a consumer built on the old schema reads what producers of the new one send. Readers are
  tolerant (``bus.parse_record`` leaves out properties its copy of the schema does not declare,
  see ``validation.known_part``), so an added optional property reaches old consumers as
  "absent"; a field the old schema required must stay required, so they still find it.

Anything else needs a new ``v<N+1>`` file. The check is structural and conservative: where it
cannot prove a change is a widening (a changed ``pattern``, a new ``not``), it calls it breaking.

A widening (a new enum value, a relaxed bound, a wider type) keeps both promises only while
producers do not yet use it: an old consumer validates the values it declares strictly and would
quarantine a message carrying the new value. :func:`widenings` names them; the command prints
them as notes (not failures): deploy the consumers before a producer sends the new values.

    python -m rocket_contracts.compat --base origin/main

compares every schema file with its version at a git ref and exits 1, naming the file, the
field path and the rule, when a change is breaking. New files are fine; a deleted file is not.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from referencing import Registry

from rocket_contracts import refs

Schema = dict[str, Any]

SCHEMAS_DIR = "contracts/schemas"

# Keywords whose value must not grow (a larger lower bound rejects old data).
_LOWER_BOUNDS = (
    "minimum",
    "exclusiveMinimum",
    "minLength",
    "minItems",
    "minProperties",
    "minContains",
)
# Keywords whose value must not shrink.
_UPPER_BOUNDS = (
    "maximum",
    "exclusiveMaximum",
    "maxLength",
    "maxItems",
    "maxProperties",
    "maxContains",
)
# Assertions this module does not reason about: adding or changing one is breaking.
_OPAQUE = (
    "pattern",
    "format",
    "not",
    "if",
    "then",
    "else",
    "allOf",
    "contains",
    "dependentRequired",
    "dependentSchemas",
    "patternProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contentEncoding",
    "contentMediaType",
    "contentSchema",
)


@dataclass(frozen=True)
class Breach:
    """One breaking change: where (JSON path of the field), which rule, and what changed."""

    path: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.path}: {self.rule}: {self.detail}"


def _types(schema: Schema) -> set[str] | None:
    declared = schema.get("type")
    if declared is None:
        return None
    return {declared} if isinstance(declared, str) else set(declared)


def _accepts_type(new_types: set[str], old_type: str) -> bool:
    return old_type in new_types or (old_type == "integer" and "number" in new_types)


class _Comparison:
    """Compares two schema documents, following local ``$ref``s into their ``$defs``."""

    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self.breaches: list[Breach] = []
        self._followed: set[tuple[str, str]] = set()

    def breach(self, path: str, rule: str, detail: str) -> None:
        self.breaches.append(Breach(path, rule, detail))

    @staticmethod
    def _resolve(schema: Any, root: Schema) -> Schema:
        if isinstance(schema, bool):
            return {} if schema else {"not": {}}
        node: Schema = dict(schema)
        hops = 0
        while isinstance(node.get("$ref"), str) and node["$ref"].startswith("#") and hops < 32:
            target: Any = root
            for part in node.pop("$ref").lstrip("#").strip("/").split("/"):
                if part:
                    target = target[part.replace("~1", "/").replace("~0", "~")]
            node = {**target, **node}
            hops += 1
        return node

    def compare(self, old_raw: Any, new_raw: Any, path: str) -> None:
        refs = (_ref(old_raw), _ref(new_raw))
        if refs != ("", ""):
            # A recursive $defs entry is compared once per pair of definitions.
            if refs in self._followed:
                return
            self._followed.add(refs)
        old = self._resolve(old_raw, self.old_root)
        new = self._resolve(new_raw, self.new_root)
        for check in self._checks:
            check(self, old, new, path)

    # -- the rules -------------------------------------------------------------------------

    def _type(self, old: Schema, new: Schema, path: str) -> None:
        old_types, new_types = _types(old), _types(new)
        if new_types is None:
            return
        if old_types is None:
            self.breach(path, "type-narrowed", f"any type -> {sorted(new_types)}")
            return
        lost = sorted(t for t in old_types if not _accepts_type(new_types, t))
        if lost:
            self.breach(path, "type-narrowed", f"{sorted(old_types)} -> {sorted(new_types)}")

    def _values(self, old: Schema, new: Schema, path: str) -> None:
        if "const" in new and old.get("const", object()) != new["const"]:
            self.breach(path, "const-changed", f"{old.get('const')!r} -> {new['const']!r}")
        if "enum" not in new:
            return
        if "enum" not in old and "const" not in old:
            self.breach(path, "enum-added", f"values limited to {new['enum']!r}")
            return
        old_values = old["enum"] if "enum" in old else [old["const"]]
        removed = [value for value in old_values if value not in new["enum"]]
        if removed:
            self.breach(path, "enum-value-removed", f"{removed!r} no longer allowed")

    def _bounds(self, old: Schema, new: Schema, path: str) -> None:
        for keyword in _LOWER_BOUNDS:
            if keyword in new and (keyword not in old or new[keyword] > old[keyword]):
                before = old.get(keyword, "none")
                self.breach(path, "constraint-tightened", f"{keyword} {before} -> {new[keyword]}")
        for keyword in _UPPER_BOUNDS:
            if keyword in new and (keyword not in old or new[keyword] < old[keyword]):
                before = old.get(keyword, "none")
                self.breach(path, "constraint-tightened", f"{keyword} {before} -> {new[keyword]}")
        if "multipleOf" in new:
            old_step = old.get("multipleOf")
            if old_step is None or (old_step / new["multipleOf"]) % 1 != 0:
                detail = f"multipleOf {old_step} -> {new['multipleOf']}"
                self.breach(path, "constraint-tightened", detail)
        if new.get("uniqueItems") is True and old.get("uniqueItems") is not True:
            self.breach(path, "constraint-tightened", "uniqueItems added")

    def _opaque(self, old: Schema, new: Schema, path: str) -> None:
        for keyword in _OPAQUE:
            if keyword in new and old.get(keyword) != new[keyword]:
                before = json.dumps(old.get(keyword)) if keyword in old else "none"
                detail = f"{keyword} {before} -> {json.dumps(new[keyword])}"
                self.breach(path, "constraint-tightened", detail)

    def _default(self, old: Schema, new: Schema, path: str) -> None:
        if "default" in old and old.get("default") != new.get("default"):
            detail = f"{old['default']!r} -> {new.get('default', 'none')!r}"
            self.breach(path, "default-changed", detail + " (absent fields change meaning)")

    def _required(self, old: Schema, new: Schema, path: str) -> None:
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        for name in sorted(new_required - old_required):
            self.breach(_join(path, name), "required-added", "old messages may lack it")
        for name in sorted(old_required - new_required):
            self.breach(_join(path, name), "required-removed", "old consumers rely on it")

    def _properties(self, old: Schema, new: Schema, path: str) -> None:
        old_props: Schema = old.get("properties", {})
        new_props: Schema = new.get("properties", {})
        new_extra = new.get("additionalProperties", True)
        for name, old_prop in old_props.items():
            if name in new_props:
                self.compare(old_prop, new_props[name], _join(path, name))
            elif new_extra is False:
                self.breach(_join(path, name), "property-removed", "the object is closed")
            else:
                self.compare(old_prop, new_extra, _join(path, name))
        old_extra = old.get("additionalProperties", True)
        for name, new_prop in new_props.items():
            # A name the old schema let through only as an additional property must still
            # accept what the old additionalProperties allowed (an open old object is the
            # exception: adding an optional field is the sanctioned change).
            if name not in old_props and isinstance(old_extra, dict):
                self.compare(old_extra, new_prop, _join(path, name))

    def _additional(self, old: Schema, new: Schema, path: str) -> None:
        old_extra = old.get("additionalProperties", True)
        new_extra = new.get("additionalProperties", True)
        if new_extra is False and old_extra is not False:
            self.breach(path, "additional-properties-tightened", "extra fields now rejected")
        elif isinstance(new_extra, dict) and old_extra is not False:
            self.compare({} if old_extra is True else old_extra, new_extra, f"{path}.*")
        if "propertyNames" in new:
            self.compare(old.get("propertyNames", {}), new["propertyNames"], f"{path}{{name}}")

    def _items(self, old: Schema, new: Schema, path: str) -> None:
        if "items" in new:
            self.compare(old.get("items", {}), new["items"], f"{path}[]")
        old_prefix: list[Any] = old.get("prefixItems", [])
        for index, new_item in enumerate(new.get("prefixItems", [])):
            old_item = old_prefix[index] if index < len(old_prefix) else old.get("items", {})
            self.compare(old_item, new_item, f"{path}[{index}]")

    def _branches(self, old: Schema, new: Schema, path: str) -> None:
        for keyword in ("anyOf", "oneOf"):
            if keyword not in new:
                continue
            if keyword not in old:
                self.breach(path, "composition-narrowed", f"{keyword} added")
                continue
            for index, old_branch in enumerate(old[keyword]):
                if not any(self._fits(old_branch, branch) for branch in new[keyword]):
                    detail = f"{keyword}[{index}] has no compatible branch in the new schema"
                    self.breach(path, "composition-narrowed", detail)

    def _fits(self, old_branch: Any, new_branch: Any) -> bool:
        trial = _Comparison(self.old_root, self.new_root)
        trial.compare(old_branch, new_branch, "$")
        return not trial.breaches

    _checks: tuple[Callable[[_Comparison, Schema, Schema, str], None], ...] = (
        _type,
        _values,
        _bounds,
        _opaque,
        _default,
        _required,
        _properties,
        _additional,
        _items,
        _branches,
    )


def _ref(schema: Any) -> str:
    return str(schema.get("$ref", "")) if isinstance(schema, dict) else ""


def _join(path: str, name: str) -> str:
    return f"{path}.{name}"


def check(old: Schema, new: Schema) -> list[Breach]:
    """Every breaking change from ``old`` to ``new`` (empty when compatible)."""
    comparison = _Comparison(old, new)
    if old.get("$id") != new.get("$id"):
        comparison.breach("$", "id-changed", f"{old.get('$id')!r} -> {new.get('$id')!r}")
    if old.get("title") != new.get("title"):
        # The title names the generated model class that every consumer imports.
        detail = f"{old.get('title')!r} -> {new.get('title')!r}"
        comparison.breach("$", "title-changed", detail)
    comparison.compare(old, new, "$")
    return comparison.breaches


# What an old consumer's tolerant reader absorbs when the roles are swapped: properties it does
# not declare are left out, and requirements are the first promise's business.
_ABSORBED_BY_TOLERANT_READERS = frozenset(
    {"property-removed", "additional-properties-tightened", "required-added", "required-removed"}
)


# A breach found with the roles swapped, named for what the new schema did. Details keep the
# swapped comparison's wording: "new -> old".
_WIDENED = {
    "type-narrowed": "type-widened",
    "enum-value-removed": "enum-value-added",
    "enum-added": "enum-removed",
    "constraint-tightened": "constraint-relaxed",
    "composition-narrowed": "composition-widened",
}


def widenings(old: Schema, new: Schema) -> list[Breach]:
    """Where a message valid under ``new`` can fail a consumer still validating with ``old``.

    The same comparison with the roles swapped, less what the tolerant reader absorbs (a
    property the old schema does not declare). Each one is compatible for the gate, but a
    consumer still on ``old`` quarantines a message that uses the widened value.
    """
    comparison = _Comparison(new, old)
    comparison.compare(new, old, "$")
    return [
        Breach(b.path, _WIDENED.get(b.rule, b.rule), f"old consumers reject it ({b.detail})")
        for b in comparison.breaches
        if b.rule not in _ABSORBED_BY_TOLERANT_READERS
    ]


# -- the command ------------------------------------------------------------------------------


class GitError(RuntimeError):
    """git could not answer (unknown ref, not a repository)."""


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise GitError(result.stderr.strip() or f"git {' '.join(args)} failed")
    return result.stdout


def schema_files_at(root: Path, ref: str) -> list[str]:
    """Schema file paths (relative to the repository root) at ``ref``."""
    _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    listing = _git(root, "ls-tree", "-r", "--name-only", ref, "--", SCHEMAS_DIR)
    return sorted(line for line in listing.splitlines() if line.endswith(".json"))


@dataclass(frozen=True)
class Report:
    """Per schema file: the breaking changes, and the widenings consumers must take first."""

    breaking: dict[str, list[Breach]]
    widened: dict[str, list[Breach]]


def compare_with_ref(root: Path, ref: str) -> dict[str, list[Breach]]:
    """Breaking changes per schema file between ``ref`` and the working tree."""
    return report_against_ref(root, ref).breaking


def _bundled(
    relative: str, document: Schema, registry: Registry[Any], report: dict[str, list[Breach]]
) -> Schema | None:
    try:
        return refs.bundle(document, registry)
    except refs.ReferenceError as exc:
        report.setdefault(relative, []).append(Breach("$", "reference-unresolved", str(exc)))
        return None


def report_against_ref(root: Path, ref: str) -> Report:
    """Breaking changes and widenings per schema file between ``ref`` and the working tree.

    Each side is compared bundled (see :func:`rocket_contracts.refs.bundle`): a definition
    referenced in a shared file counts as part of every schema that references it, as it was
    at ``ref`` on the old side and as it is now on the new one. So moving a definition into a
    shared file unchanged is compatible, and changing it there is checked in every schema
    that uses it. Shared-definitions files are not compared on their own.
    """
    report = Report(breaking={}, widened={})
    old_documents = {
        relative: json.loads(_git(root, "show", f"{ref}:{relative}"))
        for relative in schema_files_at(root, ref)
    }
    new_documents = {
        path.relative_to(root).as_posix(): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((root / SCHEMAS_DIR).glob("*/*.json"))
    }
    old_registry = refs.registry_of(old_documents.values())
    new_registry = refs.registry_of(new_documents.values())
    for relative, old_document in old_documents.items():
        if relative not in new_documents:
            report.breaking[relative] = [Breach("$", "schema-deleted", f"existed at {ref}")]
            continue
        if refs.is_definitions_file(Path(relative)):
            continue
        old = _bundled(relative, old_document, old_registry, report.breaking)
        new = _bundled(relative, new_documents[relative], new_registry, report.breaking)
        if old is None or new is None:
            continue
        breaches = check(old, new)
        if breaches:
            report.breaking[relative] = breaches
        wider = widenings(old, new)
        if wider:
            report.widened[relative] = wider
    return report


def _default_root() -> Path:
    return Path(__file__).resolve().parents[3]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rocket_contracts.compat",
        description="Fail when a schema file changed incompatibly since a git ref.",
    )
    parser.add_argument("--base", required=True, help="git ref to compare with, e.g. origin/main")
    parser.add_argument("--root", type=Path, default=None, help="repository root (default: this)")
    args = parser.parse_args(argv)
    root = (args.root or _default_root()).resolve()
    try:
        report = report_against_ref(root, args.base)
    except GitError as exc:
        print(f"cannot compare with {args.base}: {exc}", file=sys.stderr)
        return 2
    if report.widened:
        print(f"widened since {args.base} (deploy consumers before producers send these values):")
        for relative, widened in report.widened.items():
            for breach in widened:
                print(f"  {relative}: {breach}")
    if not report.breaking:
        print(f"every schema is backward compatible with {args.base}")
        return 0
    print(f"breaking schema changes since {args.base} (add a new v<N+1> file instead):")
    for relative, breaches in report.breaking.items():
        for breach in breaches:
            print(f"  {relative}: {breach}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
