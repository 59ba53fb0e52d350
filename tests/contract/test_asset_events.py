"""asset-events' producer and consumer contracts.

Producer: every message it sends (upsert and drop requests on its own queues, upserted and
dropped announcements on the bus, CREATED and UPDATED) validates against its schema and parses
back. Consumer: every example of every type it reads (the agent events on its stream, the
requests on its queues, the platform announcements from the bus) parses in its code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from asset_events import agent_events, messages, platform_assets
from asset_events.adapters.sns import SnsEventPublisher
from asset_events.adapters.sqs import SqsRequestSender
from asset_events.domain import (
    AssetRef,
    AssetState,
    Column,
    DropRequest,
    Observation,
    Origin,
    OriginKind,
    RunCompleted,
    Status,
    UpsertRequest,
)
from rocket_contracts import registry
from rocket_contracts.bus import parse_message, to_json, wrap

REPO_ROOT = Path(__file__).resolve().parents[2]
MANIFEST = yaml.safe_load((REPO_ROOT / "services" / "asset-events" / "messages.yaml").read_text())
HASH = "ab" * 32
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
ASSET = AssetRef("postgres-erp", "sales--public", "orders")


class Capturing:
    """Stands in for the SNS and SQS clients: keeps each body with its `type` attribute."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def publish(
        self,
        *,
        Message: str,  # noqa: N803 (boto3's parameter names)
        MessageAttributes: Mapping[str, Any],  # noqa: N803
        **_: Any,
    ) -> Any:
        self.sent.append((Message, MessageAttributes["type"]["StringValue"]))
        return {"MessageId": "1"}

    def send_message_batch(self, *, Entries: list[dict[str, Any]], **_: Any) -> Any:  # noqa: N803
        for entry in Entries:
            self.sent.append(
                (entry["MessageBody"], entry["MessageAttributes"]["type"]["StringValue"])
            )
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


def _state(version: int, previous: str | None) -> AssetState:
    return AssetState(
        asset=ASSET,
        agent="erp-catalog-agent",
        status=Status.ACTIVE,
        version=version,
        content_hash=HASH,
        content_uri=f"s3://rocket-contract-content/assets/{ASSET.asset_id}/{HASH}.json",
        observed_at="2026-11-22T03:00:00.000000Z",
        updated_at="2026-11-22T03:00:01.000000Z",
        previous_hash=previous,
        columns=(Column("id", "bigint", False),),
        location="s3://rocket-contract-lake/orders/",
    )


def _drop() -> DropRequest:
    return DropRequest(
        decision_id="cd" * 32,
        asset=ASSET,
        last_hash=HASH,
        origin=Origin(OriginKind.AGENT, "agt-1", "run-2"),
        last_seen_at=NOW,
        decided_at=NOW + timedelta(minutes=5),
        correlation_id="erp-catalog-agent:run-2",
    )


def _upsert(origin: Origin, previous: str | None) -> UpsertRequest:
    state = _state(1, None)
    return UpsertRequest(
        decision_id="ef" * 32,
        asset=ASSET,
        agent="erp-catalog-agent",
        content_hash=HASH,
        previous_hash=previous,
        columns=state.columns,
        location="jdbc:postgresql://erp/sales",  # not s3: stays in the snapshot only
        content_uri=state.content_uri,
        origin=origin,
        observed_at=NOW,
        decided_at=NOW,
        correlation_id="c-1",
    )


def test_every_announcement_validates_and_parses_back() -> None:
    sns = Capturing()
    publisher = SnsEventPublisher(topic_arn="arn:aws:sns:us-east-1:1:t", client=cast(Any, sns))
    origin = Origin(OriginKind.AGENT, "agt-1", "run-1")
    publisher.upserted(_state(1, None), origin=origin, correlation_id="c-1")
    publisher.upserted(_state(2, "cd" * 32), origin=origin, correlation_id="c-1")
    dropped = _state(3, "cd" * 32)
    publisher.dropped(AssetState(**{**dropped.__dict__, "status": Status.DROPPED}), request=_drop())
    parsed = [parse_message(body, type_attribute=t) for body, t in sns.sent]
    assert [p.event_type for p in parsed] == [
        "assets.asset.upserted.v1",
        "assets.asset.upserted.v1",
        "assets.asset.dropped.v1",
    ]
    assert {p.event_type for p in parsed} == set(MANIFEST["produces"])
    assert [p.data.model_dump().get("change") for p in parsed[:2]] == ["CREATED", "UPDATED"]


@pytest.mark.parametrize("kind", list(OriginKind))
def test_every_request_validates_and_parses_in_its_producer(kind: OriginKind) -> None:
    sqs = Capturing()
    sender = SqsRequestSender(upsert_queue_url="u", drop_queue_url="d", client=cast(Any, sqs))
    run = "run-1" if kind is OriginKind.AGENT else None
    assert sender.send_upserts([_upsert(Origin(kind, "evt-1", run), None)]) == set()
    assert sender.send_upserts([_upsert(Origin(kind, "evt-1", run), "cd" * 32)]) == set()
    assert sender.send_drops([_drop()]) == set()
    parsed = [parse_message(body, type_attribute=t) for body, t in sqs.sent]
    upsert = messages.upsert_request(parsed[0])
    assert upsert.location is None  # only s3:// locations travel in the message
    assert upsert.origin.kind is kind
    assert messages.drop_request(parsed[2]).last_hash == HASH


@pytest.mark.parametrize("event_type", ["assets.upsert.requested.v1", "assets.drop.requested.v1"])
def test_every_example_request_parses_in_its_producer(event_type: str) -> None:
    model = registry.model_for(event_type)
    read = messages.upsert_request if "upsert" in event_type else messages.drop_request
    for example in registry.schema_for(event_type)["examples"]:
        body = to_json(
            wrap(model.model_validate(example), correlation_id="c", source="rocket/contract")
        )
        assert read(parse_message(body)).asset_id == example["asset_id"]


@pytest.mark.parametrize("event_type", ["assets.table.observed.v1", "assets.run.completed.v1"])
def test_every_agent_event_example_parses_in_the_decisor(event_type: str) -> None:
    expected = Observation if event_type == "assets.table.observed.v1" else RunCompleted
    for example in registry.schema_for(event_type)["examples"]:
        assert isinstance(agent_events.parse(json.dumps(example).encode()), expected)


@pytest.mark.parametrize("event_type", sorted(MANIFEST["consumes"]))
def test_every_example_of_a_consumed_type_becomes_lake_assets(event_type: str) -> None:
    model = registry.model_for(event_type)
    translate = platform_assets.TRANSLATORS[event_type]
    for example in registry.schema_for(event_type)["examples"]:
        body = to_json(
            wrap(model.model_validate(example), correlation_id="c", source="rocket/contract")
        )
        found = translate(parse_message(body))
        # An etl announcement names its tables only when it wrote them (optional fields).
        outputs = example.get("outputs", {})
        tables = sum(k in outputs for k in ("trusted_table", "delivery_table"))
        # A compactor day with nothing in it announces no columns: no schema, no asset.
        compacted = 1 if example.get("columns") else 0
        assert len(found) == (tables if event_type.startswith("etl.") else compacted)
        client = cast(Any, Capturing())
        sender = SqsRequestSender(upsert_queue_url="u", drop_queue_url="d", client=client)
        for observation in found:
            assert sender.send_upserts([_upsert(observation.origin, None)]) == set()
            assert observation.asset.system == "glue"
