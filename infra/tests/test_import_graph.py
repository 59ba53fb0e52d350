"""No import cycle inside rocket_infra: a module that needs another's internals must not be
needed by it in turn. Imports inside functions count (deferring an import hides a cycle, it
does not break one); those under `if TYPE_CHECKING:` do not, as they never run."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import rocket_infra

PACKAGE = Path(rocket_infra.__file__).parent
ROOT = "rocket_infra"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    module_name(path): path
    for path in sorted(PACKAGE.rglob("*.py"))
    if "__pycache__" not in path.parts and "glue_shim" not in path.parts
}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                yield from _import_nodes(ast.Module(body=[child], type_ignores=[]))
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _import_nodes(node)


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def imports_of(module: str) -> set[str]:
    """The rocket_infra modules `module` imports (a name imported from a package is the
    submodule when there is one, else the package itself)."""
    tree = ast.parse(MODULES[module].read_text(), str(MODULES[module]))
    found: set[str] = set()
    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in MODULES}
            continue
        source = _resolve(module, node)
        for alias in node.names:
            if f"{source}.{alias.name}" in MODULES:
                found.add(f"{source}.{alias.name}")
            elif source in MODULES:
                found.add(source)
    found.discard(module)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """The first cycle a depth-first walk meets, from a module around and back to it."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for target in sorted(graph.get(node, ())):
            found = visit(target, [*path, node])
            if found:
                return found
        done.add(node)
        return None

    return next((c for c in (visit(n, []) for n in sorted(graph)) if c), None)


def test_the_walk_finds_a_cycle_and_its_path() -> None:
    graph = {"a": {"d"}, "b": {"c"}, "c": {"d", "b"}, "d": set()}
    assert find_cycle(graph) == ["b", "c", "b"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"d"}, "d": set()}) is None


def test_the_walk_sees_deferred_imports_and_skips_type_checking_ones() -> None:
    assert "rocket_infra.runtime.runtime" in imports_of("rocket_infra.runtime")  # deferred
    assert "rocket_infra.runtime" in imports_of("rocket_infra.local")
    assert "rocket_infra.build" in imports_of("rocket_infra.deploy")


def test_rocket_infra_has_no_import_cycle() -> None:
    graph = {module: imports_of(module) for module in MODULES}
    assert find_cycle(graph) is None
