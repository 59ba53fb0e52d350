"""DuckDB types as values, one schema for a day's ranges, in catalog types, and how it differs
from the table."""

from __future__ import annotations

import pytest
from compactor.ducktypes import DuckType, SchemaConflictError, glue_type, parse, render, widen
from compactor.schema import (
    Column,
    catalog_name,
    changes,
    columns_of,
    schema_hash,
    table_columns,
    unify,
)


@pytest.mark.parametrize(
    "text",
    [
        "BIGINT",
        "TIMESTAMP WITH TIME ZONE",
        "DECIMAL(18,3)",
        'STRUCT("x" BIGINT, "we""ird name" VARCHAR)[]',
        'MAP(VARCHAR, STRUCT("k" DOUBLE[])[])',
    ],
)
def test_types_round_trip_through_their_text(text: str) -> None:
    assert render(parse(text)) == text
    assert parse(render(parse(text))) == parse(text)


def test_describe_text_parses_unquoted_and_fixed_size() -> None:
    kind = parse("STRUCT(sku VARCHAR, qty BIGINT, at TIMESTAMP WITH TIME ZONE)[3]")
    assert kind.name == "LIST"
    inner = kind.fields[0][1]
    assert [n for n, _ in inner.fields] == ["sku", "qty", "at"]
    assert parse('"NULL"') == DuckType("NULL")


def test_ranges_unify_by_name_widening_integers_and_merging_structs() -> None:
    first = [("a", parse("BIGINT")), ("s", parse("STRUCT(x BIGINT)")), ("n", parse('"NULL"'))]
    second = [
        ("s", parse("STRUCT(x DOUBLE, y VARCHAR)")),
        ("a", parse("DOUBLE")),
        ("late", parse("VARCHAR")),
        ("n", parse("BOOLEAN")),
    ]
    unified = dict(unify([first, second]))
    assert list(unified) == ["a", "s", "n", "late"]
    assert unified["a"] == parse("DOUBLE")
    assert unified["s"] == parse("STRUCT(x DOUBLE, y VARCHAR)")
    assert unified["n"] == parse("BOOLEAN")  # null everywhere in one range gives way


def test_integers_a_double_does_not_hold_are_text_beside_fractions() -> None:
    first = [("id", parse("BIGINT")), ("n", parse("BIGINT"))]
    second = [("id", parse("DOUBLE")), ("n", parse("DOUBLE"))]
    unified = dict(unify([first, second], {("id",)}))
    assert unified == {"id": parse("VARCHAR"), "n": parse("DOUBLE")}
    assert dict(unify([first, first], {("id",)}))["id"] == parse("BIGINT")


def test_nested_integers_a_double_does_not_hold_are_text_beside_fractions() -> None:
    """Only the leaf whose integers a double does not hold becomes text; its neighbours
    widen as usual."""
    first = [("o", parse("STRUCT(ref BIGINT, n BIGINT, items STRUCT(id BIGINT)[])"))]
    second = [("o", parse("STRUCT(ref DOUBLE, n DOUBLE, items STRUCT(id DOUBLE)[])"))]
    wide = {("o", "ref"), ("o", "items", "element", "id")}
    assert dict(unify([first, second], wide))["o"] == parse(
        "STRUCT(ref VARCHAR, n DOUBLE, items STRUCT(id VARCHAR)[])"
    )
    assert dict(unify([first, first], wide))["o"] == first[0][1]


@pytest.mark.parametrize(
    ("a", "b", "wide"),
    [
        ("INTEGER", "BIGINT", "BIGINT"),
        ("BIGINT", "DECIMAL(18,3)", "DOUBLE"),
        ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP WITH TIME ZONE"),
        ("BIGINT[]", "DOUBLE[]", "DOUBLE[]"),
        ("JSON", "VARCHAR", "VARCHAR"),
    ],
)
def test_widenings(a: str, b: str, wide: str) -> None:
    assert widen(parse(a), parse(b)) == parse(wide)
    assert widen(parse(b), parse(a)) == parse(wide)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("VARCHAR", "BIGINT"),
        ("BIGINT", "STRUCT(x BIGINT)"),
        ("TIMESTAMP WITH TIME ZONE", "VARCHAR"),
    ],
)
def test_types_nothing_else_reconciles_widen_to_strings(a: str, b: str) -> None:
    assert unify([[("amount", parse(a))], [("amount", parse(b))]]) == [("amount", parse("VARCHAR"))]
    assert unify([[("s", parse(f"STRUCT(v {a})"))], [("s", parse(f"STRUCT(v {b})"))]]) == [
        ("s", parse("STRUCT(v VARCHAR)"))
    ]


def test_strict_widening_names_the_conflict() -> None:
    with pytest.raises(SchemaConflictError, match="amount"):
        widen(parse("VARCHAR"), parse("BIGINT"), "amount", strict=True)


@pytest.mark.parametrize(
    ("duck", "glue"),
    [
        ("BIGINT", "bigint"),
        ("DOUBLE", "double"),
        ("BOOLEAN", "boolean"),
        ("VARCHAR", "string"),
        ("TIMESTAMP WITH TIME ZONE", "timestamp"),
        ("DATE", "date"),
        ('"NULL"', "string"),
        ("DECIMAL(18,3)", "decimal(18,3)"),
        ("STRUCT(sku VARCHAR, qty BIGINT)[]", "array<struct<sku:string,qty:bigint>>"),
        ("MAP(VARCHAR, BIGINT)", "map<string,bigint>"),
    ],
)
def test_glue_types(duck: str, glue: str) -> None:
    assert glue_type(parse(duck)) == glue


def test_catalog_names_are_lower_case_identifiers() -> None:
    assert catalog_name("orderId") == "orderid"
    assert catalog_name("total-amount") == "total_amount"
    assert catalog_name("1st") == "_1st"
    assert catalog_name("Preço") == "preco"
    assert catalog_name("descrição_operação") == "descricao_operacao"
    assert columns_of([("Amount", parse('STRUCT("Sub-Total" DOUBLE)'))]) == [
        Column("amount", "struct<sub_total:double>")
    ]


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


def test_a_day_spelling_a_column_otherwise_renames_it_in_the_table() -> None:
    """Glue and Athena names ignore case: two columns differing only by it break queries."""
    before = [Column("Code", "bigint"), Column("b", "string")]
    now = [Column("code", "bigint")]
    assert [c.name for c in table_columns(before, now)] == ["code", "b"]


def test_ranges_spelling_a_field_in_two_cases_are_not_one_schema() -> None:
    ranges = [[("Code", parse("BIGINT"))], [("code", parse("BIGINT"))]]
    with pytest.raises(SchemaConflictError, match=r"more than one way \(code\)"):
        unify(ranges)
    nested = [[("s", parse("STRUCT(K BIGINT)"))], [("s", parse("STRUCT(k BIGINT)"))]]
    with pytest.raises(SchemaConflictError, match=r"\(s\.k\)"):
        unify(nested)


def test_schema_hash_changes_with_a_type() -> None:
    assert schema_hash([Column("a", "bigint")]) != schema_hash([Column("a", "double")])
    assert schema_hash([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
