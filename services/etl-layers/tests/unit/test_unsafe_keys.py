"""A RAW key that could escape a prefix (`..`, absolute, control or bidi characters, over-long)
is quarantined whole with the reason, under `_unrouted/`, and routes to no dataset; the valid
objects of the same batch are processed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
from etl_layers.events import InvalidNotificationError, RawObject, parse_s3_message
from etl_layers.handlers.etl import handler
from etl_layers.pipeline import UNROUTED, Pipeline, Status, stem_for
from rocket_contracts.edge import key_problem
from rocket_contracts.testing import RecordingDeadLetters

SAMPLE = (
    b"id,name,amount,date,category\n"
    b"1,Transaction A,150.50,2024-01-15,Sales\n"
    b"2,Transaction B,75.25,2024-01-16,Marketing\n"
)

UNSAFE = [
    ("transactions/../../etc/passwd", "'..' segment 1", "passwd"),
    ("/transactions/a.csv", "absolute (starts with '/')", "a.csv"),
    ("transactions/a/../../b.csv", "'..' segment 2", "b.csv"),
    ("transactions/..", "'..' segment 1", "object"),
    ("transactions/%2e%2e/%2E%2E/x.csv", "'..' segment 1 once percent-decoded", "x.csv"),
    ("transactions\\..\\x.csv", "backslash at 12", "object"),
    ("transactions/a\x00.csv", "control or formatting character U+0000 at 14", "object"),
    ("transactions/in\u202evsc.exe", "control or formatting character U+202E at 15", "object"),
    ("transactions//a.csv", "empty segment 1", "a.csv"),
    ("transactions/" + "x" * 10_000 + ".csv", "10017 bytes long, more than 1024", "object"),
]


def _all_keys(store: Any) -> dict[str, list[str]]:
    return {b: store.keys(b) for b in ("trusted", "delivery", "quarantine")}


@pytest.mark.parametrize(("key", "problem", "copy_name"), UNSAFE)
def test_an_unsafe_key_is_quarantined_with_its_reason(
    pipeline: Pipeline, store: Any, tmp_path: Path, key: str, problem: str, copy_name: str
) -> None:
    raw = store.put("raw", key, SAMPLE)
    stem = stem_for(raw)

    outcome = pipeline.process(raw)

    assert outcome.status is Status.FILE_QUARANTINED
    assert outcome.reason == f"unsafe key: {problem}"
    assert _all_keys(store) == {
        "trusted": [f"_manifests/{UNROUTED}/{stem}.json"],
        "delivery": [],
        "quarantine": sorted(
            [f"{UNROUTED}/files/{stem}/{copy_name}", f"{UNROUTED}/files/{stem}/reason.json"]
        ),
    }
    reason = json.loads(store.objects[("quarantine", f"{UNROUTED}/files/{stem}/reason.json")])
    assert reason["reason"] == f"unsafe key: {problem}"
    assert reason["source"] == f"s3://raw/{key}"
    assert reason["dataset"] == UNROUTED
    assert pipeline.publisher.published == []  # type: ignore[attr-defined]
    # Nothing was read into, or written beside, the work directory.
    assert [p.name for p in tmp_path.iterdir()] == ["work"]
    assert list((tmp_path / "work").iterdir()) == []


@pytest.mark.parametrize(("key", "_problem", "_copy"), UNSAFE)
def test_every_name_written_for_an_unsafe_key_is_itself_safe(
    pipeline: Pipeline, store: Any, key: str, _problem: str, _copy: str
) -> None:
    pipeline.process(store.put("raw", key, SAMPLE))

    written = [k for keys in _all_keys(store).values() for k in keys]
    assert written
    assert [k for k in written if key_problem(k) is not None] == []


def test_an_unsafe_key_is_quarantined_once_however_often_it_is_delivered(
    pipeline: Pipeline, store: Any
) -> None:
    raw = store.put("raw", "transactions/../x.csv", SAMPLE)

    first = pipeline.process(raw)
    keys = _all_keys(store)
    again = pipeline.process(RawObject(raw.bucket, raw.key, raw.etag, size=raw.size))

    assert (first.status, again.status) == (Status.FILE_QUARANTINED, Status.ALREADY_DONE)
    assert _all_keys(store) == keys


@dataclass
class _Context:
    function_name: str = "rocket-test-etl-layers-etl"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:etl"
    aws_request_id: str = "req-1"


def _record(index: int, raw: RawObject) -> dict[str, Any]:
    s3 = {
        "bucket": {"name": raw.bucket},
        # What S3 puts on the queue: the key URL-encoded, spaces as '+'.
        "object": {"key": quote_plus(raw.key, safe="/"), "eTag": raw.etag, "size": raw.size},
    }
    body = {"Records": [{"eventName": "ObjectCreated:Put", "s3": s3}]}
    return {
        "messageId": f"m-{index}",
        "receiptHandle": f"r-{index}",
        "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:raw-events",
        "awsRegion": "us-east-1",
    }


def test_a_batch_processes_its_valid_objects_beside_unsafe_keys(
    pipeline: Pipeline, store: Any
) -> None:
    objects = [store.put("raw", key, SAMPLE) for key, _problem, _copy in UNSAFE[:8]]
    good = store.put("raw", "transactions/2024/good file.csv", SAMPLE)
    records = [_record(i, raw) for i, raw in enumerate([*objects, good])]

    response = handler({"Records": records}, _Context(), pipeline=pipeline)

    assert response == {"batchItemFailures": []}
    published = pipeline.publisher.published  # type: ignore[attr-defined]
    assert [event["source"]["key"] for event, _cid, _subject in published] == [good.key]
    reasons = sorted(
        json.loads(store.objects[("quarantine", k)])["reason"]
        for k in store.keys("quarantine")
        if k.endswith("/reason.json")
    )
    assert reasons == sorted(f"unsafe key: {problem}" for _key, problem, _copy in UNSAFE[:8])
    assert all(k.startswith(f"{UNROUTED}/files/") for k in store.keys("quarantine"))
    assert all(k.startswith("transactions/") for k in store.keys("delivery"))


def test_a_message_that_is_not_an_s3_notification_goes_to_the_dlq_with_its_reason(
    pipeline: Pipeline, store: Any
) -> None:
    good = store.put("raw", "transactions/2024/good.csv", SAMPLE)
    broken = {**_record(0, good), "messageId": "m-broken", "body": '{"Records": "nope"'}
    dead_letters = RecordingDeadLetters()

    response = handler(
        {"Records": [broken, _record(1, good)]},
        _Context(),
        pipeline=pipeline,
        dead_letters=dead_letters,
    )

    assert response == {"batchItemFailures": []}
    [(body, reason, detail, message_id)] = dead_letters.sent
    assert (body, reason, message_id) == ('{"Records": "nope"', "invalid_notification", "m-broken")
    assert detail
    published = pipeline.publisher.published  # type: ignore[attr-defined]
    assert [event["source"]["key"] for event, _cid, _subject in published] == [good.key]


def test_when_the_dlq_cannot_be_reached_the_invalid_message_fails_alone(
    pipeline: Pipeline, store: Any
) -> None:
    good = store.put("raw", "transactions/2024/good.csv", SAMPLE)
    broken = {**_record(0, good), "messageId": "m-broken", "body": "not json"}

    response = handler(
        {"Records": [broken, _record(1, good)]},
        _Context(),
        pipeline=pipeline,
        dead_letters=RecordingDeadLetters(fail_with=ConnectionError("sqs down")),
    )

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-broken"}]}
    assert len(pipeline.publisher.published) == 1  # type: ignore[attr-defined]


EVENT = Path(__file__).parents[1] / "events" / "s3-put-encoded-key.json"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        # Which Records a reader acts on would depend on the JSON library: neither.
        (EVENT.read_text().rstrip()[:-1] + ', "Records": []}', "duplicate key 'Records'"),
        ('{"Records": ' + "[" * 40 + "]" * 40 + "}", "nested more than 32 levels deep"),
        (
            json.dumps({"Type": "Notification", "Message": '{"Event":1,"Event":2}'}),
            "duplicate key 'Event'",
        ),
    ],
)
def test_a_notification_that_is_not_plain_json_is_invalid(body: str, reason: str) -> None:
    with pytest.raises(InvalidNotificationError) as caught:
        parse_s3_message(body)
    assert str(caught.value) == reason


def test_a_long_but_safe_file_name_is_processed(pipeline: Pipeline, store: Any) -> None:
    # S3 takes a 300-character segment; a local file system (255 bytes a name) does not.
    raw = store.put("raw", "transactions/" + "x" * 300 + ".csv", SAMPLE)

    outcome = pipeline.process(raw)

    assert outcome.status is Status.PUBLISHED
    assert all(key_problem(k) is None for k in store.keys("trusted") + store.keys("delivery"))
