"""One schema for a day's ranges, in catalog types, and how it differs from the table."""

from __future__ import annotations

import pyarrow as pa
import pytest
from compactor.schema import (
    Column,
    SchemaConflictError,
    catalog_name,
    changes,
    columns_of,
    glue_type,
    schema_hash,
    table_columns,
    unify,
)


def test_ranges_unify_by_name_widening_integers_and_merging_structs() -> None:
    first = pa.schema([("a", pa.int64()), ("s", pa.struct([("x", pa.int64())]))])
    second = pa.schema(
        [
            ("s", pa.struct([("x", pa.float64()), ("y", pa.string())])),
            ("a", pa.float64()),
            ("late", pa.string()),
        ]
    )
    unified = unify([first, second])
    assert unified.names == ["a", "s", "late"]
    assert unified.field("a").type == pa.float64()
    assert unified.field("s").type == pa.struct([("x", pa.float64()), ("y", pa.string())])


def test_irreconcilable_types_are_a_named_conflict() -> None:
    with pytest.raises(SchemaConflictError):
        unify([pa.schema([("a", pa.int64())]), pa.schema([("a", pa.struct([("x", pa.int64())]))])])


@pytest.mark.parametrize(
    ("arrow", "glue"),
    [
        (pa.int64(), "bigint"),
        (pa.float64(), "double"),
        (pa.bool_(), "boolean"),
        (pa.string(), "string"),
        (pa.timestamp("us", tz="UTC"), "timestamp"),
        (pa.date32(), "date"),
        (pa.null(), "string"),
        (
            pa.list_(pa.struct([("sku", pa.string()), ("qty", pa.int64())])),
            "array<struct<sku:string,qty:bigint>>",
        ),
    ],
)
def test_glue_types(arrow: pa.DataType, glue: str) -> None:
    assert glue_type(arrow) == glue


def test_catalog_names_are_lower_case_identifiers() -> None:
    assert catalog_name("orderId") == "orderid"
    assert catalog_name("total-amount") == "total_amount"
    assert catalog_name("1st") == "_1st"
    assert columns_of(pa.schema([("Amount", pa.float64())])) == [Column("amount", "double")]


def test_changes_against_the_table() -> None:
    before = [Column("a", "bigint"), Column("b", "string"), Column("gone", "string")]
    now = [Column("a", "double"), Column("b", "string"), Column("new", "boolean")]
    assert [c.to_json() for c in changes(before, now)] == [
        {"column": "a", "change": "TYPE_CHANGED", "from_type": "bigint", "to_type": "double"},
        {"column": "new", "change": "ADDED", "to_type": "boolean"},
        {"column": "gone", "change": "ABSENT", "from_type": "string"},
    ]
    assert changes(None, now) == []
    assert [c.name for c in table_columns(before, now)] == ["a", "b", "new", "gone"]


def test_schema_hash_changes_with_a_type() -> None:
    assert schema_hash([Column("a", "bigint")]) != schema_hash([Column("a", "double")])
    assert schema_hash([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
