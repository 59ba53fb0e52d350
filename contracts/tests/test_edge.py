"""Input from outside never becomes a name outside its prefix, and the bus reads only bounded,
unambiguous JSON: duplicate keys, deep nesting and oversized bodies are contract violations."""

from __future__ import annotations

import json
from posixpath import normpath
from typing import Any

import pytest
from rocket_contracts import bus, edge, registry, testing, validation
from rocket_contracts.models.ingest.job_requested_v1 import IngestJobRequestedV1

NASTY_KEYS = [
    ("../../etc/passwd", "'..' segment 0"),
    ("/abs/file.csv", "absolute (starts with '/')"),
    ("a/../../b", "'..' segment 1"),
    ("ds/..", "'..' segment 1"),
    ("ds/./x", "'.' segment 1"),
    ("ds/%2e%2e/%2E%2E/x", "'..' segment 1 once percent-decoded"),
    ("ds/a%2F..%2Fb", "'..' segment 2 once percent-decoded"),
    ("ds/a\\..\\b", "backslash at 4"),
    ("ds/a\x00b", "control or formatting character U+0000 at 4"),
    ("ds/a\nb", "control or formatting character U+000A at 4"),
    ("ds/a\x7fb", "control or formatting character U+007F at 4"),
    ("ds/invoice\u202egpj.exe", "control or formatting character U+202E at 10"),
    ("ds/zero\u200bwidth", "control or formatting character U+200B at 7"),
    ("ds/lone\ud800", "control or formatting character U+D800 at 7"),
    ("ds//x", "empty segment 1"),
    ("ds/x/", "empty segment 2"),
    ("", "empty"),
    ("ds/" + "x" * 10_000, "10003 bytes long, more than 1024"),
]


@pytest.mark.parametrize(("key", "reason"), NASTY_KEYS)
def test_unsafe_keys_are_refused_with_their_reason(key: str, reason: str) -> None:
    assert edge.key_problem(key) == reason
    with pytest.raises(edge.UnsafeInputError) as caught:
        edge.require_key(key, what="RAW key")
    assert caught.value.reason == f"unsafe RAW key: {reason}"


@pytest.mark.parametrize(
    "key",
    [
        "transactions/2026/11/21/file.csv",
        "ds/café año.csv",
        "ds/50%off.csv",
        "ds/a..b/c...d.csv",
        "ds/.hidden",
        "x" * 1024,
    ],
)
def test_ordinary_keys_pass(key: str) -> None:
    assert edge.key_problem(key) is None
    assert edge.require_key(key) == key


@pytest.mark.parametrize(("key", "_reason"), NASTY_KEYS)
def test_what_passes_stays_under_its_prefix(key: str, _reason: str) -> None:
    # The property the rule exists for: anything accepted joins under a prefix and stays there.
    for candidate in (key, f"ok/{key}", key.replace("..", "x")):
        if edge.key_problem(candidate) is None:
            joined = normpath(f"prefix/{candidate}")
            assert joined.startswith("prefix/")
            assert "\\" not in joined
            assert joined == f"prefix/{candidate}"


def test_a_segment_cannot_carry_a_separator() -> None:
    assert edge.segment_problem("a/b") == "'/' at 1"
    assert edge.segment_problem("..") == "'..' segment 0"
    assert edge.segment_problem("x" * 256) == "256 bytes long, more than 255"
    assert edge.segment_problem("orders") is None


def test_a_value_that_is_not_text_is_refused() -> None:
    assert edge.key_problem(None) == "not a string (NoneType)"
    assert edge.key_problem(7) == "not a string (int)"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a": 1, "b": 2, "a": 3}', "duplicate key 'a'"),
        ('{"x": [{"k": 1, "k": 1}]}', "duplicate key 'k'"),
        ("[" * 33 + "]" * 33, "nested more than 32 levels deep"),
        ('{"a":' * 40 + "1" + "}" * 40, "nested more than 32 levels deep"),
        ("[" * 200_000 + "]" * 200_000, "nested more than 32 levels deep"),
        ('{"a": NaN}', "NaN is not JSON"),
        ('{"a": -Infinity}', "-Infinity is not JSON"),
    ],
)
def test_loads_refuses_ambiguous_or_unbounded_json(text: str, reason: str) -> None:
    with pytest.raises(edge.UnsafeInputError) as caught:
        edge.loads(text)
    assert caught.value.reason == reason


def test_loads_reads_ordinary_json_as_json_does() -> None:
    text = json.dumps({"a": [1, 2.5, None, True, {"b": "c"}], "d": "é"})

    assert edge.loads(text) == json.loads(text)
    assert edge.loads("[" * 32 + "]" * 32) == json.loads("[" * 32 + "]" * 32)
    with pytest.raises(json.JSONDecodeError):
        edge.loads("{not json")


def _request() -> IngestJobRequestedV1:
    example = registry.schema_for("ingest.job.requested.v1")["examples"][0]
    return IngestJobRequestedV1.model_validate(example)


def _body(record: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(record["body"])
    return loaded


def _violation(body: str) -> bus.ContractViolation:
    record = testing.sqs_record(body)
    with pytest.raises(bus.ContractViolation) as caught:
        bus.parse_record(record)
    return caught.value


def test_duplicate_envelope_keys_are_a_contract_violation() -> None:
    good = testing.sqs_record_for(_request())["body"]
    # Two readers could disagree on which type this is: neither may act on it.
    body = good[:-1] + ',"type":"assets.drop.requested.v1"}'

    violation = _violation(body)

    assert violation.summary == "message body is not acceptable JSON"
    assert violation.errors == ["$: duplicate key 'type'"]


def test_duplicate_keys_inside_an_sns_message_are_a_contract_violation() -> None:
    good = testing.sqs_record_for(_request())["body"]
    inner = good[:-1] + ',"id":"other"}'

    violation = _violation(testing.sns_notification(inner))

    assert violation.summary == "SNS Message is not acceptable JSON"
    assert violation.errors == ["$: duplicate key 'id'"]


def test_deeply_nested_data_is_a_contract_violation() -> None:
    envelope = _body(testing.sqs_record_for(_request()))
    deep: list[Any] = []
    for _ in range(40):
        deep = [deep]
    envelope["data"]["arguments"] = {"deep": deep}

    violation = _violation(json.dumps(envelope))

    assert violation.summary == "message body is not acceptable JSON"
    assert violation.errors == ["$: nested more than 32 levels deep"]


def test_a_cloudevent_over_the_bus_limit_is_a_contract_violation() -> None:
    envelope = _body(testing.sqs_record_for(_request()))
    envelope["padding"] = "x" * bus.MAX_MESSAGE_BYTES
    body = json.dumps(envelope)

    raw = _violation(body)
    wrapped = _violation(testing.sns_notification(body))

    assert raw.summary == "message body is too large"
    assert raw.errors == [f"$: {len(body)} bytes; at most {bus.MAX_MESSAGE_BYTES}"]
    assert wrapped.summary == "SNS Message is too large"


def test_a_body_over_the_sqs_limit_is_refused_before_it_is_parsed() -> None:
    body = "[" * (bus.MAX_BODY_BYTES + 1)

    violation = _violation(body)

    assert violation.summary == "message body is too large"
    assert violation.errors == [f"$: {len(body)} bytes; at most {bus.MAX_BODY_BYTES}"]


def test_a_message_just_under_the_limit_is_read() -> None:
    envelope = _body(testing.sqs_record_for(_request()))
    # An extension attribute (kept, not validated) pads the event to exactly the limit.
    envelope["padding"] = ""
    room = bus.MAX_MESSAGE_BYTES - len(json.dumps(envelope).encode())
    envelope["padding"] = "x" * room
    body = json.dumps(envelope)
    assert len(body.encode()) == bus.MAX_MESSAGE_BYTES

    parsed = bus.parse_record(testing.sqs_record(body))

    assert parsed.data_as(IngestJobRequestedV1) == _request()


NASTY_NAMES = [
    "../../etc",
    "/abs",
    "a/../../b",
    "%2e%2e",
    "x\x00",
    "x\u202egpj",
    "x\\y",
    "x" * 10_000,
    # Python's `$` matches before a final newline; a contract pattern must not.
    "ok\n",
]

# Contract fields a service builds an S3 key, DynamoDB key or Glue name from: the contract's
# pattern is the check, so each must refuse every nasty name at its own path.
KEY_FIELDS = [
    ("ingest.job.requested.v1", ("transaction_id",)),  # ingest-gate: S3 record key
    ("ingest.job.requested.v1", ("job_name",)),  # ingest-gate: Glue JobName
    ("compactor.compaction.requested.v1", ("domains", 0)),  # compactor: lake prefix
    ("compactor.compaction.requested.v1", ("request_id",)),
    ("gapscraper.download.requested.v1", ("series_key",)),  # gap-scraper: DynamoDB key
    ("gapscraper.download.requested.v1", ("run_id",)),
    ("assets.upsert.requested.v1", ("asset_id",)),  # asset-events: DynamoDB key, assets/<id>/
    ("assets.drop.requested.v1", ("asset_id",)),
    ("compactor.domain.processed.v1", ("domain",)),
    ("compactor.domain.processed.v1", ("table", "database")),  # asset-events: asset id
    ("compactor.domain.processed.v1", ("table", "name")),
    ("etl.delivery.published.v1", ("dataset",)),
    ("assets.table.observed.v1", ("agent",)),  # asset-events: withheld/<agent>/<run_id>
    ("assets.table.observed.v1", ("run_id",)),
    ("assets.table.observed.v1", ("database",)),
    ("assets.table.observed.v1", ("table",)),
]


def _json_path(path: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _with(data: dict[str, Any], path: tuple[str | int, ...], value: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(json.dumps(data))
    if path == ("domains", 0):  # the example asks for all domains: name one
        document["domains"] = [value]
        return document
    target: Any = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return document


@pytest.mark.parametrize(("event_type", "path"), KEY_FIELDS)
@pytest.mark.parametrize("value", NASTY_NAMES)
def test_every_field_that_names_a_key_refuses_names_that_escape(
    event_type: str, path: tuple[str | int, ...], value: str
) -> None:
    example = registry.schema_for(event_type)["examples"][0]
    data = _with(example, path, value)
    at = f"$.data{_json_path(path)}"

    if event_type == "assets.table.observed.v1":
        # Agent events are plain JSON on the stream, checked against the schema alone.
        problems = validation.errors(registry.schema_for(event_type), data, at="$.data")
    else:
        envelope = {"specversion": "1.0", "id": "e-1", "source": "x", "type": event_type}
        with pytest.raises(bus.ContractViolation) as caught:
            bus.parse_envelope({**envelope, "data": data})
        problems = caught.value.errors

    assert [p for p in problems if p.startswith(f"{at}: ")], problems


def test_the_example_values_of_those_fields_are_accepted() -> None:
    for event_type, path in KEY_FIELDS:
        example = registry.schema_for(event_type)["examples"][0]
        data = _with(example, path, "orders") if path == ("domains", 0) else example
        assert validation.errors(registry.schema_for(event_type), data) == [], event_type


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"type": "string", "pattern": "^[a-z]+$"}, "abc\n"),
        ({"type": "string", "format": "uri"}, "https://schemas.rocket.dev/x\n"),
        ({"type": "string", "format": "uri-reference"}, "rocket/x\n"),
    ],
)
def test_a_trailing_newline_does_not_satisfy_an_anchored_pattern(
    schema: dict[str, Any], value: str
) -> None:
    assert validation.errors(schema, value) != []
    assert validation.errors(schema, value.rstrip("\n")) == []


def test_a_trailing_newline_does_not_make_an_extension_attribute_name() -> None:
    schema = {
        "type": "object",
        "patternProperties": {"^[a-z0-9]{1,20}$": {}},
        "additionalProperties": False,
    }

    assert validation.errors(schema, {"traceid": 1}) == []
    assert len(validation.errors(schema, {"traceid\n": 1})) == 1


def test_a_dollar_inside_a_class_or_escaped_stays_literal() -> None:
    assert validation.errors({"type": "string", "pattern": "^[a-z$]+$"}, "a$b") == []
    assert validation.errors({"type": "string", "pattern": r"^a\$$"}, "a$") == []
