"""A range's screened lines parse once into Parquet, keeping every field of every record."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from compactor.compaction import (
    CaseConflictError,
    EngineLimits,
    RangeLines,
    RangeParseError,
    case_spellings,
    compact,
    conform,
)
from compactor.domains import FieldSpec, FieldType
from compactor.ducktypes import DuckType, parse

LIMITS = EngineLimits("256MB", 1)


def write_lines(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_drift_is_kept_widened_and_null_filled(tmp_path: Path) -> None:
    records: list[dict[str, Any]] = [
        {"id": str(i), "amount": i, "nested": {"a": 1}} for i in range(3000)
    ]
    records.append({"id": "late", "amount": 1.5, "nested": {"a": 2, "b": "x"}, "late_field": True})
    src = write_lines(tmp_path / "in.ndjson", records)
    written = compact(src, tmp_path / "out.parquet", (), work_dir=tmp_path, limits=LIMITS)
    table = pq.read_table(written.path)
    assert written.rows == 3001 == table.num_rows
    types = dict(written.columns)
    assert types["amount"] == "DOUBLE"
    assert types["late_field"] == "BOOLEAN"
    assert types["nested"] == "STRUCT(a BIGINT, b VARCHAR)"
    rows = table.to_pylist()
    assert rows[0]["late_field"] is None
    assert rows[-1] == {
        "id": "late",
        "amount": 1.5,
        "nested": {"a": 2, "b": "x"},
        "late_field": True,
    }
    assert pq.ParquetFile(written.path).metadata.row_group(0).column(0).compression == "ZSTD"


def test_declared_fields_get_their_declared_types(tmp_path: Path) -> None:
    fields = (
        FieldSpec(name="amount", type=FieldType.DOUBLE),
        FieldSpec(name="at", type=FieldType.TIMESTAMP),
        FieldSpec(name="extra", type=FieldType.OBJECT),
        FieldSpec(name="never", type=FieldType.BIGINT, required=False),
    )
    src = write_lines(
        tmp_path / "in.ndjson",
        [{"amount": 1, "at": "2026-11-21T10:00:00Z", "extra": {"k": [1]}, "always_null": None}],
    )
    written = compact(src, tmp_path / "out.parquet", fields, work_dir=tmp_path, limits=LIMITS)
    types = dict(written.columns)
    assert types["amount"] == "DOUBLE"
    assert types["at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["extra"] == "STRUCT(k BIGINT[])"
    assert types["always_null"] == '"NULL"'  # reported untyped: another range's type wins
    assert types["never"] == "BIGINT"
    file_schema = pq.read_schema(written.path)
    assert file_schema.field("always_null").type == pa.string()
    assert pa.types.is_timestamp(file_schema.field("at").type)


def test_conform_widens_and_adds_missing_columns(tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"a": pa.array([1, 2], pa.int64()), "s": [{"x": 1}, None]}), src)
    target = [
        ("a", parse("DOUBLE")),
        ("s", parse("STRUCT(x DOUBLE, y VARCHAR)")),
        ("b", parse("VARCHAR")),
    ]
    written = conform(src, tmp_path / "out.parquet", target, work_dir=tmp_path, limits=LIMITS)
    assert written.rows == 2
    assert written.schema == tuple(target)
    assert pq.read_table(written.path).to_pylist() == [
        {"a": 1.0, "s": {"x": 1.0, "y": None}, "b": None},
        {"a": 2.0, "s": None, "b": None},
    ]


class _HeldRangeLines(RangeLines):
    """Detection that waits until the test lets it go: detection falling behind the screening."""

    def __init__(self, work_dir: Path, release: threading.Event) -> None:
        super().__init__(work_dir, LIMITS, chunk_bytes=1)
        self.release = release

    def _detect_chunk(self, path: Path) -> list[tuple[str, DuckType]]:
        self.release.wait(10)
        return super()._detect_chunk(path)


def test_screening_waits_when_detection_falls_behind(tmp_path: Path) -> None:
    """A chunk waiting for detection holds its bytes: the writer stops at one thread's work plus
    two chunks waiting, so a range's memory is a few chunks, never the whole range."""
    release = threading.Event()
    written: list[int] = []
    with _HeldRangeLines(tmp_path, release) as lines:

        def screen() -> None:
            for i in range(6):
                lines.write(json.dumps({"id": str(i)}).encode() + b"\n")
                written.append(i)

        writer = threading.Thread(target=screen)
        writer.start()
        writer.join(1.0)
        assert writer.is_alive()
        assert written == [0, 1]  # the third chunk waits for the first detection
        release.set()
        writer.join(10)
        assert written == list(range(6))
        out = compact(lines, tmp_path / "out.parquet", (), work_dir=tmp_path, limits=LIMITS)
    assert [r["id"] for r in pq.read_table(out.path).to_pylist()] == [str(i) for i in range(6)]


def test_chunks_detected_apart_give_the_types_of_the_whole_range(tmp_path: Path) -> None:
    """Each landing file is a chunk here: what one chunk alone would type otherwise (an
    integer, a timestamp-looking string, a struct without a field) is widened over all."""
    files: list[list[dict[str, Any]]] = [
        [{"id": "a", "amount": 1, "code": 7, "at": "2026-11-21T10:00:00Z", "s": {"x": 1}}],
        [{"id": "b", "amount": 2.5, "code": "7E1", "at": "soon", "s": {"x": 2, "y": [1]}}],
        [{"id": "c", "late": True, "s": None}],
    ]
    with RangeLines(tmp_path, LIMITS, chunk_bytes=1) as lines:
        for records in files:
            lines.write("".join(json.dumps(r) + "\n" for r in records).encode())
        assert len(lines.paths) == 3
        written = compact(lines, tmp_path / "out.parquet", (), work_dir=tmp_path, limits=LIMITS)
    types = dict(written.columns)
    assert types == {
        "id": "VARCHAR",
        "amount": "DOUBLE",
        "code": "VARCHAR",
        "at": "VARCHAR",
        "s": "STRUCT(x BIGINT, y BIGINT[])",
        "late": "BOOLEAN",
    }
    assert pq.read_table(written.path).to_pylist() == [
        {
            "id": "a",
            "amount": 1.0,
            "code": "7",
            "at": "2026-11-21T10:00:00Z",
            "s": {"x": 1, "y": None},
            "late": None,
        },
        {
            "id": "b",
            "amount": 2.5,
            "code": "7E1",
            "at": "soon",
            "s": {"x": 2, "y": [1]},
            "late": None,
        },
        {"id": "c", "amount": None, "code": None, "at": None, "s": None, "late": True},
    ]


def test_conform_turns_what_disagrees_into_text(tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"code": pa.array([7, None], pa.int64()), "o": [{"x": 1}, None]}), src)
    target = [("code", parse("VARCHAR")), ("o", parse("VARCHAR"))]
    written = conform(src, tmp_path / "out.parquet", target, work_dir=tmp_path, limits=LIMITS)
    assert pq.read_table(written.path).to_pylist() == [
        {"code": "7", "o": '{"x":1}'},
        {"code": None, "o": None},
    ]


def test_conform_turns_nested_objects_where_the_day_holds_text_into_json(tmp_path: Path) -> None:
    """Inside a struct or a list too: a cast would write DuckDB's own `{'x': 1}`, which no JSON
    reader takes; the neighbours are cast as usual and a field the range lacks is null."""
    src = tmp_path / "in.parquet"
    pq.write_table(
        pa.table(
            {
                "o": [{"v": {"x": 1, "y": [True]}, "n": 1}, {"v": None, "n": 2}, None],
                "l": [[{"k": "a"}], [], None],
            }
        ),
        src,
    )
    target = [
        ("o", parse("STRUCT(v VARCHAR, n DOUBLE, late VARCHAR)")),
        ("l", parse("VARCHAR[]")),
    ]
    written = conform(src, tmp_path / "out.parquet", target, work_dir=tmp_path, limits=LIMITS)
    assert dict(written.columns)["o"] == "STRUCT(v VARCHAR, n DOUBLE, late VARCHAR)"
    assert pq.read_table(written.path).to_pylist() == [
        {"o": {"v": '{"x":1,"y":[true]}', "n": 1.0, "late": None}, "l": ['{"k":"a"}']},
        {"o": {"v": None, "n": 2.0, "late": None}, "l": []},
        {"o": None, "l": None},
    ]


def test_fields_are_written_under_the_catalog_s_names(tmp_path: Path) -> None:
    """Athena reads a Parquet column by name: `total-amount` under the table's `total_amount`
    would be all nulls. Names that differ from the catalog's only by case are kept."""
    src = write_lines(
        tmp_path / "in.ndjson",
        [
            {"total-amount": 1, "1st": "a", "o": {"x-y": 2, "ok": 3}, "l": [{"a.b": 1}]},
            {"camelCase": 2, "o": None, "l": None},
        ],
    )
    written = compact(src, tmp_path / "out.parquet", (), work_dir=tmp_path, limits=LIMITS)
    assert dict(written.columns) == {
        "total_amount": "BIGINT",
        "_1st": "VARCHAR",
        "o": "STRUCT(x_y BIGINT, ok BIGINT)",
        "l": "STRUCT(a_b BIGINT)[]",
        "camelCase": "BIGINT",
    }
    assert pq.read_table(written.path).to_pylist() == [
        {
            "total_amount": 1,
            "_1st": "a",
            "o": {"x_y": 2, "ok": 3},
            "l": [{"a_b": 1}],
            "camelCase": None,
        },
        {"total_amount": None, "_1st": None, "o": None, "l": None, "camelCase": 2},
    ]


@pytest.mark.parametrize(
    ("line", "spellings"),
    [
        ('{"total-amount": 1, "total_amount": 2}', {("total_amount",): "total-amount"}),
        ('{"o": {"a-b": 1, "a.b": 2}}', {("o", "a_b"): "a-b"}),
        ('{"preço": 1}\n{"preco": 2}', {("preco",): "preco"}),
    ],
)
def test_fields_whose_catalog_names_are_one_send_the_range_to_the_strict_way(
    tmp_path: Path, line: str, spellings: dict[tuple[str, ...], str]
) -> None:
    """Names one catalog column would hold are spellings of one field, as names differing in
    case are: the range is screened again, the records spelling it otherwise set aside."""
    src = tmp_path / "in.ndjson"
    src.write_text(line + "\n")
    with pytest.raises(CaseConflictError) as raised:
        compact(src, tmp_path / "out.parquet", (), work_dir=tmp_path, limits=LIMITS)
    assert raised.value.spellings == spellings


def test_an_integer_past_bigint_is_refused_by_the_parse_not_changed(tmp_path: Path) -> None:
    """Screening sets such lines aside (integer_out_of_range); the parse never alters one."""
    src = tmp_path / "in.ndjson"
    src.write_text('{"n": 1}\n{"n": 18446744073709551615}\n')
    with pytest.raises(RangeParseError, match="18446744073709551615"):
        compact(src, tmp_path / "out.parquet", (), work_dir=tmp_path, limits=LIMITS)


def test_names_spelt_in_two_cases_keep_the_declared_else_the_first_spelling() -> None:
    schema = [
        ("Note", parse("VARCHAR")),
        ("id", parse("VARCHAR")),
        ("note", parse("VARCHAR")),
        ("ID", parse("VARCHAR")),
        ("items", parse("STRUCT(Sku VARCHAR, sku VARCHAR, qty BIGINT)[]")),
        ("shipping", parse("STRUCT(city VARCHAR)")),
        ("café", parse("VARCHAR")),
        ("CAFÉ", parse("VARCHAR")),
    ]
    assert case_spellings(schema, declared=["id"]) == {
        ("note",): "Note",
        ("id",): "id",
        ("items", "sku"): "Sku",
    }
    assert case_spellings([("ID", parse("BIGINT"))], declared=["id"]) == {("id",): "id"}
    assert case_spellings([("id", parse("BIGINT"))], declared=["id"]) == {}


def test_an_integer_no_double_holds_keeps_its_column_as_text(tmp_path: Path) -> None:
    """Integers and fractions in one field make a double column; 2^53 + 1 is no double (it
    would be stored as 2^53), so that range keeps the field's text, exact for both."""
    src = tmp_path / "in.ndjson"
    src.write_text('{"v": 1.5, "w": 2}\n{"v": 9007199254740993, "w": 2.5}\n{"v": null, "w": 3}\n')
    written = compact(src, tmp_path / "out.parquet", (), work_dir=tmp_path, limits=LIMITS)
    assert dict(written.columns) == {"v": "VARCHAR", "w": "DOUBLE"}
    assert pq.read_table(written.path).to_pylist() == [
        {"v": "1.5", "w": 2.0},
        {"v": "9007199254740993", "w": 2.5},
        {"v": None, "w": 3.0},
    ]


def test_integer_columns_past_two_to_the_53_are_reported(tmp_path: Path) -> None:
    """So that the day does not widen them to doubles where another range has fractions."""
    src = tmp_path / "in.ndjson"
    src.write_text(
        '{"big": 9007199254740993, "small": 9007199254740992, "neg": -9007199254740993}\n'
    )
    written = compact(src, tmp_path / "out.parquet", (), work_dir=tmp_path, limits=LIMITS)
    assert written.wide_integers == (("big",), ("neg",))


def test_a_nested_integer_no_double_holds_keeps_its_leaf_as_text(tmp_path: Path) -> None:
    """Inside objects and arrays as at the top: 2^53 + 1 beside fractions keeps that leaf's
    text, and the leaves beside it stay doubles."""
    src = tmp_path / "in.ndjson"
    src.write_text(
        '{"o": {"ref": 1.5, "x": 2}, "items": [{"p": 2.5}, {"p": 9007199254740993}]}\n'
        '{"o": {"ref": 9007199254740993, "x": 2.5}, "items": [{"p": 3}], "m": [[1.5]]}\n'
        '{"o": null, "items": [], "m": [[-9007199254740995, 2]]}\n'
    )
    written = compact(src, tmp_path / "out.parquet", (), work_dir=tmp_path, limits=LIMITS)
    assert dict(written.columns) == {
        "o": 'STRUCT("ref" VARCHAR, x DOUBLE)',
        "items": "STRUCT(p VARCHAR)[]",
        "m": "VARCHAR[][]",
    }
    assert pq.read_table(written.path).to_pylist() == [
        {
            "o": {"ref": "1.5", "x": 2.0},
            "items": [{"p": "2.5"}, {"p": "9007199254740993"}],
            "m": None,
        },
        {"o": {"ref": "9007199254740993", "x": 2.5}, "items": [{"p": "3"}], "m": [["1.5"]]},
        {"o": None, "items": [], "m": [["-9007199254740995", "2"]]},
    ]


def test_nested_doubles_that_hold_their_values_stay_doubles(tmp_path: Path) -> None:
    src = write_lines(
        tmp_path / "in.ndjson",
        [
            {"items": [{"p": 2.5}, {"p": 2**53}], "o": {"v": -(2**53)}},
            {"items": None, "o": {"v": 0.5}},
        ],
    )
    written = compact(src, tmp_path / "out.parquet", (), work_dir=tmp_path, limits=LIMITS)
    assert dict(written.columns) == {"items": "STRUCT(p DOUBLE)[]", "o": "STRUCT(v DOUBLE)"}
    assert pq.read_table(written.path).to_pylist() == [
        {"items": [{"p": 2.5}, {"p": float(2**53)}], "o": {"v": -float(2**53)}},
        {"items": None, "o": {"v": 0.5}},
    ]


def test_large_doubles_that_are_no_integers_past_two_to_the_53_stay_doubles(
    tmp_path: Path,
) -> None:
    """A double that large may be an integer no double holds, so its text is looked at: 1e16,
    2^53 itself and a fraction past it are doubles as written; 2^53 + 1 beside them is not."""
    src = tmp_path / "in.ndjson"
    src.write_text(
        '{"v": 1e16, "w": 9007199254740992, "l": [{"p": 12345678901234567.5}], "x": 1.5}\n'
        '{"v": -2.5e300, "w": 0.5, "l": [{"p": 1}], "x": -9007199254740993}\n'
    )
    written = compact(src, tmp_path / "out.parquet", (), work_dir=tmp_path, limits=LIMITS)
    assert dict(written.columns) == {
        "v": "DOUBLE",
        "w": "DOUBLE",
        "l": "STRUCT(p DOUBLE)[]",
        "x": "VARCHAR",
    }
    assert pq.read_table(written.path).to_pylist() == [
        {"v": 1e16, "w": float(2**53), "l": [{"p": 12345678901234567.5}], "x": "1.5"},
        {"v": -2.5e300, "w": 0.5, "l": [{"p": 1.0}], "x": "-9007199254740993"},
    ]


def test_nested_integer_leaves_past_two_to_the_53_are_reported(tmp_path: Path) -> None:
    src = tmp_path / "in.ndjson"
    src.write_text(
        '{"o": {"big": 9007199254740993, "small": 1}, "l": [[1, -9007199254740993]], "k": [1]}\n'
    )
    written = compact(src, tmp_path / "out.parquet", (), work_dir=tmp_path, limits=LIMITS)
    assert written.wide_integers == (("o", "big"), ("l", "element", "element"))


def test_an_array_of_integers_of_both_signs_stays_integers(tmp_path: Path) -> None:
    """json_structure calls such an array's elements HUGEINT, which Parquet would store as
    doubles (and the catalog would call decimal)."""
    src = write_lines(tmp_path / "in.ndjson", [{"l": [1, -5]}, {"l": [2**62, -(2**62)]}])
    written = compact(src, tmp_path / "out.parquet", (), work_dir=tmp_path, limits=LIMITS)
    assert dict(written.columns) == {"l": "BIGINT[]"}
    assert pq.read_table(written.path).to_pylist() == [{"l": [1, -5]}, {"l": [2**62, -(2**62)]}]
