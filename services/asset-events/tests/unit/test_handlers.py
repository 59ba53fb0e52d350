"""The functions end to end over fakes: Kinesis-shaped batches (base64 data), partial batch
responses, quarantine of bad records, the producers and platform consumer on SQS records."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from asset_events.domain import Status
from asset_events.handlers import decisor as decisor_handler
from asset_events.handlers import drop_producer, platform_assets, upsert_producer
from asset_events.messages import upsert_model
from asset_events.queues import PlatformConsumer, drop_consumer, upsert_consumer
from asset_events.stream import StreamConsumer
from asset_events_fakes import (
    T0,
    FakeLambdaContext,
    World,
    asset_id,
    completed,
    kinesis_event,
    observation,
    running,
)
from rocket_contracts import registry
from rocket_contracts.models.compactor.domain_processed_v1 import CompactorDomainProcessedV1
from rocket_contracts.models.etl.delivery_published_v1 import EtlDeliveryPublishedV1
from rocket_contracts.testing import sqs_record, sqs_record_for

EVENTS = Path(__file__).parent.parent / "events"


def _stream(world: World) -> StreamConsumer:
    return StreamConsumer(decisor=world.decisor(), content=world.content)


def test_the_sample_kinesis_event_decides_and_quarantines_the_bad_record(world: World) -> None:
    event: dict[str, Any] = json.loads((EVENTS / "kinesis_agent_events.json").read_text())
    response = decisor_handler.handler(event, FakeLambdaContext(), consumer=_stream(world))
    assert response == {"batchItemFailures": []}
    assert [r.asset_id for r in world.sender.upserts] == [asset_id("orders")]
    [quarantined] = [k for k in world.content.objects if k.startswith("quarantine/")]
    assert event["Records"][1]["kinesis"]["sequenceNumber"] in quarantined
    assert json.loads(world.content.objects[quarantined])["reason"] == "not JSON"


def test_a_record_whose_request_was_not_queued_is_reported_failed(world: World) -> None:
    world.sender.fail_assets = {asset_id("b")}
    event = kinesis_event([running("a"), running("b"), running("c")])
    response = decisor_handler.handler(event, FakeLambdaContext(), consumer=_stream(world))
    second = event["Records"][1]["kinesis"]["sequenceNumber"]
    assert response == {"batchItemFailures": [{"itemIdentifier": second}]}


def test_a_completed_run_in_the_same_batch_counts_the_reports_before_it(world: World) -> None:
    tables = [f"t{n}" for n in range(10)]
    first = kinesis_event([*(running(t) for t in tables), completed(reported=10)])
    decisor_handler.handler(first, FakeLambdaContext(), consumer=_stream(world))
    world.apply_all()
    later = T0 + timedelta(hours=1)
    second = kinesis_event(
        [
            *(running(t, run="run-2", at=later) for t in tables[1:]),
            completed(run="run-2", at=later + timedelta(minutes=1), reported=9),
        ]
    )
    decisor_handler.handler(second, FakeLambdaContext(), consumer=_stream(world))
    assert [r.asset_id for r in world.sender.drops] == [asset_id("t0")]


def _request_record(world: World) -> dict[str, Any]:
    world.decisor().observe([observation(running("orders"))])
    [request] = world.sender.upserts
    world.sender.upserts.clear()
    return sqs_record_for(upsert_model(request), correlation_id=request.correlation_id)


def test_the_upsert_producer_applies_a_request_once_and_fails_a_poison_alone(world: World) -> None:
    good = _request_record(world)
    poison = sqs_record("{}", message_attributes={"type": "assets.upsert.requested.v1"})
    consumer = upsert_consumer(world.upsert_producer())
    event = {"Records": [good, poison, good]}
    response = upsert_producer.handler(event, FakeLambdaContext(), consumer=consumer)
    assert response == {"batchItemFailures": [{"itemIdentifier": poison["messageId"]}]}
    state = world.store.states[asset_id("orders")]
    assert state.version == 1
    assert world.store.state_writes == 1


def test_the_drop_producer_fails_a_message_of_another_type(world: World) -> None:
    good = _request_record(world)  # an upsert request on the drop queue is a poison there
    consumer = drop_consumer(world.drop_producer())
    response = drop_producer.handler({"Records": [good]}, FakeLambdaContext(), consumer=consumer)
    assert response == {"batchItemFailures": [{"itemIdentifier": good["messageId"]}]}


def _announcement(event_type: str) -> Any:
    example = registry.schema_for(event_type)["examples"][0]
    return registry.model_for(event_type).model_validate(example)


def test_platform_announcements_register_the_lake_tables(world: World) -> None:
    etl: EtlDeliveryPublishedV1 = _announcement("etl.delivery.published.v1")
    compactor: CompactorDomainProcessedV1 = _announcement("compactor.domain.processed.v1")
    records = [
        sqs_record_for(etl, correlation_id="c-1"),
        sqs_record_for(compactor, correlation_id="c-2"),
    ]
    response = platform_assets.handler(
        {"Records": records}, FakeLambdaContext(), consumer=PlatformConsumer(world.decisor())
    )
    assert response == {"batchItemFailures": []}
    assert sorted(r.asset_id for r in world.sender.upserts) == [
        "glue.rocket_prod_etl.transactions_delivery",
        "glue.rocket_prod_etl.transactions_trusted",
        "glue.rocket_prod_lake.orders",
    ]
    world.apply_all()
    assert {s.agent for s in world.store.states.values()} == {"rocket"}
    assert {s.status for s in world.store.states.values()} == {Status.ACTIVE}
    # The same announcement again: nothing changed, nothing requested.
    platform_assets.handler(
        {"Records": records}, FakeLambdaContext(), consumer=PlatformConsumer(world.decisor())
    )
    assert world.sender.upserts == []


def test_an_announcement_without_columns_registers_nothing_and_is_not_retried(
    world: World,
) -> None:
    empty = _announcement("compactor.domain.processed.v1").model_copy(update={"columns": []})
    response = platform_assets.handler(
        {"Records": [sqs_record_for(empty, correlation_id="c-3")]},
        FakeLambdaContext(),
        consumer=PlatformConsumer(world.decisor()),
    )
    assert response == {"batchItemFailures": []}
    assert world.sender.upserts == []


def test_the_platform_consumer_fails_a_type_it_does_not_consume_and_says_why(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    good = _request_record(world)
    response = platform_assets.handler(
        {"Records": [good]}, FakeLambdaContext(), consumer=PlatformConsumer(world.decisor())
    )
    assert response == {"batchItemFailures": [{"itemIdentifier": good["messageId"]}]}
    [record] = [r for r in caplog.records if r.getMessage() == "platform announcement failed"]
    assert record.__dict__["message_id"] == good["messageId"]
    assert "not a platform announcement" in record.__dict__["error"]


def test_withheld_drops_emit_the_alarm_metric_and_keep_the_decision(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    tables = [f"t{n}" for n in range(20)]
    decisor_handler.handler(
        kinesis_event([*(running(t) for t in tables), completed(reported=20)]),
        FakeLambdaContext(),
        consumer=_stream(world),
    )
    world.apply_all()
    capsys.readouterr()
    later = T0 + timedelta(hours=1)
    crashed = kinesis_event(
        [
            *(running(t, run="run-2", at=later) for t in tables[:2]),
            completed(run="run-2", at=later + timedelta(minutes=1), reported=2),
        ]
    )
    decisor_handler.handler(crashed, FakeLambdaContext(), consumer=_stream(world))
    assert world.sender.drops == []
    emitted = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line
    ]
    assert any(m.get("DropsWithheld") == [1.0] for m in emitted)
    document = json.loads(world.content.objects["withheld/erp-catalog-agent/run-2.json"])
    assert document["reason"] == "TOO_MANY_DROPS"
    assert len(document["not_seen"]) == 18
