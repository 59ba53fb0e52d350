"""publish -> SNS -> SQS -> parse_record, on the emulator, and every way a message can be bad."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from moto import mock_aws
from pydantic import ValidationError
from rocket_contracts import bus, compat, registry, testing, validation
from rocket_contracts.envelope import CloudEvent
from rocket_contracts.models.assets.asset_upserted_v1 import AssetsAssetUpsertedV1
from rocket_contracts.models.assets.upsert_requested_v1 import AssetsUpsertRequestedV1
from rocket_contracts.models.compactor.compaction_requested_v1 import (
    CompactorCompactionRequestedV1,
)
from rocket_contracts.models.gapscraper.series_updated_v1 import GapscraperSeriesUpdatedV1

REGION = "us-east-1"
SOURCE = "rocket/compactor"


def _example(model: type[Any], index: int = 0) -> Any:
    return model.model_validate(
        registry.schema_for(registry.event_type_for(model))["examples"][index]
    )


@dataclass
class Bus:
    sns: Any
    sqs: Any
    topic_arn: str

    def subscribe(self, name: str, *, raw: bool, types: list[str]) -> tuple[str, str]:
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.sns.subscribe(
            TopicArn=self.topic_arn,
            Protocol="sqs",
            Endpoint=arn,
            Attributes={
                "RawMessageDelivery": "true" if raw else "false",
                "FilterPolicy": json.dumps({"type": types}),
            },
        )
        return url, arn

    def receive(self, url: str, arn: str) -> list[dict[str, Any]]:
        """Drain the queue into records shaped as Lambda hands them to a function."""
        response = self.sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        )
        return [_lambda_record(message, arn) for message in response.get("Messages", [])]


def _lambda_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    attributes = {
        name: {"stringValue": value.get("StringValue"), "dataType": value["DataType"]}
        for name, value in message.get("MessageAttributes", {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message["Attributes"],
        "messageAttributes": attributes,
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


@pytest.fixture
def aws_bus() -> Iterator[Bus]:
    with mock_aws():
        session = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        sns = session.client("sns")
        topic_arn = sns.create_topic(Name="rocket-test-events")["TopicArn"]
        yield Bus(sns=sns, sqs=session.client("sqs"), topic_arn=topic_arn)


@pytest.mark.parametrize("raw", [True, False], ids=["raw-delivery", "sns-envelope"])
def test_published_event_round_trips_through_sns_and_sqs(aws_bus: Bus, raw: bool) -> None:
    sent = _example(GapscraperSeriesUpdatedV1)
    url, arn = aws_bus.subscribe("consumer", raw=raw, types=["gapscraper.series.updated.v1"])

    envelope = bus.publish(
        aws_bus.topic_arn,
        sent,
        correlation_id="req-42",
        sns_client=aws_bus.sns,
        source="rocket/gap-scraper",
        subject="CURRENCY#USD",
    )
    (record,) = aws_bus.receive(url, arn)
    parsed = bus.parse_record(record)

    assert parsed.event_type == "gapscraper.series.updated.v1"
    assert parsed.data == sent
    assert parsed.data_as(GapscraperSeriesUpdatedV1).series_key == "CURRENCY#USD"
    assert parsed.envelope.model_dump(mode="json") == envelope.model_dump(mode="json")
    assert parsed.correlation_id == "req-42"
    assert parsed.envelope.source == "rocket/gap-scraper"
    assert parsed.envelope.subject == "CURRENCY#USD"
    assert str(parsed.envelope.dataschema) == registry.schema_id(parsed.event_type)


def test_type_attribute_drives_subscription_filters(aws_bus: Bus) -> None:
    url, arn = aws_bus.subscribe("compactor", raw=True, types=["compactor.compaction.requested.v1"])

    for model in (GapscraperSeriesUpdatedV1, CompactorCompactionRequestedV1):
        bus.publish(
            aws_bus.topic_arn,
            _example(model),
            correlation_id="req-1",
            sns_client=aws_bus.sns,
            source=SOURCE,
        )
    records = aws_bus.receive(url, arn)

    assert [bus.parse_record(r).event_type for r in records] == [
        "compactor.compaction.requested.v1"
    ]
    assert (
        records[0]["messageAttributes"]["type"]["stringValue"]
        == "compactor.compaction.requested.v1"
    )


def test_required_null_is_kept_and_unset_optionals_are_left_out(aws_bus: Bus) -> None:
    created = _example(AssetsUpsertRequestedV1)
    assert created.previous_hash is None
    assert created.location is None
    url, arn = aws_bus.subscribe("assets", raw=True, types=["assets.upsert.requested.v1"])

    bus.publish(
        aws_bus.topic_arn, created, correlation_id="r", sns_client=aws_bus.sns, source=SOURCE
    )
    (record,) = aws_bus.receive(url, arn)
    data = json.loads(record["body"])["data"]

    assert data["previous_hash"] is None
    assert "location" not in data
    assert bus.parse_record(record).data == created


class RecordingSns:
    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, **kwargs: Any) -> dict[str, Any]:
        self.published.append(kwargs)
        return {"MessageId": "m-1"}


def test_publish_refuses_a_model_that_breaks_its_schema() -> None:
    bad = CompactorCompactionRequestedV1.model_construct(
        **{**_example(CompactorCompactionRequestedV1).model_dump(), "request_id": "has spaces"}
    )
    sns = RecordingSns()

    with pytest.raises(bus.ContractViolation) as caught:
        bus.publish(
            "arn:aws:sns:us-east-1:123456789012:t",
            bad,
            correlation_id="r",
            sns_client=sns,
            source=SOURCE,
        )

    assert any(error.startswith("$.data.request_id:") for error in caught.value.errors)
    assert sns.published == []


def test_publish_refuses_a_bad_source_or_correlation_id() -> None:
    sns = RecordingSns()
    event = _example(CompactorCompactionRequestedV1)

    with pytest.raises(bus.ContractViolation) as caught:
        bus.publish("arn:t", event, correlation_id=" ", sns_client=sns, source="compactor")

    assert {e.split(":")[0] for e in caught.value.errors} == {"$.source", "$.correlationid"}
    assert sns.published == []


def test_publish_refuses_a_message_too_large_for_sns() -> None:
    example = registry.schema_for("assets.upsert.requested.v1")["examples"][0]
    columns = [
        {"name": f"c{i:04d}" + "x" * 200, "type": "varchar(255)", "nullable": True}
        for i in range(2000)
    ]
    huge = AssetsUpsertRequestedV1.model_validate({**example, "columns": columns})
    sns = RecordingSns()

    with pytest.raises(bus.ContractViolation, match="oversized"):
        bus.publish("arn:t", huge, correlation_id="r", sns_client=sns, source=SOURCE)

    assert sns.published == []


def test_publish_refuses_a_model_that_is_not_a_contract() -> None:
    envelope = CloudEvent.model_validate(registry.envelope_schema()["examples"][0])

    with pytest.raises(registry.UnknownEventTypeError):
        bus.publish("arn:t", envelope, correlation_id="r", sns_client=RecordingSns(), source=SOURCE)


# -- parse_record: what is not a contract message ---------------------------------------------


@pytest.fixture
def good_record() -> dict[str, Any]:
    return testing.sqs_record_for(_example(GapscraperSeriesUpdatedV1), correlation_id="req-7")


def _with_body(record: dict[str, Any], body: str) -> dict[str, Any]:
    return {**record, "body": body}


def _envelope(record: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(record["body"])
    return loaded


def _violation(record: Any) -> bus.ContractViolation:
    with pytest.raises(bus.ContractViolation) as caught:
        bus.parse_record(record)
    assert isinstance(caught.value, ValueError)
    assert caught.value.errors, "a violation always says what is wrong"
    return caught.value


def test_parse_accepts_a_powertools_record_and_a_plain_dict(good_record: dict[str, Any]) -> None:
    from_dict = bus.parse_record(good_record)
    from_powertools = bus.parse_record(SQSRecord(copy.deepcopy(good_record)))

    assert from_dict.data == from_powertools.data == _example(GapscraperSeriesUpdatedV1)


def test_invalid_json_body(good_record: dict[str, Any]) -> None:
    violation = _violation(_with_body(good_record, "{not json"))
    assert "not JSON" in str(violation)


def test_body_that_is_not_an_object(good_record: dict[str, Any]) -> None:
    violation = _violation(_with_body(good_record, "[1, 2]"))
    assert "not a JSON object" in str(violation)


def test_unknown_event_type(good_record: dict[str, Any]) -> None:
    envelope = _envelope(good_record)
    envelope["type"] = "gapscraper.series.exploded.v1"
    record = _with_body(good_record, json.dumps(envelope))
    record["messageAttributes"] = {}

    violation = _violation(record)

    assert violation.errors == ["$.type: no contract schema for 'gapscraper.series.exploded.v1'"]


def test_data_that_does_not_match_its_schema(good_record: dict[str, Any]) -> None:
    envelope = _envelope(good_record)
    envelope["data"]["sgs_code"] = 0
    del envelope["data"]["series_key"]

    violation = _violation(_with_body(good_record, json.dumps(envelope)))

    assert any(e.startswith("$.data.sgs_code:") for e in violation.errors)
    assert any("'series_key' is a required property" in e for e in violation.errors)


@pytest.mark.parametrize("missing", ["id", "source", "type", "specversion", "data"])
def test_envelope_missing_an_attribute_cloudevents_requires(
    good_record: dict[str, Any], missing: str
) -> None:
    envelope = _envelope(good_record)
    del envelope[missing]

    violation = _violation(_with_body(good_record, json.dumps(envelope)))

    assert f"$: '{missing}' is a required property" in violation.errors


@pytest.mark.parametrize("missing", ["time", "subject", "dataschema", "datacontenttype"])
def test_envelope_without_an_optional_attribute_is_read(
    good_record: dict[str, Any], missing: str
) -> None:
    envelope = _envelope(good_record)
    envelope.pop(missing, None)

    parsed = bus.parse_record(_with_body(good_record, json.dumps(envelope)))

    assert parsed.data == _example(GapscraperSeriesUpdatedV1)
    assert getattr(parsed.envelope, missing) is None


def test_correlation_id_is_the_event_id_without_the_extension(
    good_record: dict[str, Any],
) -> None:
    envelope = _envelope(good_record)
    del envelope["correlationid"]

    parsed = bus.parse_record(_with_body(good_record, json.dumps(envelope)))

    assert parsed.correlation_id == envelope["id"]


def test_an_id_that_cannot_travel_as_a_correlation_id_gets_a_stable_one(
    good_record: dict[str, Any],
) -> None:
    envelope = _envelope(good_record)
    del envelope["correlationid"]
    envelope["id"] = "run #42 (retry)"
    record = _with_body(good_record, json.dumps(envelope))

    first, again = bus.parse_record(record).correlation_id, bus.parse_record(record).correlation_id

    assert first == again
    assert first.startswith("ce-")
    # What Rocket's writers accept: the gate can put it on the events it publishes.
    bus.wrap(_example(GapscraperSeriesUpdatedV1), correlation_id=first, source=SOURCE)


@pytest.mark.parametrize(
    "source", ["https://airflow.example.com/dags/daily", "/cron/nightly", "urn:team:x", "a"]
)
def test_any_uri_reference_is_a_source(good_record: dict[str, Any], source: str) -> None:
    envelope = _envelope(good_record)
    envelope["source"] = source

    assert bus.parse_record(_with_body(good_record, json.dumps(envelope))).envelope.source == source


@pytest.mark.parametrize("source", ["", "has space"])
def test_source_that_is_no_uri_reference(good_record: dict[str, Any], source: str) -> None:
    envelope = _envelope(good_record)
    envelope["source"] = source

    violation = _violation(_with_body(good_record, json.dumps(envelope)))

    assert [e for e in violation.errors if e.startswith("$.source:")], violation.errors


def test_envelope_with_a_bad_time(good_record: dict[str, Any]) -> None:
    envelope = _envelope(good_record)
    envelope["time"] = "yesterday"

    violation = _violation(_with_body(good_record, json.dumps(envelope)))

    assert [e for e in violation.errors if e.startswith("$.time:")], violation.errors


def test_extension_attributes_are_kept(good_record: dict[str, Any]) -> None:
    # CloudEvents lets producers add extension attributes; a consumer that does not know one
    # reads the event anyway and can still see it.
    envelope = _envelope(good_record)
    envelope["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    envelope["airflowdagrun"] = "scheduled__2026-11-22"
    envelope["attempt"] = 3

    parsed = bus.parse_record(_with_body(good_record, json.dumps(envelope)))

    assert parsed.ignored == ()
    assert parsed.traceparent == envelope["traceparent"]
    assert parsed.extensions == {
        "correlationid": "req-7",
        "traceparent": envelope["traceparent"],
        "airflowdagrun": "scheduled__2026-11-22",
        "attempt": 3,
    }
    assert parsed.data == _example(GapscraperSeriesUpdatedV1)


@pytest.mark.parametrize(
    ("name", "value"),
    [("Not_An_Attribute", "x"), ("traceparent", "00-abc"), ("correlationid", " spaced")],
)
def test_extension_that_breaks_the_rules(
    good_record: dict[str, Any], name: str, value: str
) -> None:
    envelope = _envelope(good_record)
    envelope[name] = value

    violation = _violation(_with_body(good_record, json.dumps(envelope)))

    assert violation.summary == "not a CloudEvent"


def test_traceparent_is_written_when_carried() -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    event = bus.wrap(
        _example(GapscraperSeriesUpdatedV1),
        correlation_id="r",
        source=SOURCE,
        traceparent=traceparent,
    )

    assert json.loads(bus.to_json(event))["traceparent"] == traceparent


# -- tolerant reader: a consumer built on the old schema reads a newer producer's message ------


UPSERTED = "assets.asset.upserted.v1"


def _newer_schema() -> dict[str, Any]:
    """assets.asset.upserted.v1 as a later, compatible edit of the file: optional fields added
    at the top, in a nested object and in the objects of an array (all through $defs)."""
    newer = copy.deepcopy(registry.schema_for(UPSERTED))
    text = {"description": "Added later.", "type": "string"}
    newer["properties"]["steward"] = text
    newer["$defs"]["asset"]["properties"]["schema_name"] = text
    newer["$defs"]["column"]["properties"]["comment"] = text
    return newer


def _newer_producer_record() -> dict[str, Any]:
    data = copy.deepcopy(registry.schema_for(UPSERTED)["examples"][0])
    data["steward"] = "data-platform"
    data["asset"]["schema_name"] = "public"
    data["columns"][1]["comment"] = "buyer"
    # What a producer built on the newer schema sends: validated against its own schema.
    assert validation.errors(_newer_schema(), data) == []
    envelope = _envelope(testing.sqs_record_for(_example(AssetsAssetUpsertedV1), source=SOURCE))
    envelope["data"] = data
    return testing.sqs_record(json.dumps(envelope), message_attributes={"type": UPSERTED})


def test_gate_and_reader_agree_an_added_optional_field_reaches_old_consumers() -> None:
    old = registry.schema_for(UPSERTED)
    record = _newer_producer_record()

    # The gate lets the edit through within v1 with nothing for consumers to deploy first ...
    assert compat.check(old, _newer_schema()) == []
    assert compat.widenings(old, _newer_schema()) == []
    # ... a strict reader on the old schema would quarantine the newer producer's message ...
    assert validation.errors(old, _envelope(record)["data"]) != []
    # ... and the tolerant reader (this consumer, built on the old file) reads it.
    parsed = bus.parse_record(record)

    assert parsed.ignored == (
        "$.data.asset.schema_name",
        "$.data.columns[1].comment",
        "$.data.steward",
    )
    assert parsed.data == _example(AssetsAssetUpsertedV1)
    assert "steward" not in parsed.envelope.data


def test_tolerant_reader_still_checks_every_declared_field() -> None:
    record = _newer_producer_record()
    envelope = _envelope(record)
    envelope["data"]["version"] = 0
    del envelope["data"]["asset"]["table"]

    violation = _violation(_with_body(record, json.dumps(envelope)))

    assert any(e.startswith("$.data.version:") for e in violation.errors), violation.errors
    assert any("'table' is a required property" in e for e in violation.errors)
    assert not any("steward" in e or "schema_name" in e for e in violation.errors)


def test_writers_stay_strict_about_undeclared_fields() -> None:
    data = copy.deepcopy(registry.schema_for(UPSERTED)["examples"][0])
    data["steward"] = "data-platform"

    with pytest.raises(ValidationError):
        AssetsAssetUpsertedV1.model_validate(data)
    # publish validates the dumped model against the full schema: nothing undeclared passes.
    assert any("steward" in e for e in validation.errors(registry.schema_for(UPSERTED), data))


def test_type_attribute_that_disagrees_with_the_envelope(good_record: dict[str, Any]) -> None:
    good_record["messageAttributes"]["type"]["stringValue"] = "ingest.job.requested.v1"

    violation = _violation(good_record)

    assert "message attribute type" in violation.errors[0]


def test_dataschema_that_disagrees_with_the_type(good_record: dict[str, Any]) -> None:
    envelope = _envelope(good_record)
    envelope["dataschema"] = registry.schema_id("ingest.job.requested.v1")

    violation = _violation(_with_body(good_record, json.dumps(envelope)))

    assert any(e.startswith("$.dataschema:") for e in violation.errors)


def test_sns_envelope_around_a_message_that_is_not_json(good_record: dict[str, Any]) -> None:
    record = _with_body(good_record, testing.sns_notification("plain text"))
    record["messageAttributes"] = {}

    violation = _violation(record)

    assert "SNS Message is not JSON" in str(violation)


def test_something_that_is_not_an_sqs_record(good_record: dict[str, Any]) -> None:
    violation = _violation({"body": good_record["body"]})

    assert any(e.startswith("record.messageId") for e in violation.errors)


def test_data_as_refuses_another_type(good_record: dict[str, Any]) -> None:
    parsed = bus.parse_record(good_record)

    with pytest.raises(
        bus.ContractViolation, match=re.escape("expected 'compactor.compaction.requested.v1'")
    ):
        parsed.data_as(CompactorCompactionRequestedV1)
