"""Landing lines that are not JSON objects, or break the declared fields, are set aside with
their file, line and reason; the others pass byte for byte. The fast and the exact screening
give the same verdicts, except on lines the range's chunk check sends back to the exact one."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from compactor.compaction import RangeLines, compact, skipped_unseen
from compactor.domains import FieldSpec, FieldType
from compactor.screening import Screened, Screener, violation

FIELDS = (
    FieldSpec(name="id", type=FieldType.STRING),
    FieldSpec(name="n", type=FieldType.BIGINT),
    FieldSpec(name="x", type=FieldType.DOUBLE),
    FieldSpec(name="at", type=FieldType.TIMESTAMP),
    FieldSpec(name="opt", type=FieldType.BOOLEAN, required=False),
    FieldSpec(name="day", type=FieldType.DATE, required=False),
    FieldSpec(name="obj", type=FieldType.OBJECT, required=False),
    FieldSpec(name="arr", type=FieldType.ARRAY, required=False),
)
GOOD = b'{"id":"a","n":1,"x":2,"at":"2026-11-21T10:00:00Z"}'
KEY = "topics/t/partition=0/t+0+1.json"


@pytest.fixture(params=[True, False], ids=["fast", "exact"])
def screener(request: pytest.FixtureRequest) -> Screener:
    return Screener(FIELDS, fast=request.param)


def run(screener: Screener, data: bytes) -> tuple[Screened, bytes]:
    out, into = io.BytesIO(), Screened()
    screener.screen(KEY, data, out, into)
    return into, out.getvalue()


def test_good_lines_pass_unchanged_and_blank_lines_are_not_records(screener: Screener) -> None:
    into, out = run(screener, GOOD + b"\r\n\n  \n" + GOOD.replace(b'"x":2', b'"x":2.5'))
    assert (into.lines, into.passed, into.rejected) == (2, 2, 0)
    assert out == GOOD + b"\n" + GOOD.replace(b'"x":2', b'"x":2.5') + b"\n"


def test_a_file_whose_lines_all_pass_is_written_as_it_is(screener: Screener) -> None:
    into, out = run(screener, GOOD + b"\n" + GOOD)
    assert (into.passed, out) == (2, GOOD + b"\n" + GOOD + b"\n")


def test_broken_lines_are_set_aside_with_file_line_and_reason(screener: Screener) -> None:
    data = b"\n".join([GOOD, b'{"id": "a", "n": 1', b"[1, 2]", b'{"id":"\xff\xfe"}', GOOD])
    into, out = run(screener, data)
    assert (into.lines, into.passed) == (5, 2)
    assert [(r.line, r.reason) for r in into.rejections] == [
        (2, "invalid_json"),
        (3, "not_an_object"),
        (4, "invalid_encoding"),
    ]
    assert into.rejections[0].key == KEY
    assert into.rejections[0].raw == '{"id": "a", "n": 1'
    assert out.count(b"\n") == 2


def test_records_run_together_on_a_line_are_set_aside_as_such(screener: Screener) -> None:
    data = b"\n".join([GOOD + GOOD, GOOD + b" [1]", GOOD + b" NaN", GOOD + b"}", b"1 2", GOOD])
    into, _ = run(screener, data)
    assert [(r.line, r.reason) for r in into.rejections] == [
        (1, "several_records_on_one_line"),
        (2, "several_records_on_one_line"),
        # NaN is no JSON, and a stray brace is broken JSON, not a second record.
        (3, "invalid_json"),
        (4, "invalid_json"),
        (5, "several_records_on_one_line"),
    ]
    assert into.passed == 1


def test_a_byte_order_mark_at_the_start_of_a_file_is_no_part_of_its_first_record(
    screener: Screener,
) -> None:
    into, out = run(screener, b"\xef\xbb\xbf" + GOOD + b"\n" + GOOD + b"\n")
    assert (into.lines, into.passed, into.rejected) == (2, 2, 0)
    assert out == GOOD + b"\n" + GOOD + b"\n"
    # Also where files are screened in runs (the run's one decode refuses it, then each file
    # of the run is screened on its own).
    out_, into = io.BytesIO(), Screened()
    bom_file = b"\xef\xbb\xbf" + GOOD + b"\n"
    screener.screen_files([(KEY, GOOD + b"\n"), (KEY, bom_file), (KEY, GOOD)], out_, into)
    assert (into.lines, into.passed, out_.getvalue()) == (3, 3, (GOOD + b"\n") * 3)
    # Anywhere else it is what it is: a line that is no JSON.
    into, _ = run(screener, GOOD + b"\n\xef\xbb\xbf" + GOOD + b"\n")
    assert [(r.line, r.reason) for r in into.rejections] == [(2, "invalid_json")]


@pytest.mark.parametrize(
    ("data", "rejected"),
    [
        # Three records over three lines, but two on the first and one broken over the others.
        (
            GOOD + b" " + GOOD + b"\n" + GOOD[:9] + b"\n" + GOOD[9:] + b"\n",
            [(1, "several_records_on_one_line"), (2, "invalid_json"), (3, "invalid_json")],
        ),
        # Two records on one line of a file that is otherwise clean.
        (GOOD + b"\n" + GOOD + b" " + GOOD + b"\n", [(2, "several_records_on_one_line")]),
        # Every line a record, one of them with a timestamp that is none.
        (GOOD + b"\n" + GOOD.replace(b"-21T", b"-31T") + b"\n", [(2, "type:at")]),
        (GOOD + b"\n" + GOOD.replace(b'"at"', b'"day":"2026-02-30","at"'), [(2, "type:day")]),
        # A file's timestamps are matched together: one holding two, split by a newline, is
        # still one value that is not a timestamp; so is one of another form that fails.
        (
            GOOD + b"\n" + GOOD.replace(b'00Z"', b'00Z\\n2026-11-21T10:00:00Z"') + b"\n",
            [(2, "type:at")],
        ),
        (GOOD + b"\n" + GOOD.replace(b'00Z"', b'00+25:00"') + b"\n" + GOOD, [(2, "type:at")]),
        (GOOD + b"\n" + GOOD.replace(b'00Z"', b'00+05:00"') + b"\n" + GOOD, []),
        # A last line ending in CR, and leading spaces.
        (GOOD + b"\n" + GOOD + b"\r", []),
        (b"  " + GOOD + b"\n" + GOOD, []),
    ],
)
def test_a_file_decoded_whole_keeps_the_verdicts_of_its_lines(
    screener: Screener, data: bytes, rejected: list[tuple[int, str]]
) -> None:
    into, out = run(screener, data)
    assert [(r.line, r.reason) for r in into.rejections] == rejected
    assert into.passed == into.lines - len(rejected) == out.count(b"\n")
    assert b"\r" not in out


@pytest.mark.parametrize(
    "fields",
    [
        (FieldSpec(name="at", type=FieldType.TIMESTAMP),),
        (FieldSpec(name="id", type=FieldType.STRING),),
    ],
    ids=["one-timestamp", "no-timestamp"],
)
@pytest.mark.parametrize(
    "bad",
    [
        GOOD.replace(b"-21T", b"-31T"),
        # The file's timestamps are matched together, a line each: a value holding a newline
        # between two timestamps is still one value that is not a timestamp.
        GOOD.replace(b'00Z"', b'00Z\\n2026-11-21T10:00:00Z"'),
        GOOD.replace(b'00Z"', b'00+25:00"'),
    ],
    ids=["no-such-day", "two-in-one", "offset"],
)
def test_a_file_decoded_whole_checks_its_one_timestamp(
    fields: tuple[FieldSpec, ...], bad: bytes
) -> None:
    data = GOOD + b"\n" + bad + b"\n"
    for fast in (True, False):
        into, out = Screened(), io.BytesIO()
        Screener(fields, fast=fast).screen(KEY, data, out, into)
        if fields[0].type is FieldType.TIMESTAMP:
            assert [(r.line, r.reason) for r in into.rejections] == [(2, "type:at")]
            assert out.getvalue() == GOOD + b"\n"
        else:
            assert (into.passed, out.getvalue()) == (2, data)


DECLARED_CASES = [
    ({"id": None}, "missing:id"),
    ({"n": "1"}, "type:n"),
    ({"n": 1.5}, "type:n"),
    ({"n": 100.0}, "type:n"),
    ({"n": True}, "type:n"),
    # What BIGINT holds, and one past each end.
    ({"n": 2**63 - 1}, None),
    ({"n": -(2**63)}, None),
    ({"n": 2**63}, "type:n"),
    ({"n": -(2**63) - 1}, "type:n"),
    ({"x": "2.0"}, "type:x"),
    ({"x": False}, "type:x"),
    ({"x": 3}, None),
    ({"x": 1e308}, None),
    ({"at": "yesterday"}, "type:at"),
    ({"at": "2026-02-30T00:00:00Z"}, "type:at"),
    ({"at": "2026-13-01T00:00:00Z"}, "type:at"),
    ({"at": "2026-11-21T10:00:00Zjunk"}, "type:at"),
    ({"at": "2026-11-21T10:00:00Z\n"}, "type:at"),
    ({"at": 1763719200}, "type:at"),
    ({"at": "2026-11-21T10:00Z"}, None),
    ({"at": "2026-11-21T10:00:00+0300"}, None),
    # What DuckDB's TIMESTAMPTZ refuses would fail the range's parse; what it would read as
    # another instant (an offset past 23:59, nanoseconds cut) is not that timestamp.
    ({"at": "2026-11-21T25:00:00Z"}, "type:at"),
    ({"at": "2026-11-21T23:60:00Z"}, "type:at"),
    ({"at": "2026-11-21T23:59:60Z"}, "type:at"),
    ({"at": "2026-11-21Z"}, "type:at"),
    ({"at": "2026-11-21T10:00:00+24:00"}, "type:at"),
    ({"at": "2026-11-21T10:00:00-00:99"}, "type:at"),
    ({"at": "2026-11-21T10:00:00.123456789Z"}, "type:at"),
    ({"at": "2026-11-21T10:00:00.123456000Z"}, None),
    # Digits of other scripts are digits to Python's patterns, not to DuckDB.
    ({"at": "2026-11-21T1\u0661:00:00Z"}, "type:at"),
    ({"at": "2026-11-21T10:00:00+0\u0665:00"}, "type:at"),
    ({"opt": "yes"}, "type:opt"),
    ({"opt": None}, None),
    ({"day": "2026-11-21\n"}, "type:day"),
    ({"day": "2026-11-21"}, None),
    ({"obj": [1]}, "type:obj"),
    ({"obj": {"k": [1, {"a": None}]}}, None),
    ({"arr": {}}, "type:arr"),
    ({"arr": [1, "a", None]}, None),
]


@pytest.mark.parametrize(("change", "reason"), DECLARED_CASES)
def test_declared_fields_are_checked_not_coerced(
    screener: Screener, change: dict[str, object], reason: str | None
) -> None:
    body: dict[str, object] = {"id": "a", "n": 1, "x": 2.0, "at": "2026-11-21T10:00:00Z"}
    body.update(change)
    assert violation(body, FIELDS) == reason
    into, _ = run(screener, json.dumps(body).encode())
    assert dict(into.reasons) == ({reason: 1} if reason else {})


def test_a_missing_required_field_and_a_null_optional_one(screener: Screener) -> None:
    assert violation({"n": 1, "x": 1, "at": "2026-11-21"}, FIELDS) == "missing:id"
    body = {"id": "a", "n": 1, "x": 1, "at": "2026-11-21 10:00:00.123456+00:00", "opt": None}
    assert violation(body, FIELDS) is None
    into, _ = run(screener, b'{"n": 1, "x": 1, "at": "2026-11-21"}\n' + json.dumps(body).encode())
    assert dict(into.reasons) == {"missing:id": 1}


def test_a_declared_double_past_its_range_is_not_json_a_double_holds(screener: Screener) -> None:
    into, _ = run(screener, GOOD.replace(b'"x":2', b'"x":1e400'))
    assert dict(into.reasons) == {"invalid_json": 1}


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (b'"u":9223372036854775807', None),
        (b'"u":-9223372036854775808', None),
        (b'"u":9223372036854775808', "integer_out_of_range"),
        (b'"u":-9223372036854775809', "integer_out_of_range"),
        (b'"u":123456789012345678901234567890', "integer_out_of_range"),
        (b'"u":{"k":[1,18446744073709551615]}', "integer_out_of_range"),
        (b'"obj":{"k":18446744073709551615}', "integer_out_of_range"),
        (b'"u":123456789012345678901234567890.5', None),
        (b'"u":"123456789012345678901234567890"', None),
        # A declared double takes any number as a double.
        (b'"x":123456789012345678901234567890', None),
    ],
)
def test_an_integer_no_bigint_holds_is_set_aside_where_no_double_is_declared(
    extra: bytes, reason: str | None, tmp_path: Path
) -> None:
    """DuckDB reads a JSON integer as BIGINT: one past it fails the range's parse, or past
    2^64 becomes a double that is not its value. The fast way does not see such a field:
    the chunk check sends its range the exact way."""
    line = GOOD.replace(b'"x":2,', b"") if extra.startswith(b'"x"') else GOOD
    line = line[:-1] + b"," + extra + b"}\n"
    into, _ = run(Screener(FIELDS, fast=False), line)
    assert dict(into.reasons) == ({reason: 1} if reason else {})
    if reason is not None:
        (tmp_path / "lines.ndjson").write_bytes(line)
        assert skipped_unseen(duckdb.connect(), tmp_path / "lines.ndjson")


@pytest.mark.parametrize(
    ("tail", "reason"),
    [
        (b'"u":1,"u":1', "duplicate_field"),
        (b'"u":{"k":1,"k":2}', "duplicate_field"),
        (b'"":1', "empty_field_name"),
        (b'"u":[{"":1}]', "empty_field_name"),
        (b'"Note":1,"note":2', "field_case_conflict"),
        # Spelt otherwise than the range keeps it, at its own place only.
        (b'"note":1', "field_case_conflict"),
        (b'"u":[{"SKU":1}]', "field_case_conflict"),
        (b'"Note":1,"u":[{"sku":1}],"w":{"note":2}', None),
        # Two names for DuckDB (its case is ASCII's), one column `e` in the catalog.
        (b'"\xc3\xa9":1,"\xc3\x89":2', "field_case_conflict"),
    ],
)
def test_the_strict_screening_sets_aside_names_no_table_holds(
    tail: bytes, reason: str | None
) -> None:
    spellings = {("note",): "Note", ("u", "sku"): "sku"}
    line = GOOD[:-1] + b"," + tail + b"}\n"
    for strict, expected in ((True, reason), (False, None)):
        into, _ = run(Screener(FIELDS, fast=False, strict=strict, spellings=spellings), line)
        assert dict(into.reasons) == ({expected: 1} if expected else {})


def test_the_strict_screening_is_an_exact_one() -> None:
    with pytest.raises(ValueError, match="exact"):
        Screener(FIELDS, strict=True)


def test_declared_names_that_are_python_keywords_or_struct_methods() -> None:
    fields = (
        FieldSpec(name="class", type=FieldType.STRING),
        FieldSpec(name="copy", type=FieldType.BIGINT, required=False),
    )
    into, out = Screened(), io.BytesIO()
    Screener(fields).screen(KEY, b'{"class":"a","copy":1}\n{"copy":2}\n', out, into)
    assert dict(into.reasons) == {"missing:class": 1}
    assert out.getvalue() == b'{"class":"a","copy":1}\n'


# --- the fast and the exact screening, over generated lines ------------------------------------

VALID = {
    "id": ['"a"', '"caf\\u00e9"', '"\\ud83d\\ude00"', '""', '"line\\nbreak"'],
    "n": ["1", "0", "-7", "9223372036854775807", "-9223372036854775808"],
    "x": ["2", "2.5", "-1e308", "1e-320", "0.0", "-0", "3E5"],
    "at": ['"2026-11-21T10:00:00Z"', '"2026-11-21 10:00:00.123456+00:00"', '"2026-11-21"'],
    "opt": ["true", "false", "null"],
    "day": ['"2026-11-21"', "null"],
    "obj": ['{"k":1}', "{}", '{"a":{"b":[1,null]}}', "null"],
    "arr": ["[]", '[1,"a",{"b":2}]', "null"],
}
INVALID = {
    "id": ["5", '["a"]', "null", '"\\ud800"'],
    "n": ["9223372036854775808", "-9223372036854775809", "1.5", "1e2", '"1"', "true"],
    "x": ["1e400", "-1e400", '"2.0"', "true", "18446744073709551616"],
    "at": ['"yesterday"', '"2026-02-30T00:00:00Z"', '"2026-11-21T10:00:00Zx"', "5"],
    "opt": ['"yes"', "1"],
    "day": ['"2026-11-21T00:00:00Z"', '"2026-11-31"'],
    "obj": ["[1]", '"x"', '{"k":1e400}', '{"k":"\xff"}', '{"k":[18446744073709551615]}'],
    "arr": ["{}", "1", "[1e400]"],
}
UNDECLARED = [
    "1",
    "1e300",
    "-2.5E+10",
    '"promo 3E9551"',
    '"A3E9551"',
    '{"deep":[1,2,{"a":null}]}',
    '"\\ud83d\\ude00"',
    "1" * 300,
    # Integers past BIGINT's range, a double's and not, and BIGINT's ends.
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "123456789012345678901234567890.5",
    "9223372036854775807",
    "-9223372036854775808",
    # What the fast screening skips unseen: a number no double holds, invalid UTF-8.
    "1e400",
    "-1E+999",
    "9" * 400,
    '"caf\xe9"',
    '{"in":["\xff"]}',
    # UTF-8's forbidden forms: an encoded surrogate, past U+10FFFF, overlong.
    '"\xed\xa0\x80"',
    '"\xf4\x90\x80\x80"',
    '"\xc0\xaf"',
    # Not JSON, or not text JSON takes: both screenings refuse it.
    '"\\ud800"',
    '"\x00"',
    '"tab\there"',
    "01",
    "NaN",
    "[1,]",
]


def generated_lines(count: int, seed: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    for _ in range(count):
        parts: list[str] = []
        for name in VALID:
            roll = rng.random()
            if roll < 0.04:
                continue
            values = INVALID[name] if roll < 0.10 else VALID[name]
            parts.append(f'"{name}":{rng.choice(values)}')
            if rng.random() < 0.01:
                parts.append(f'"{name}":{rng.choice(VALID[name] + INVALID[name])}')
        for i in range(rng.choice([0, 1, 1, 2, 3])):
            parts.append(f'"u{i}":{rng.choice(UNDECLARED)}')
        rng.shuffle(parts)
        text = "{" + ",".join(parts) + "}"
        roll = rng.random()
        if roll < 0.01:
            text = text[: rng.randrange(len(text))]
        elif roll < 0.015:
            text = rng.choice(["[1, 2]", '"text"', "123", "null", text + " x", "[" + text + "]"])
        elif roll < 0.03:
            text = rng.choice([" ", "\t"]) + text + rng.choice(["\r", " ", ""])
        yield text.encode("latin-1")


def verdict(screener: Screener, line: bytes) -> tuple[int, dict[str, int]]:
    into, out = run(screener, line)
    assert out == (line.rstrip(b"\r") + b"\n" if into.passed else b"")
    return into.passed, dict(into.reasons)


def test_the_fast_screening_agrees_with_the_exact_one_or_its_chunk_is_screened_again(
    tmp_path: Path,
) -> None:
    fast, exact = Screener(FIELDS), Screener(FIELDS, fast=False)
    con = duckdb.connect()
    chunk = tmp_path / "chunk.ndjson"
    agreed, passed, unseen = 0, 0, 0
    for line in generated_lines(20_000, seed=20261121):
        expected = verdict(exact, line)
        chunk.write_bytes(line + b"\n")
        if verdict(fast, line) == expected:
            agreed += 1
            passed += expected[0]
        else:
            unseen += 1
            assert skipped_unseen(con, chunk), line
    # The generated lines reach every side: passing, set aside, and skipped unseen.
    assert passed > 3_000
    assert agreed - passed > 8_000
    assert unseen > 1_000


def generated_files(count: int, seed: int) -> Iterator[bytes]:
    """Files of generated lines, most joined as Kafka Connect writes them (one record a line,
    a newline after each), some with blank lines, CRLF, no final newline or a record broken
    over two lines; in most, every line but at most one is one the exact way passes."""
    rng = random.Random(seed)
    exact = Screener(FIELDS, fast=False)
    pool = list(generated_lines(count * 4, seed))
    good = [line for line in pool if verdict(exact, line)[0]]
    for _ in range(count):
        body = rng.choices(good if rng.random() < 0.7 else pool, k=rng.randint(1, 8))
        if rng.random() < 0.4:
            # One line of any kind among lines that pass: the file's verdict is that line's.
            body[rng.randrange(len(body))] = rng.choice(pool)
        roll = rng.random()
        if roll < 0.7:
            yield b"\n".join(body) + b"\n"
        elif roll < 0.8:
            yield b"\n".join(body)
        elif roll < 0.85:
            yield b"\r\n".join(body) + b"\r\n"
        elif roll < 0.9:
            yield b"\n\n".join(body) + b"\n"
        else:
            text = b"\n".join(body)
            cut = text.find(b",")
            yield (text[: cut + 1] + b"\n" + text[cut + 1 :] if cut > 0 else text) + b"\n"


def test_whole_files_get_the_verdicts_of_their_lines_or_are_screened_again(
    tmp_path: Path,
) -> None:
    """The fast way decodes a clean file in one call: its counts, reasons and output are those
    of the exact way, line by line, or its chunk is sent back to the exact way."""
    fast, exact = Screener(FIELDS), Screener(FIELDS, fast=False)
    con = duckdb.connect()
    chunk = tmp_path / "chunk.ndjson"
    whole = agreed = unseen = 0
    for data in generated_files(4_000, seed=20261204):
        expected, got = Screened(), Screened()
        expected_out, got_out = io.BytesIO(), io.BytesIO()
        exact.screen(KEY, data, expected_out, expected)
        fast.screen(KEY, data, got_out, got)
        whole += expected.passed == expected.lines and b"\r" not in data
        verdict = (got.lines, got.passed, got.reasons, got_out.getvalue())
        if verdict == (expected.lines, expected.passed, expected.reasons, expected_out.getvalue()):
            assert [(r.line, r.reason) for r in got.rejections] == [
                (r.line, r.reason) for r in expected.rejections
            ]
            agreed += 1
        else:
            unseen += 1
            chunk.write_bytes(got_out.getvalue())
            assert skipped_unseen(con, chunk), data
    assert whole > 300
    assert agreed > 2_500
    assert unseen > 300


def test_a_range_holding_what_the_fast_screening_skips_is_refused(tmp_path: Path) -> None:
    line = GOOD[:-1] + b',"score":1e400}\n'
    with RangeLines(tmp_path, check_skipped=True) as lines:
        lines.write(GOOD + b"\n")
        lines.write(line)
        assert lines.exact_needed
        with pytest.raises(ValueError, match="exact screening"):
            compact(lines, tmp_path / "out.parquet", FIELDS, work_dir=tmp_path)


def test_a_range_the_fast_screening_saw_whole_is_compacted(tmp_path: Path) -> None:
    with RangeLines(tmp_path, check_skipped=True) as lines:
        # 19 digits from 91...: a BIGINT, not taken for one past its range.
        lines.write(GOOD[:-1] + b',"score":1e99,"code":"3E9551","n2":9199999999999999999}\n')
        assert not lines.exact_needed
        written = compact(lines, tmp_path / "out.parquet", FIELDS, work_dir=tmp_path)
    assert written.rows == 1
    assert {"score", "code", "n2"} <= written.names


# --- what a timestamp that passes is, read by the parse ---------------------------------------

_STAMP_PARTS = (
    ["2026-11-21", "2024-02-29", "0001-01-01", "9999-12-31"],
    ["T", " ", "t", ""],
    ["00", "09", "23", "24", "25", "9"],
    [":00", ":59", ":60", ":5", ""],
    ["", ":00", ":59", ":60", ":61"],
    ["", ".5", ".123456", ".1234560", ".1234567", ".123456789", ".000000000", "."],
    ["", "Z", "z", "+05", "+0530", "+05:30", "-23:59", "+24:00", "+05:60", "-00:99", "-0"],
)


def _stamps() -> list[str]:
    stamps = [""]
    for choices in _STAMP_PARTS:
        stamps = [stamp + choice for stamp in stamps for choice in choices]
    # A day alone, and with an offset.
    return stamps + [day + tail for day in _STAMP_PARTS[0] for tail in _STAMP_PARTS[6]]


def test_every_timestamp_that_passes_is_read_by_the_parse_as_the_instant_it_writes() -> None:
    """A passing value the parse refused would fail its range; one it read otherwise would be
    wrong data. The instant it writes is Python's ISO reading (no offset: UTC)."""
    stamps = _stamps()
    fields = (FieldSpec(name="at", type=FieldType.TIMESTAMP),)
    passing = [s for s in stamps if violation({"at": s}, fields) is None]
    for fast in (True, False):
        screener = Screener(fields, fast=fast)
        into, _ = run(screener, b"\n".join(json.dumps({"at": s}).encode() for s in stamps))
        assert into.passed == len(passing)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    read = con.execute(
        "SELECT s, TRY_CAST(s AS TIMESTAMPTZ) FROM unnest($stamps) AS t(s)", {"stamps": passing}
    ).fetchall()
    wrong = []
    for text, value in read:
        written = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if written.tzinfo is None:
            written = written.replace(tzinfo=UTC)
        try:
            written.astimezone(UTC)
        except OverflowError:
            # 0001-01-01 east of UTC is in 1 BC (9999-12-31 west of it in 10000): an instant
            # DuckDB holds and Python does not, so it comes back as text.
            if not isinstance(value, str):
                wrong.append((text, value))
            continue
        if value != written:
            wrong.append((text, value))
    assert not wrong
    # The forms producers write pass.
    assert {
        "2026-11-21T09:00:00Z",
        "2026-11-21 09:59:59.5+05:30",
        "2026-11-21T23:59:59.123456-23:59",
        "2026-11-21T09:00:00.1234560Z",
        "2026-11-21",
    } <= set(passing)
    assert len(passing) > 1000


def test_files_screened_in_runs_get_the_verdicts_of_each_file(screener: Screener) -> None:
    """Runs of files decoded in one call give each file's counts, rejections (file, line,
    reason) and output as screening it alone does, in order, whatever files the run holds:
    broken lines, CRs, blank lines, no final newline, empty files."""
    files = [
        (f"topics/t/partition=0/t+0+{i}.json", data)
        for i, data in enumerate(
            [
                # Two runs of clean files first, which are decoded whole.
                *(GOOD + b"\n" + GOOD.replace(b'"n":1', f'"n":{n}'.encode()) for n in range(128)),
                *generated_files(400, seed=20261207),
                b"",
                GOOD,
                b"\n",
            ]
        )
    ]
    alone, alone_out = Screened(), io.BytesIO()
    for key, data in files:
        screener.screen(key, data, alone_out, alone)
    runs, runs_out = Screened(), io.BytesIO()
    screener.screen_files(iter(files), runs_out, runs)
    assert (runs.lines, runs.passed) == (alone.lines, alone.passed)
    assert [(r.key, r.line, r.reason) for r in runs.rejections] == [
        (r.key, r.line, r.reason) for r in alone.rejections
    ]
    assert runs_out.getvalue() == alone_out.getvalue()
    assert alone.rejected > 0
    assert alone.passed > 1_000
