"""The content hash changes when the asset does, and only then."""

from __future__ import annotations

import json

import pytest
from asset_events import agent_events
from asset_events.domain import Observation
from asset_events_fakes import observation, running
from rocket_contracts.bus import ContractViolation

COLUMNS = (("id", "bigint", False), ("name", "varchar(20)", True))


def test_same_content_in_another_key_order_hashes_the_same() -> None:
    event = running("orders", columns=COLUMNS, properties={"owner": "erp", "format": "heap"})
    shuffled = dict(reversed(list(event.items())))
    shuffled["properties"] = {"format": "heap", "owner": "erp"}
    shuffled["columns"] = [dict(reversed(list(c.items()))) for c in event["columns"]]
    assert observation(shuffled).content_hash == observation(event).content_hash


def test_column_order_is_part_of_the_content() -> None:
    one = observation(running("orders", columns=COLUMNS))
    other = observation(running("orders", columns=tuple(reversed(COLUMNS))))
    assert one.content_hash != other.content_hash


def test_volatile_properties_and_the_run_do_not_change_the_hash() -> None:
    one = observation(running("orders", properties={"owner": "erp", "row_count": "10"}))
    other = observation(
        running(
            "orders",
            run="run-2",
            properties={"owner": "erp", "row_count": "99", "Last_Access_Time": "x"},
        )
    )
    assert one.content_hash == other.content_hash


def test_type_spelling_does_not_change_the_hash_but_a_type_does() -> None:
    base = observation(running("orders", columns=(("id", "VARCHAR( 20 )", True),)))
    same = observation(running("orders", columns=(("id", "varchar(20)", True),)))
    wider = observation(running("orders", columns=(("id", "varchar(40)", True),)))
    assert base.content_hash == same.content_hash != wider.content_hash


def test_a_real_property_nullability_or_location_changes_the_hash() -> None:
    base = observation(running("orders", properties={"owner": "erp"}))
    assert (
        base.content_hash != observation(running("orders", properties={"owner": "bi"})).content_hash
    )
    nullable = observation(
        running("orders", columns=(("id", "bigint", True), ("name", "text", True)))
    )
    assert base.content_hash != nullable.content_hash
    moved = observation(running("orders", properties={"owner": "erp"}, location="s3://b-1/x/"))
    assert base.content_hash != moved.content_hash


def test_the_snapshot_is_what_is_hashed() -> None:
    import hashlib

    parsed = observation(running("orders", properties={"owner": "erp", "row_count": "1"}))
    assert hashlib.sha256(parsed.content).hexdigest() == parsed.content_hash
    assert "row_count" not in json.loads(parsed.content)["properties"]


def test_asset_id_joins_database_and_schema() -> None:
    with_schema = observation(running("orders"))
    without = observation(running("orders", schema=None))
    assert with_schema.asset_id == "postgres-erp.sales--public.orders"
    assert without.asset_id == "postgres-erp.sales.orders"


@pytest.mark.parametrize(
    ("data", "summary"),
    [
        (b"not json", "not JSON"),
        (b"[1]", "not an agent event"),
        (json.dumps({"status": "paused"}).encode(), "not an agent event"),
        (json.dumps({**running("orders"), "columns": []}).encode(), "invalid assets.table"),
        (json.dumps({**running("orders"), "table": "Has Spaces"}).encode(), "invalid assets.table"),
    ],
)
def test_a_bad_record_is_a_contract_violation_with_a_reason(data: bytes, summary: str) -> None:
    with pytest.raises(ContractViolation) as caught:
        agent_events.parse(data)
    assert caught.value.summary.startswith(summary)
    assert caught.value.errors


def test_an_unknown_optional_field_from_a_newer_agent_is_read_without_it() -> None:
    event = {**running("orders"), "sampled_rows": 10}
    assert isinstance(agent_events.parse(json.dumps(event).encode()), Observation)
