"""Columns as the catalog sees them: DuckDB types to Glue types, one schema for a day, and how
a day's columns differ from the table's."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from compactor.ducktypes import (
    VARCHAR,
    DuckType,
    Schema,
    SchemaConflictError,
    case_spellings,
    glue_type,
    lower,
    merge,
)
from compactor.exact_numbers import Leaf, replaced, type_at

__all__ = ["Column", "SchemaChange", "SchemaConflictError", "columns_of", "unify"]

_NOT_NAME = re.compile(r"[^a-z0-9_]")


@dataclass(frozen=True)
class Column:
    name: str
    type: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "type": self.type}


@dataclass(frozen=True)
class SchemaChange:
    column: str
    change: str  # ADDED | ABSENT | TYPE_CHANGED
    from_type: str | None = None
    to_type: str | None = None

    def to_json(self) -> dict[str, str]:
        out = {"column": self.column, "change": self.change}
        if self.from_type is not None:
            out["from_type"] = self.from_type
        if self.to_type is not None:
            out["to_type"] = self.to_type
        return out


def catalog_name(name: str) -> str:
    """Glue keeps names in lower case; anything outside [a-z0-9_] would need quoting in every
    query, so it becomes an underscore (and a leading digit gets one in front). A letter with
    an accent is the letter (`preço` is `preco`, not `pre_o`)."""
    bare = "".join(
        c for c in unicodedata.normalize("NFKD", name.lower()) if not unicodedata.combining(c)
    )
    cleaned = _NOT_NAME.sub("_", bare) or "_"
    return cleaned if not cleaned[0].isdigit() else f"_{cleaned}"


def parquet_name(name: str) -> str:
    """The name a field is written under: its own where the catalog's differs only by case
    (Athena matches Parquet names to the table's without case), else the catalog's. A
    Parquet `total-amount` under a table column `total_amount` would read as all nulls."""
    return name if catalog_name(name) == lower(name) else catalog_name(name)


def columns_of(schema: Schema) -> list[Column]:
    return [Column(catalog_name(name), glue_type(kind, catalog_name)) for name, kind in schema]


def unify(
    schemas: Sequence[Schema], wide_integers: Collection[Leaf] = ()
) -> list[tuple[str, DuckType]]:
    """One schema for every range of a day: columns by name in first-seen order, integers
    widened to doubles, struct fields merged, a column missing from a range null there.

    An integer leaf (a column, or a field inside one) that a double does not hold exactly
    (`wide_integers`: past 2^53 in some range) is not widened to a double where another range
    has fractions: it is VARCHAR, every value its text.

    Two ranges that spell one field two ways one catalog column would hold (`Code` and `code`,
    `total-amount` and `total_amount`) cannot be one table: a SchemaConflictError says which.
    Inside one range such records are set aside when it is compacted."""
    unified = []
    for name, kind in merge(schemas).items():
        for leaf in wide_integers:
            found = type_at(kind, leaf[1:]) if leaf[0] == name else None
            if found is not None and found.name == "DOUBLE":
                kind = replaced(kind, leaf[1:], VARCHAR)
        unified.append((name, kind))
    clashing = case_spellings(unified, fold=catalog_name)
    if clashing:
        names = ", ".join(".".join(path) for path in sorted(clashing))
        raise SchemaConflictError(
            f"the day's ranges spell fields in more than one way ({names}), which no table "
            "holds apart: have the producers write one spelling, or declare the field (records "
            "spelling it otherwise are then set aside), and run the day again with force"
        )
    return unified


def schema_hash(columns: Sequence[Column]) -> str:
    text = "".join(f"{c.name}:{c.type}\n" for c in columns)
    return hashlib.sha256(text.encode()).hexdigest()


def changes(before: Sequence[Column] | None, now: Sequence[Column]) -> list[SchemaChange]:
    """How `now` differs from the table's columns `before` (None: the table is new)."""
    if before is None:
        return []
    old = {c.name: c.type for c in before}
    new = {c.name: c.type for c in now}
    found: list[SchemaChange] = []
    for column in now:
        if column.name not in old:
            found.append(SchemaChange(column.name, "ADDED", to_type=column.type))
        elif old[column.name] != column.type:
            found.append(SchemaChange(column.name, "TYPE_CHANGED", old[column.name], column.type))
    found.extend(
        SchemaChange(column.name, "ABSENT", from_type=column.type)
        for column in before
        if column.name not in new
    )
    return found


def table_columns(before: Sequence[Column] | None, now: Sequence[Column]) -> list[Column]:
    """The table's columns after this day: the day's columns (widened types win), then the
    table's columns the day did not have, so older partitions stay readable. Names are
    compared as Glue and Athena compare them, without case: a day that spells a column
    otherwise renames it, rather than give the table two columns no query tells apart."""
    names = {lower(c.name) for c in now}
    return [*now, *(c for c in before or () if lower(c.name) not in names)]
