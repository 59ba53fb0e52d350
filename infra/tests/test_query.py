"""rocket_infra.query: each Glue table a DuckDB view over its S3 objects, read offline."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from moto import mock_aws
from rocket_infra import query

BUCKET = "lake"


def _parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def _table(name: str, columns: list[dict[str, str]], keys: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "Name": name,
        "PartitionKeys": keys,
        "Parameters": {"classification": "parquet"},
        "StorageDescriptor": {"Location": f"s3://{BUCKET}/{name}/", "Columns": columns},
    }


@pytest.fixture
def catalog() -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        session = boto3.Session(
            aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1"
        )
        glue: Any = session.client("glue")
        s3: Any = session.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        glue.create_database(DatabaseInput={"Name": "shop"})
        columns = [{"Name": "id", "Type": "bigint"}, {"Name": "price", "Type": "decimal(10,2)"}]
        keys = [{"Name": "dt", "Type": "date"}, {"Name": "shard", "Type": "int"}]
        glue.create_table(DatabaseName="shop", TableInput=_table("orders", columns, keys))
        glue.create_table(DatabaseName="shop", TableInput=_table("refunds", columns, keys[:1]))
        for day, ids in (("2024-01-15", [1, 2]), ("2024-01-16", [3])):
            rows = pa.table({"id": ids, "price": [1.5] * len(ids), "extra": ["x"] * len(ids)})
            key = f"orders/dt={day}/shard=7/part-0.parquet"
            s3.put_object(Bucket=BUCKET, Key=key, Body=_parquet(rows))
        # What Athena skips: manifests, locks, markers.
        s3.put_object(Bucket=BUCKET, Key="orders/_manifests/m.json", Body=b"{}")
        s3.put_object(Bucket=BUCKET, Key="orders/dt=2024-01-15/.marker", Body=b"")
        yield glue, s3


def test_a_view_per_table_with_the_catalogs_columns_and_partition_types(
    catalog: tuple[Any, Any],
) -> None:
    glue, s3 = catalog

    with query.lake(glue, s3) as con:
        rows = query.run(con, "SELECT * FROM shop.orders WHERE dt = DATE '2024-01-15' ORDER BY id")
        types = query.run(con, "SELECT column_name, data_type FROM information_schema.columns")

    assert rows.columns == ("id", "price", "dt", "shard")  # the file's `extra` is not declared
    assert [row[0] for row in rows.rows] == [1, 2]
    declared = {
        ("id", "BIGINT"),
        ("price", "DECIMAL(10,2)"),
        ("dt", "DATE"),
        ("shard", "INTEGER"),
    }
    assert declared <= set(types.rows)


def test_a_table_without_data_answers_with_no_rows(catalog: tuple[Any, Any]) -> None:
    glue, s3 = catalog

    with query.lake(glue, s3) as con:
        result = query.run(con, "SELECT * FROM shop.refunds")

    assert result == query.Result(("id", "price", "dt"), ())


def test_an_alias_answers_to_another_name(catalog: tuple[Any, Any]) -> None:
    glue, s3 = catalog
    aliases = query.parse_aliases(["athena.orders_v0=shop.orders"])

    with query.lake(glue, s3, aliases) as con:
        result = query.run(con, "SELECT COUNT(*) AS n FROM athena.orders_v0")

    assert result.rows == ((3,),)
    with (
        pytest.raises(query.QueryError, match=r"does not have: shop\.nothing"),
        query.lake(glue, s3, {"a.b": "shop.nothing"}),
    ):
        pass


def test_a_table_answers_to_the_names_the_catalog_declares(catalog: tuple[Any, Any]) -> None:
    glue, s3 = catalog
    table = _table("orders", *_orders_shape(glue))
    table["Parameters"][query.ALSO_KNOWN_AS] = "legacy.orders, athena.sales"
    glue.update_table(DatabaseName="shop", TableInput=table)

    with query.lake(glue, s3) as con:
        legacy = query.run(con, "SELECT COUNT(*) AS n FROM legacy.orders")
        athena = query.run(con, "SELECT SUM(id) AS n FROM athena.sales")

    assert (legacy.rows, athena.rows) == (((3,),), ((6,),))


def test_a_declared_name_that_is_not_database_dot_table_is_refused(
    catalog: tuple[Any, Any],
) -> None:
    glue, _s3 = catalog
    table = _table("orders", *_orders_shape(glue))
    table["Parameters"][query.ALSO_KNOWN_AS] = "orders_v0"
    glue.update_table(DatabaseName="shop", TableInput=table)

    with pytest.raises(query.QueryError, match=r"orders: rocket\.also_known_as 'orders_v0'"):
        query.catalog_tables(glue)


def _orders_shape(glue: Any) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    table = glue.get_table(DatabaseName="shop", Name="orders")["Table"]
    return table["StorageDescriptor"]["Columns"], table["PartitionKeys"]


@pytest.mark.parametrize("value", ["orders=shop.orders", "a.b", "a.b=shop"])
def test_a_malformed_alias(value: str) -> None:
    with pytest.raises(query.QueryError, match=r"expected DATABASE\.TABLE=DATABASE\.TABLE"):
        query.parse_aliases([value])


def test_a_query_error_names_the_problem(catalog: tuple[Any, Any]) -> None:
    glue, s3 = catalog

    with query.lake(glue, s3) as con, pytest.raises(query.QueryError, match="nowhere"):
        query.run(con, "SELECT * FROM shop.nowhere")


def test_results_render_as_table_csv_and_json() -> None:
    result = query.Result(("category", "total"), (("Sales", 445.5), (None, 10.0)))

    assert query.render(result, "table").splitlines() == [
        "category  total",
        "--------  -----",
        "Sales     445.5",
        "NULL      10",
        "(2 rows)",
    ]
    assert query.render(result, "csv") == "category,total\nSales,445.5\n,10.0"
    assert query.render(result, "json").splitlines()[1] == '{"category": null, "total": 10.0}'
