"""Columns as the catalog sees them: Arrow types to Glue types, one schema for a day, and how a
day's columns differ from the table's."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

_NOT_NAME = re.compile(r"[^a-z0-9_]")


class SchemaConflictError(ValueError):
    """Two ranges of a day hold one column with types no widening reconciles."""


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
    query, so it becomes an underscore (and a leading digit gets one in front)."""
    cleaned = _NOT_NAME.sub("_", name.lower()) or "_"
    return cleaned if not cleaned[0].isdigit() else f"_{cleaned}"


def glue_type(arrow: pa.DataType) -> str:  # noqa: C901 - one branch per Arrow family
    if pa.types.is_boolean(arrow):
        return "boolean"
    if pa.types.is_int8(arrow):
        return "tinyint"
    if pa.types.is_int16(arrow):
        return "smallint"
    if pa.types.is_int32(arrow) or pa.types.is_uint8(arrow) or pa.types.is_uint16(arrow):
        return "int"
    if pa.types.is_integer(arrow):
        return "bigint"
    if pa.types.is_float32(arrow):
        return "float"
    if pa.types.is_floating(arrow):
        return "double"
    if pa.types.is_decimal(arrow):
        return f"decimal({arrow.precision},{arrow.scale})"
    if pa.types.is_timestamp(arrow):
        return "timestamp"
    if pa.types.is_date(arrow):
        return "date"
    if pa.types.is_binary(arrow) or pa.types.is_large_binary(arrow):
        return "binary"
    if pa.types.is_list(arrow) or pa.types.is_large_list(arrow):
        return f"array<{glue_type(arrow.value_type)}>"
    if pa.types.is_struct(arrow):
        inner = ",".join(f"{catalog_name(f.name)}:{glue_type(f.type)}" for f in arrow)
        return f"struct<{inner}>"
    if pa.types.is_map(arrow):
        return f"map<{glue_type(arrow.key_type)},{glue_type(arrow.item_type)}>"
    return "string"  # strings, and a column that was null in every record


def columns_of(schema: pa.Schema) -> list[Column]:
    return [Column(catalog_name(f.name), glue_type(f.type)) for f in schema]


def unify(schemas: Sequence[pa.Schema]) -> pa.Schema:
    """One schema for every range of a day: columns by name in first-seen order, integers
    widened to doubles, struct fields merged, a column missing from a range null there."""
    try:
        return pa.unify_schemas(list(schemas), promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise SchemaConflictError(str(exc)) from exc


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
    table's columns the day did not have, so older partitions stay readable."""
    names = {c.name for c in now}
    return [*now, *(c for c in before or () if c.name not in names)]
