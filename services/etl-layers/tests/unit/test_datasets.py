"""Dataset declarations: the shipped ones load, bad ones are refused, keys route."""

from __future__ import annotations

from typing import Any

import pytest
from etl_layers.datasets import DatasetCatalog, DatasetSpec, UnknownDatasetError
from pydantic import ValidationError


def test_shipped_datasets(datasets: DatasetCatalog) -> None:
    assert datasets.names() == ["payments", "transactions"]
    transactions = datasets.get("transactions")
    assert [c.name for c in transactions.columns] == ["id", "name", "amount", "date", "category"]
    assert transactions.key == ("id",)


def test_route_by_first_key_segment(datasets: DatasetCatalog) -> None:
    assert datasets.route("payments/2024/03/pix.ndjson").name == "payments"
    with pytest.raises(UnknownDatasetError):
        datasets.route("invoices/a.csv")
    with pytest.raises(UnknownDatasetError):
        datasets.route("transactions.csv")


def _spec(**overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "t",
        "description": "d",
        "key": ["id"],
        "partition_column": "day",
        "measure": "amount",
        "group_by": "id",
        "amount_bands": [{"name": "ALL"}],
        "columns": [
            {"name": "id", "type": "bigint", "required": True},
            {"name": "day", "type": "date", "required": True},
            {"name": "amount", "type": "double"},
        ],
    }
    spec.update(overrides)
    return spec


def test_a_valid_declaration() -> None:
    assert DatasetSpec.model_validate(_spec()).name == "t"


@pytest.mark.parametrize(
    "overrides",
    [
        {"key": ["nope"]},
        {"partition_column": "amount"},
        {"measure": "day"},
        {"amount_bands": [{"name": "LOW", "below": 1}]},
        {"columns": [{"name": "id", "type": "bigint"}, {"name": "day", "type": "date"}]},
        {"unknown_field": 1},
        {"decimal": "dot"},
        {
            "columns": [
                {"name": "id", "type": "bigint", "required": True},
                {"name": "day", "type": "date", "required": True},
                {"name": "amount", "type": "double"},
                {"name": "s", "type": "string", "credit_debit": {"credit": ["c"], "debit": ["d"]}},
            ]
        },
        {
            "columns": [
                {"name": "id", "type": "bigint", "required": True},
                {"name": "day", "type": "date", "required": True},
                {"name": "amount", "type": "double"},
                {"name": "s", "type": "string", "sign_column": {"names": ["d_c"]}},
            ]
        },
    ],
)
def test_bad_declarations_are_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        DatasetSpec.model_validate(_spec(**overrides))
