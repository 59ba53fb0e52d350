"""The shipped domain declarations load, and bad ones are refused."""

from __future__ import annotations

from datetime import date

import pytest
from compactor.domains import (
    DaySource,
    DomainCatalog,
    DomainSpec,
    UnknownDomainError,
    default_domains_dir,
)
from pydantic import ValidationError


def test_shipped_domains_load() -> None:
    catalog = DomainCatalog.load(default_domains_dir())
    assert catalog.names() == ["clicks", "orders"]
    orders = catalog.get("orders")
    assert orders.day_source is DaySource.LAST_MODIFIED
    assert orders.target_bytes == 256 * 1024 * 1024
    assert orders.day_prefix(date(2026, 11, 21)) == "topics/orders/"
    clicks = catalog.get("clicks")
    assert clicks.day_prefix(date(2026, 1, 2)) == "topics/clicks/year=2026/month=01/day=02/"


def test_unknown_domain_is_named() -> None:
    with pytest.raises(UnknownDomainError, match="payments"):
        DomainCatalog.load(default_domains_dir()).get("payments")


def test_target_size_defaults_to_256_mb() -> None:
    spec = DomainSpec(name="a", description="d", topic="a", day_source=DaySource.KEY_PATH)
    assert spec.target_file_mb == 256


@pytest.mark.parametrize(
    "change",
    [
        {"day_source": "hourly"},
        {"fields": [{"name": "a", "type": "string"}, {"name": "a", "type": "bigint"}]},
        {"fields": [{"name": "a", "type": "varchar"}]},
        {"fields": [{"name": "orderId", "type": "bigint"}, {"name": "orderid", "type": "bigint"}]},
        {"fields": [{"name": "order-id", "type": "bigint"}]},
        {"target_file_mb": 0},
        {"unknown": 1},
    ],
)
def test_bad_declarations_are_refused(change: dict[str, object]) -> None:
    body = {"name": "a", "description": "d", "topic": "a", "day_source": "key_path", **change}
    with pytest.raises(ValidationError):
        DomainSpec.model_validate(body)
