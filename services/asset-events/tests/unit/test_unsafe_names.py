"""A name from outside becomes an asset id (a DynamoDB key, an S3 key under `assets/`) only when
it is safe: agent events with duplicate keys or deep nesting are quarantined with the reason, a
lake table whose name cannot be an asset id registers nothing and says so, and the valid inputs
beside them are decided."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asset_events.handlers import decisor as decisor_handler
from asset_events.handlers import platform_assets
from asset_events.queues import PlatformConsumer
from asset_events.stream import StreamConsumer
from asset_events_fakes import FakeLambdaContext, World, asset_id, kinesis_event, running
from rocket_contracts import registry
from rocket_contracts.edge import key_problem
from rocket_contracts.models.etl.delivery_published_v1 import EtlDeliveryPublishedV1
from rocket_contracts.testing import sqs_record_for


def _etl_with(database: str, table: str) -> EtlDeliveryPublishedV1:
    example = registry.schema_for("etl.delivery.published.v1")["examples"][0]
    event = EtlDeliveryPublishedV1.model_validate(example)
    assert event.outputs.trusted_table is not None
    trusted = event.outputs.trusted_table.model_copy(update={"database": database, "name": table})
    outputs = event.outputs.model_copy(update={"trusted_table": trusted})
    return event.model_copy(update={"outputs": outputs})


@pytest.mark.parametrize(
    ("database", "table"),
    [
        ("rocket_prod_etl", "transactions_trusted\n"),
        ("rocket_prod_etl\n", "transactions_trusted"),
        ("../../etc", "transactions_trusted"),
        ("rocket_prod_etl", "a/../../b"),
        ("rocket_prod_etl", "/abs"),
        ("rocket_prod_etl", "t\x00"),
        ("rocket_prod_etl", "t\u202eexe"),
        ("rocket_prod_etl", "t" * 10_000),
    ],
)
def test_a_lake_table_whose_name_cannot_be_an_asset_id_registers_nothing(
    world: World, caplog: pytest.LogCaptureFixture, database: str, table: str
) -> None:
    records = [sqs_record_for(_etl_with(database, table), correlation_id="c-1")]

    response = platform_assets.handler(
        {"Records": records}, FakeLambdaContext(), consumer=PlatformConsumer(world.decisor())
    )

    assert response == {"batchItemFailures": []}
    # The delivery table of the same announcement is still registered.
    assert [r.asset_id for r in world.sender.upserts] == [
        "glue.rocket_prod_etl.transactions_delivery"
    ]
    world.apply_all()
    assert all(key_problem(a) is None for a in world.store.states)
    assert all(key_problem(k) is None for k in world.content.objects)
    [warning] = [
        r for r in caplog.records if r.getMessage() == "lake table name cannot name an asset"
    ]
    assert (warning.__dict__["database"], warning.__dict__["table"]) == (database, table)


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (b'{"status": "running", "status": "completed"}', "$: duplicate key 'status'"),
        (
            b'{"status": "running", "x": ' + b"[" * 40 + b"]" * 40 + b"}",
            "$: nested more than 32 levels deep",
        ),
        (b'{"status": "running", "run_id": NaN}', "$: NaN is not JSON"),
    ],
)
def test_an_agent_event_that_is_not_plain_json_is_quarantined_with_the_reason(
    world: World, payload: bytes, error: str
) -> None:
    event = kinesis_event([running("orders"), payload])
    bad = event["Records"][1]["kinesis"]["sequenceNumber"]

    response = decisor_handler.handler(
        event,
        FakeLambdaContext(),
        consumer=StreamConsumer(decisor=world.decisor(), content=world.content),
    )

    assert response == {"batchItemFailures": []}
    assert [r.asset_id for r in world.sender.upserts] == [asset_id("orders")]
    [key] = [k for k in world.content.objects if k.startswith("quarantine/")]
    assert bad in key
    quarantined: dict[str, Any] = json.loads(world.content.objects[key])
    assert quarantined["reason"] == "not acceptable JSON"
    assert quarantined["errors"] == [error]
