"""Any CloudEvents 1.0 producer can talk to Rocket: events written by the official CloudEvents
Python SDK (not by rocket_contracts) are read by a consumer, raw, SNS-enveloped, and as the
SNS -> SQS subscription delivers them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from cloudevents.core.bindings.http import to_structured_event
from cloudevents.core.v1.event import CloudEvent as SdkCloudEvent
from moto import mock_aws
from rocket_contracts import bus, testing
from rocket_contracts.models.ingest.job_requested_v1 import IngestJobRequestedV1

EVENT_TYPE = "ingest.job.requested.v1"
AIRFLOW = "https://airflow.example.com/dags/daily"
DATA = {
    "transaction_id": "tx-airflow-0001",
    "job_name": "rocket-local-etl-layers-reprocess",
    "requested_by": "airflow/daily",
    "requested_at": "2026-11-22T03:00:00Z",
}
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def sdk_body(**attributes: Any) -> str:
    """What a producer using the SDK puts on the wire (structured mode, JSON)."""
    event = SdkCloudEvent(
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "type": EVENT_TYPE,
            "source": AIRFLOW,
            **attributes,
        },
        dict(DATA),
    )
    body: bytes = to_structured_event(event).body
    return body.decode("utf-8")


def test_a_raw_sdk_event_is_read() -> None:
    body = sdk_body()

    parsed = bus.parse_message(body)

    request = parsed.data_as(IngestJobRequestedV1)
    assert request.transaction_id == "tx-airflow-0001"
    assert parsed.envelope.source == AIRFLOW
    assert parsed.envelope.dataschema is None
    assert parsed.correlation_id == json.loads(body)["id"]
    assert parsed.traceparent is None


def test_an_sns_enveloped_sdk_event_is_read() -> None:
    body = sdk_body(correlationid="req-airflow-7")

    parsed = bus.parse_message(testing.sns_notification(body, event_type=EVENT_TYPE))

    assert parsed.event_type == EVENT_TYPE
    assert parsed.correlation_id == "req-airflow-7"


def test_sdk_extensions_are_carried() -> None:
    body = sdk_body(traceparent=TRACEPARENT, airflowdagrun="scheduled-2026-11-22", attempt=2)

    parsed = bus.parse_record(testing.sqs_record(body, message_attributes={"type": EVENT_TYPE}))

    assert parsed.traceparent == TRACEPARENT
    assert parsed.extensions == {
        "traceparent": TRACEPARENT,
        "airflowdagrun": "scheduled-2026-11-22",
        "attempt": 2,
    }


def test_an_sdk_event_with_data_outside_its_contract_is_still_poison() -> None:
    event = SdkCloudEvent(
        {"specversion": "1.0", "id": "1", "type": EVENT_TYPE, "source": AIRFLOW},
        {"transaction_id": "tx-1"},
    )

    with pytest.raises(bus.ContractViolation) as caught:
        bus.parse_message(to_structured_event(event).body.decode("utf-8"))

    assert any("'job_name' is a required property" in e for e in caught.value.errors)


@pytest.fixture
def subscribed_queue() -> Iterator[tuple[Any, Any, str, dict[str, str]]]:
    """The shared topic and a consumer queue subscribed as every template subscribes one
    (filter policy on ``type``), with and without raw delivery."""
    with mock_aws():
        session = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        sns, sqs = session.client("sns"), session.client("sqs")
        topic = sns.create_topic(Name="rocket-local-events")["TopicArn"]
        urls: dict[str, str] = {}
        for raw in ("true", "false"):
            url = sqs.create_queue(QueueName=f"consumer-raw-{raw}")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
            sns.subscribe(
                TopicArn=topic,
                Protocol="sqs",
                Endpoint=arn["Attributes"]["QueueArn"],
                Attributes={
                    "RawMessageDelivery": raw,
                    "FilterPolicy": json.dumps({"type": [EVENT_TYPE]}),
                },
            )
            urls[raw] = url
        yield sns, sqs, topic, urls


def _lambda_record(message: dict[str, Any]) -> dict[str, Any]:
    attributes = {
        name: value["StringValue"] for name, value in message.get("MessageAttributes", {}).items()
    }
    return testing.sqs_record(message["Body"], message_attributes=attributes)


@pytest.mark.parametrize("raw", ["true", "false"], ids=["raw-delivery", "sns-envelope"])
def test_an_sdk_event_published_to_the_topic_reaches_the_consumer(
    subscribed_queue: tuple[Any, Any, str, dict[str, str]], raw: str
) -> None:
    sns, sqs, topic, urls = subscribed_queue
    body = sdk_body(traceparent=TRACEPARENT)

    sns.publish(
        TopicArn=topic,
        Message=body,
        MessageAttributes={"type": {"DataType": "String", "StringValue": EVENT_TYPE}},
    )
    messages = sqs.receive_message(
        QueueUrl=urls[raw], MessageAttributeNames=["All"], AttributeNames=["All"]
    )["Messages"]

    (parsed,) = [bus.parse_record(_lambda_record(message)) for message in messages]
    assert parsed.data_as(IngestJobRequestedV1).job_name == DATA["job_name"]
    assert parsed.envelope.source == AIRFLOW
    assert parsed.traceparent == TRACEPARENT
