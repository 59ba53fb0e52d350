"""Landing lines that are not JSON objects, or break the declared fields, are set aside with
their file, line and reason; the others pass byte for byte."""

from __future__ import annotations

import io

import pytest
from compactor.domains import FieldSpec, FieldType
from compactor.screening import Screened, screen, violation

FIELDS = (
    FieldSpec(name="id", type=FieldType.STRING),
    FieldSpec(name="n", type=FieldType.BIGINT),
    FieldSpec(name="x", type=FieldType.DOUBLE),
    FieldSpec(name="at", type=FieldType.TIMESTAMP),
    FieldSpec(name="opt", type=FieldType.BOOLEAN, required=False),
    FieldSpec(name="day", type=FieldType.DATE, required=False),
)
GOOD = b'{"id":"a","n":1,"x":2,"at":"2026-11-21T10:00:00Z"}'


def run(data: bytes) -> tuple[Screened, bytes]:
    out, into = io.BytesIO(), Screened()
    screen("topics/t/partition=0/t+0+1.json", data, FIELDS, out, into)
    return into, out.getvalue()


def test_good_lines_pass_unchanged_and_blank_lines_are_not_records() -> None:
    into, out = run(GOOD + b"\r\n\n  \n" + GOOD.replace(b'"x":2', b'"x":2.5'))
    assert (into.lines, into.passed, into.rejected) == (2, 2, 0)
    assert out == GOOD + b"\n" + GOOD.replace(b'"x":2', b'"x":2.5') + b"\n"
    assert into.fields_seen == {"id", "n", "x", "at"}


def test_broken_lines_are_set_aside_with_file_line_and_reason() -> None:
    data = b"\n".join([GOOD, b'{"id": "a", "n": 1', b"[1, 2]", b'{"id":"\xff\xfe"}', GOOD])
    into, out = run(data)
    assert (into.lines, into.passed) == (5, 2)
    assert [(r.line, r.reason) for r in into.rejections] == [
        (2, "invalid_json"),
        (3, "not_an_object"),
        (4, "invalid_encoding"),
    ]
    assert into.rejections[0].key == "topics/t/partition=0/t+0+1.json"
    assert into.rejections[0].raw == '{"id": "a", "n": 1'
    assert out.count(b"\n") == 2


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": None}, "missing:id"),
        ({"n": "1"}, "type:n"),
        ({"n": 1.5}, "type:n"),
        ({"n": True}, "type:n"),
        ({"x": "2.0"}, "type:x"),
        ({"at": "yesterday"}, "type:at"),
        ({"at": "2026-02-30T00:00:00Z"}, "type:at"),
        ({"at": "2026-13-01T00:00:00Z"}, "type:at"),
        ({"at": "2026-11-21T10:00:00Zjunk"}, "type:at"),
        ({"at": "2026-11-21T10:00:00Z\n"}, "type:at"),
        ({"at": "2026-11-21T10:00Z"}, None),
        ({"at": "2026-11-21T10:00:00+0300"}, None),
        ({"opt": "yes"}, "type:opt"),
        ({"day": "2026-11-21\n"}, "type:day"),
    ],
)
def test_declared_fields_are_checked_not_coerced(change: dict[str, object], reason: str) -> None:
    body: dict[str, object] = {"id": "a", "n": 1, "x": 2.0, "at": "2026-11-21T10:00:00Z"}
    body.update(change)
    assert violation(body, FIELDS) == reason


def test_a_missing_required_field_and_a_null_optional_one() -> None:
    assert violation({"n": 1, "x": 1, "at": "2026-11-21"}, FIELDS) == "missing:id"
    body = {"id": "a", "n": 1, "x": 1, "at": "2026-11-21 10:00:00.123456+00:00", "opt": None}
    assert violation(body, FIELDS) is None


def test_fields_of_set_aside_records_are_not_counted_as_seen() -> None:
    into, _ = run(GOOD + b"\n" + b'{"id":"a","n":"x","x":1,"at":"2026-11-21","only_here":1}')
    assert "only_here" not in into.fields_seen
    assert into.reasons == {"type:n": 1}
