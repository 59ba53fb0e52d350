"""S3 notifications as S3 puts them on the queue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from etl_layers.events import InvalidNotificationError, RawObject, parse_s3_message

EVENTS = Path(__file__).parents[1] / "events"


def test_key_is_url_decoded() -> None:
    (obj,) = parse_s3_message((EVENTS / "s3-put-encoded-key.json").read_text())
    assert obj == RawObject(
        bucket="rocket-test-raw",
        key="transactions/2024/vendas de janeiro (São Paulo).csv",
        etag="d41d8cd98f00b204e9800998ecf8427e",
        version_id="096fKKXTRTtl3on89fVO.nfljtsv6qko",
        size=150,
    )


def test_plus_in_a_key_arrives_as_percent_2b() -> None:
    body = json.loads((EVENTS / "s3-put-encoded-key.json").read_text())
    body["Records"][0]["s3"]["object"]["key"] = "a+b%2Fc%2Bd.csv"
    (obj,) = parse_s3_message(json.dumps(body))
    assert obj.key == "a b/c+d.csv"


def test_test_event_is_ignored() -> None:
    assert parse_s3_message((EVENTS / "s3-test-event.json").read_text()) == []


def test_removal_events_are_ignored() -> None:
    body = json.loads((EVENTS / "s3-put-encoded-key.json").read_text())
    body["Records"][0]["eventName"] = "ObjectRemoved:Delete"
    assert parse_s3_message(json.dumps(body)) == []


def test_s3_event_inside_an_sns_notification() -> None:
    inner = (EVENTS / "s3-put-encoded-key.json").read_text()
    wrapped = json.dumps({"Type": "Notification", "MessageId": "m", "Message": inner})
    (obj,) = parse_s3_message(wrapped)
    assert obj.key.endswith("(São Paulo).csv")


@pytest.mark.parametrize("body", ["not json", "[]", '{"Records": []}', '{"Records": [{}]}'])
def test_anything_else_is_invalid(body: str) -> None:
    with pytest.raises(InvalidNotificationError):
        parse_s3_message(body)


@pytest.mark.parametrize("name", ["s3-object-removed.json", "eventbridge-object-created.json"])
def test_removed_and_eventbridge_shaped_events_are_acknowledged(name: str) -> None:
    assert parse_s3_message((EVENTS / name).read_text()) == []


def test_a_created_record_without_etag_is_still_invalid() -> None:
    body = json.loads((EVENTS / "s3-put-encoded-key.json").read_text())
    del body["Records"][0]["s3"]["object"]["eTag"]
    with pytest.raises(InvalidNotificationError):
        parse_s3_message(json.dumps(body))
