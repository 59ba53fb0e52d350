"""Where in a column's type a double would change a number, and the SQL that finds it.

A field holding integers and fractions is a DOUBLE, at the top of a record or deep inside its
objects and arrays; an integer past 2^53 there is not its value as a double. A leaf is found by
its path: the column's name, then a struct field's name or `element` (a list's) per level, as
`DuckType` spells the type.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from compactor.ducktypes import LIST, STRUCT, VARCHAR, DuckType, literal

# The largest integer below which every integer is a double exactly (2^53).
EXACT_DOUBLE_INTEGER = 2**53
_INTEGER_TYPES = ("BIGINT", "HUGEINT", "UBIGINT")

Leaf = tuple[str, ...]


def _leaves(kind: DuckType, path: Leaf, wanted: Callable[[DuckType], bool]) -> list[Leaf]:
    if kind.name in (STRUCT, LIST):
        return [leaf for n, t in kind.fields for leaf in _leaves(t, (*path, n), wanted)]
    return [path] if wanted(kind) else []


def double_leaves(name: str, kind: DuckType) -> list[Leaf]:
    """The paths of column `name`'s DOUBLE values (the column itself if it is one)."""
    return _leaves(kind, (name,), lambda k: k.name == "DOUBLE")


def integer_leaves(name: str, kind: DuckType) -> list[Leaf]:
    return _leaves(kind, (name,), lambda k: k.name in _INTEGER_TYPES)


def type_at(kind: DuckType, steps: Sequence[str]) -> DuckType | None:
    """The type `steps` below `kind` leads to, None where the type has no such path."""
    for step in steps:
        if kind.name not in (STRUCT, LIST):
            return None
        found = dict(kind.fields).get(step)
        if found is None:
            return None
        kind = found
    return kind


def replaced(kind: DuckType, steps: Sequence[str], new: DuckType) -> DuckType:
    """`kind` with the type `steps` below it replaced by `new`."""
    if not steps:
        return new
    head, rest = steps[0], steps[1:]
    return DuckType(
        kind.name, tuple((n, replaced(t, rest, new) if n == head else t) for n, t in kind.fields)
    )


def as_text(kind: DuckType, leaves: Sequence[Sequence[str]]) -> DuckType:
    """`kind` with each leaf `leaves` name (steps below it) read as VARCHAR: its JSON text."""
    for steps in leaves:
        kind = replaced(kind, steps, VARCHAR)
    return kind


def any_value(
    expr: str, kind: DuckType, steps: Sequence[str], test: Callable[[str], str], depth: int = 0
) -> str:
    """SQL true where a value at `steps` below `expr` (of type `kind`) passes `test` (a SQL
    predicate of a value's expression); lists are looked into element by element. False or
    null where none does."""
    for index, step in enumerate(steps):
        if kind.name == LIST:
            inner = f"e{depth}"
            found = any_value(inner, kind.fields[0][1], steps[index + 1 :], test, depth + 1)
            return f"list_bool_or(list_transform({expr}, lambda {inner}: {found}))"
        expr = f"struct_extract({expr}, {literal(step)})"
        kind = dict(kind.fields)[step]
    return test(expr)


def past_double_text(value: str) -> str:
    """SQL true where `value` (JSON number text) is an integer past 2^53 (null for null).
    TRY_CAST: where DuckDB evaluates every operand (inside a lambda), `1e300` reaches it."""
    return (
        f"length({value}) > 15 AND regexp_full_match({value}, '-?[0-9]+') "
        f"AND abs(TRY_CAST({value} AS HUGEINT)) > {EXACT_DOUBLE_INTEGER}"
    )


def past_exact_double(value: str) -> str:
    """SQL true where double `value` may stand for an integer past 2^53: it is that large
    (such an integer is read as the nearest double, which is never below 2^53)."""
    return f"abs({value}) >= {EXACT_DOUBLE_INTEGER}"


def past_double(value: str) -> str:
    """SQL true where integer `value` is past 2^53."""
    return f"abs(CAST({value} AS HUGEINT)) > {EXACT_DOUBLE_INTEGER}"
