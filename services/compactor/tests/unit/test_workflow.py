"""A day of landing files through plan, compact and finalize, over fakes: the output, the
catalog, the event, quarantine, and what repeats, races and crashes do."""

from __future__ import annotations

import gzip
import io
import json
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from compactor.domains import DomainCatalog, FieldSpec, FieldType
from compactor.ducktypes import SchemaConflictError
from compactor.ports import (
    CountMismatchError,
    IncompleteRangesError,
    LockLostError,
    PublishError,
    StorageError,
)
from compactor.steps import FinalizeTask, Outcome, Planned, RangeTask
from compactor.workflow import COMPACTED_TAG, SCRATCH_PREFIX, Compactor
from compactor_fakes import DATABASE, LAKE, LANDING, Harness, job, landing_key, ndjson, record
from rocket_contracts import invariants

JSON = dict[str, Any]


def parquet_rows(h: Harness) -> list[JSON]:
    rows: list[JSON] = []
    for key in h.store.keys(LAKE, "orders/dt=2026-11-21/"):
        rows.extend(pq.read_table(io.BytesIO(h.store.objects[(LAKE, key)][0])).to_pylist())
    return rows


def land_day(h: Harness, files: int = 30, per_file: int = 5) -> int:
    n = 0
    for f in range(files):
        records = []
        for _ in range(per_file):
            records.append(record(n))
            n += 1
        h.store.put(LANDING, landing_key(f % 3, f * per_file), ndjson(*records))
    return n


def test_a_day_becomes_parquet_a_partition_and_one_event(harness: Harness) -> None:
    total = land_day(harness)
    harness.store.put(
        LANDING, landing_key(0, 999), ndjson(record(900, coupon="X1"), record(901, amount=1.25))
    )
    planned, done = harness.run(job())
    assert planned.outcome is Outcome.PLANNED
    assert done is not None
    assert done.status == "COMPACTED"
    rows = parquet_rows(harness)
    assert len(rows) == total + 2
    assert {r["order_id"] for r in rows} >= {"o-0", "o-900", "o-901"}
    assert next(r for r in rows if r["order_id"] == "o-900")["coupon"] == "X1"
    assert next(r for r in rows if r["order_id"] == "o-0")["coupon"] is None
    event, correlation, subject = harness.publisher.events[-1]
    data = event.model_dump(mode="json", exclude_none=True)
    assert invariants.errors("compactor.domain.processed.v1", data) == []
    assert (correlation, subject) == ("corr-1", "orders/2026-11-21")
    assert data["source"]["files"] == 31
    assert data["source"]["records"] == data["output"]["records"] == total + 2
    assert {"name": "coupon", "type": "string"} in data["columns"]
    assert {"name": "amount", "type": "double"} in data["columns"]
    columns, location = harness.catalog.partitions[(DATABASE, "orders", "2026-11-21")]
    assert location == "s3://lake/orders/dt=2026-11-21/"
    assert [c.to_json() for c in columns] == data["columns"]
    assert harness.store.keys(LAKE, "_locks/") == []


def test_broken_lines_and_contract_violations_go_to_quarantine_with_the_reason(
    harness: Harness,
) -> None:
    key = landing_key(1, 5)
    harness.store.put(
        LANDING,
        key,
        ndjson(record(1), '{"order_id": "o-2", "amount"', record(3, customer_id="c3"), record(4)),
    )
    harness.store.put(LANDING, landing_key(1, 9), ndjson(record(5, order_id=None)))
    _, done = harness.run(job())
    assert done is not None
    assert (done.records, done.rejected) == (2, 3)
    data = harness.publisher.events[-1][0].model_dump(mode="json", exclude_none=True)
    assert data["quarantine"]["reasons"] == {
        "invalid_json": 1,
        "type:customer_id": 1,
        "missing:order_id": 1,
    }
    assert data["quarantine"]["location"] == "s3://lake/_quarantine/orders/dt=2026-11-21/"
    lines = [
        line
        for k in harness.store.keys(LAKE, "_quarantine/orders/dt=2026-11-21/")
        for line in harness.store.objects[(LAKE, k)][0].splitlines()
    ]
    assert b'"line":2' in lines[0]
    assert key.encode() in lines[0]


def test_a_domain_declares_its_producer_s_camel_case_fields(harness: Harness) -> None:
    """Kafka producers often write `orderId`: a domain declares the fields as they are
    written; the table's columns are their lower-case names, as Glue keeps them."""
    orders = harness.compactor.domains.get("orders")
    fields = (
        FieldSpec(name="orderId", type=FieldType.STRING),
        FieldSpec(name="customerId", type=FieldType.BIGINT),
    )
    harness.compactor.domains = DomainCatalog([orders.model_copy(update={"fields": fields})])
    harness.store.put(
        LANDING,
        landing_key(1, 5),
        ndjson(
            {"orderId": "o-1", "customerId": 7, "amount": 1.5},
            {"orderId": "o-2", "customerId": "x", "amount": 2.5},
            {"customerId": 9, "amount": 3.5},
            {"orderId": "o-4", "customerId": 10, "amount": 4.5},
        ),
    )
    _, done = harness.run(job())
    assert done is not None
    assert (done.records, done.rejected) == (2, 2)
    data = harness.publisher.events[-1][0].model_dump(mode="json", exclude_none=True)
    assert data["quarantine"]["reasons"] == {"type:customerId": 1, "missing:orderId": 1}
    assert {"name": "orderid", "type": "string"} in data["columns"]
    assert {"name": "customerid", "type": "bigint"} in data["columns"]
    assert sorted((r["orderId"], r["customerId"]) for r in parquet_rows(harness)) == [
        ("o-1", 7),
        ("o-4", 10),
    ]


def test_what_only_the_exact_screening_sees_is_quarantined_and_the_rest_compacted(
    harness: Harness,
) -> None:
    """A field that is not declared holding a number past a double's range (DuckDB would read
    it as inf) or invalid UTF-8 (DuckDB would fail the range) is not looked at by the fast
    screening: the range is screened again, exactly, and only those lines are set aside."""
    good = ndjson(record(1), record(2, score=1e300))
    huge = b'{"order_id": "o-3", "customer_id": 3, "amount": 1, "status": "PAID", '
    huge += b'"created_at": "2026-11-21T10:00:00Z", "score": 1e400}\n'
    latin = b'{"order_id": "o-4", "customer_id": 4, "amount": 1, "status": "PAID", '
    latin += b'"created_at": "2026-11-21T10:00:00Z", "note": "caf\xe9"}\n'
    harness.store.put(LANDING, landing_key(0, 1), good + huge + latin + ndjson(record(5)))
    harness.store.put(LANDING, landing_key(1, 1), ndjson(record(6)))
    _, done = harness.run(job())
    assert done is not None
    assert (done.records, done.rejected) == (4, 2)
    # The exact way reads the range from the first pass's local copy, not the bucket again.
    assert sorted(key for bucket, key in harness.store.gets if bucket == LANDING) == sorted(
        [landing_key(0, 1), landing_key(1, 1)]
    )
    rows = {r["order_id"]: r for r in parquet_rows(harness)}
    assert set(rows) == {"o-1", "o-2", "o-5", "o-6"}
    assert rows["o-2"]["score"] == 1e300
    quarantined = [
        json.loads(line)
        for k in harness.store.keys(LAKE, "_quarantine/orders/dt=2026-11-21/")
        for line in harness.store.objects[(LAKE, k)][0].splitlines()
    ]
    assert [(q["line"], q["reason"]) for q in quarantined] == [
        (3, "invalid_json"),
        (4, "invalid_encoding"),
    ]


def test_an_integer_past_bigint_in_an_undeclared_field_is_quarantined_not_the_range(
    harness: Harness,
) -> None:
    """A u64 hash fails DuckDB's BIGINT parse of the whole range; a 30-digit one would be
    stored as a double that is not its value."""
    records = [
        record(0, hash=12345),
        record(1, hash=18446744073709551615),
        record(2, hash=123456789012345678901234567890),
        record(3, hash=-9223372036854775808),
    ]
    harness.store.put(LANDING, landing_key(0, 1), ndjson(*records))
    _, done = harness.run(job())
    assert done is not None
    assert (done.records, done.rejected) == (2, 2)
    rows = {r["order_id"]: r["hash"] for r in parquet_rows(harness)}
    assert rows == {"o-0": 12345, "o-3": -9223372036854775808}
    data = harness.publisher.events[-1][0].model_dump(mode="json", exclude_none=True)
    assert data["quarantine"]["reasons"] == {"integer_out_of_range": 2}


def _raw(i: int, tail: str) -> str:
    """A record's JSON text with `tail` added as written (names json.dumps cannot repeat)."""
    return json.dumps(record(i))[:-1] + ", " + tail + "}"


def test_field_names_duckdb_cannot_make_one_table_of_are_quarantined_not_the_range(
    harness: Harness,
) -> None:
    """A name repeated in a record, an empty one, or one spelt in two cases (in a record or
    across records, nested too) fails DuckDB's parse of the whole range: such records are
    set aside, the most usual spelling kept."""
    lines = [
        json.dumps(record(0, note="a", shipping={"city": "x"})),
        json.dumps(record(1, note="b", shipping={"city": "y"})),
        _raw(2, '"tag": 1, "tag": "x"'),
        _raw(3, '"": 1'),
        _raw(4, '"shipping": {"": 1}'),
        _raw(5, '"Note": "c", "note": "d"'),
        json.dumps(record(6, Note="e")),
        json.dumps(record(7, shipping={"City": "z"})),
        json.dumps(record(8, note="f")),
    ]
    harness.store.put(LANDING, landing_key(0, 1), ndjson(*lines))
    _, done = harness.run(job())
    assert done is not None
    # Screened three ways (fast, strict, strict with the spellings), fetched once.
    assert [key for bucket, key in harness.store.gets if bucket == LANDING] == [landing_key(0, 1)]
    rows = {r["order_id"]: r for r in parquet_rows(harness)}
    assert set(rows) == {"o-0", "o-1", "o-8"}
    assert (rows["o-8"]["note"], rows["o-0"]["shipping"]) == ("f", {"city": "x"})
    data = harness.publisher.events[-1][0].model_dump(mode="json", exclude_none=True)
    assert data["quarantine"]["reasons"] == {
        "duplicate_field": 1,
        "empty_field_name": 2,
        "field_case_conflict": 3,
    }


def test_names_one_catalog_column_would_hold_are_set_aside_not_the_range(
    harness: Harness,
) -> None:
    """`total-amount` beside `total_amount` (or `preço` beside `preco`) would be one column in
    the catalog: the spelling most records have is kept, the other records set aside."""
    lines = [
        json.dumps(record(0, **{"total_amount": 1})),
        json.dumps(record(1, **{"total_amount": 2})),
        json.dumps(record(2, **{"total-amount": 3})),
        json.dumps(record(3, **{"preco": 1})),
        json.dumps(record(4, **{"preço": 2})),
        json.dumps(record(5, **{"preco": 3})),
    ]
    harness.store.put(LANDING, landing_key(0, 1), ndjson(*lines))
    _, done = harness.run(job())
    assert done is not None
    rows = {r["order_id"]: r for r in parquet_rows(harness)}
    assert set(rows) == {"o-0", "o-1", "o-3", "o-5"}
    assert (rows["o-1"]["total_amount"], rows["o-5"]["preco"]) == (2, 3)
    data = harness.publisher.events[-1][0].model_dump(mode="json", exclude_none=True)
    assert data["quarantine"]["reasons"] == {"field_case_conflict": 2}


def test_a_timestamp_the_parse_would_refuse_is_quarantined_and_the_rest_compacted(
    harness: Harness,
) -> None:
    """Hour 25, a leap second or a day with an offset and no time: the parse of the range
    refuses them, so one such record would fail its whole range."""
    bad = ["2026-11-21T25:00:00Z", "2026-11-21T23:59:60Z", "2026-11-21Z"]
    records = [record(n, created_at=stamp) for n, stamp in enumerate(bad, start=1)]
    harness.store.put(LANDING, landing_key(0, 1), ndjson(record(0), *records, record(9)))
    _, done = harness.run(job())
    assert done is not None
    assert (done.records, done.rejected) == (2, 3)
    assert {r["order_id"] for r in parquet_rows(harness)} == {"o-0", "o-9"}
    data = harness.publisher.events[-1][0].model_dump(mode="json", exclude_none=True)
    assert data["quarantine"]["reasons"] == {"type:created_at": 3}


def test_records_breaking_the_declared_fields_are_reported_to_the_producers_once(
    harness: Harness,
) -> None:
    """They are quarantined and the day is published; the violations queue hears of the day
    once, before the event, even when Finalize runs again after the report was sent."""
    harness.store.put(
        LANDING,
        landing_key(1, 5),
        ndjson(record(1), "not json", record(3, customer_id="c3"), record(4, order_id=None)),
    )
    publish = harness.publisher.publish

    def publish_fails_once(*args: Any, **kwargs: Any) -> None:
        harness.publisher.publish = publish
        raise PublishError("topic down")

    harness.publisher.publish = publish_fails_once
    planned = harness.compactor.plan(job())
    assert planned.manifest_key is not None
    for index in planned.indices:
        harness.compactor.compact_range(
            RangeTask(job=job(), manifest_key=planned.manifest_key, index=index)
        )
    finalize = FinalizeTask(job=job(), planned=planned)
    with pytest.raises(PublishError):
        harness.compactor.finalize(finalize)
    # The state machine's Retry runs the same Finalize: the plan is reported again, kept once.
    done = harness.compactor.finalize(finalize)
    assert done.records == 1
    assert len(harness.publisher.events) == 1
    (report,) = harness.violations.sent
    assert report.to_json() == {
        "domain": "orders",
        "date": "2026-11-21",
        "plan_id": planned.plan_id,
        "request_id": "req-1",
        "records": 2,
        "reasons": {"type:customer_id": 1, "missing:order_id": 1},  # not the broken line
        "location": "s3://lake/_quarantine/orders/dt=2026-11-21/",
    }
    assert "2 records break the declared fields" in report.detail()


def test_a_day_whose_records_keep_the_declared_fields_reports_nothing(harness: Harness) -> None:
    harness.store.put(LANDING, landing_key(1, 5), ndjson(record(1), "not json"))
    _, done = harness.run(job())
    assert done is not None
    assert harness.violations.sent == []


def test_a_violation_report_that_cannot_be_sent_fails_finalize_before_the_event(
    harness: Harness,
) -> None:
    harness.store.put(LANDING, landing_key(1, 5), ndjson(record(1), record(2, order_id=None)))
    harness.violations.fail = True
    with pytest.raises(StorageError):
        harness.run(job())
    assert harness.publisher.events == []  # retried by the state machine, then published once


def test_ranges_near_the_target_and_drift_across_ranges_is_one_schema(tmp_path: Path) -> None:
    h = Harness(tmp_path, target_mb=1)
    big = ndjson(*(record(i, note="x" * 900) for i in range(700)))  # ~0.7 MB a file
    h.store.put(LANDING, landing_key(0, 0), big)
    h.store.put(LANDING, landing_key(0, 1), big.replace(b'"amount": 1', b'"amount": 1.5'))
    h.store.put(LANDING, landing_key(0, 2), ndjson(record(1, extra_flag=True)))
    planned, done = h.run(job())
    assert len(planned.ranges) == 2
    assert done is not None
    assert done.files == 2
    schemas = {
        tuple(
            (f.name, str(f.type)) for f in pq.read_schema(io.BytesIO(h.store.objects[(LAKE, k)][0]))
        )
        for k in h.store.keys(LAKE, "orders/dt=2026-11-21/")
    }
    assert len(schemas) == 1  # names and types; Parquet may say "required" where no null is
    assert ("extra_flag", "bool") in schemas.pop()
    assert len(parquet_rows(h)) == 1401


def test_a_day_of_more_ranges_than_the_inline_map_carries_goes_distributed(
    tmp_path: Path,
) -> None:
    """Past the inline limit the indices are only in S3 (the Distributed Map's items) and the
    payload carries their count: the same files, rows and event as the inline Map gives."""
    outputs = []
    for limit in (1, 1000):
        h = Harness(tmp_path / str(limit), target_mb=1, inline_map_max_ranges=limit)
        big = ndjson(*(record(i, note="x" * 900) for i in range(700)))
        h.store.put(LANDING, landing_key(0, 0), big)
        h.store.put(LANDING, landing_key(0, 1), big)
        planned, done = h.run(job())
        assert planned.range_count == 2
        assert planned.distributed is (limit == 1)
        assert planned.ranges == ([] if limit == 1 else [0, 1])
        assert planned.ranges_key is not None
        assert json.loads(h.store.objects[(LAKE, planned.ranges_key)][0]) == [0, 1]
        assert done is not None
        assert done.records == 1400
        outputs.append(sorted(h.store.keys(LAKE, "orders/dt=2026-11-21/")))
    assert outputs[0] == outputs[1]


def test_a_plan_from_before_the_range_count_finalizes_its_listed_ranges() -> None:
    """An execution in flight across a deploy carries the older payload: its ranges are listed."""
    assert list(Planned(outcome=Outcome.PLANNED, ranges=[0, 1, 2]).indices) == [0, 1, 2]
    assert list(Planned(outcome=Outcome.PLANNED, range_count=2).indices) == [0, 1]


def test_a_column_typed_apart_in_two_ranges_is_widened_to_text_in_both(tmp_path: Path) -> None:
    """`code` is an integer in one range and a string in the other: the day says string, the
    range written as an integer is rewritten, and every value is kept as its text."""
    h = Harness(tmp_path, target_mb=1)
    pad = "x" * 900
    h.store.put(
        LANDING, landing_key(0, 0), ndjson(*(record(i, code=i, note=pad) for i in range(700)))
    )
    h.store.put(
        LANDING,
        landing_key(0, 1),
        ndjson(*(record(i, code=f"C{i}", note=pad) for i in range(700, 1400))),
    )
    planned, done = h.run(job())
    assert len(planned.ranges) == 2
    assert done is not None
    event = h.publisher.events[-1][0].model_dump(mode="json")
    assert {"name": "code", "type": "string"} in event["columns"]
    for key in h.store.keys(LAKE, "orders/dt=2026-11-21/"):
        schema = pq.read_schema(io.BytesIO(h.store.objects[(LAKE, key)][0]))
        assert str(schema.field("code").type) == "string"
    codes = {r["code"] for r in parquet_rows(h)}
    assert codes == {str(i) for i in range(700)} | {f"C{i}" for i in range(700, 1400)}


BIG = 2**53 + 1


@pytest.mark.parametrize(
    ("first", "second", "columns", "value"),
    [
        (
            lambda i: {"ref": BIG + 2 * i},
            lambda i: {"ref": i + 0.5},
            {"ref": "string"},
            lambda r: r["ref"],
        ),
        (
            lambda i: {"o": {"ref": BIG + 2 * i, "n": i}, "l": [BIG + 2 * i]},
            lambda i: {"o": {"ref": i + 0.5, "n": 0.5}, "l": [i + 0.5]},
            {"o": "struct<ref:string,n:double>", "l": "array<string>"},
            lambda r: r["o"]["ref"] + r["l"][0],
        ),
    ],
    ids=["column", "nested"],
)
def test_integers_past_two_to_the_53_beside_another_range_s_fractions_stay_exact(
    tmp_path: Path,
    first: Callable[[int], JSON],
    second: Callable[[int], JSON],
    columns: dict[str, str],
    value: Callable[[JSON], str],
) -> None:
    """`ref` holds integers past 2^53 in one range and fractions in the other: as a double the
    integers would each be another number, so the day keeps `ref` as text, exact in both; the
    same inside an object and an array, where only the leaves that would change are text."""
    h = Harness(tmp_path, target_mb=1)
    pad = "x" * 900
    h.store.put(
        LANDING,
        landing_key(0, 0),
        ndjson(*(record(i, **first(i), note=pad) for i in range(700))),
    )
    h.store.put(
        LANDING,
        landing_key(0, 1),
        ndjson(*(record(i, **second(i), note=pad) for i in range(700, 1400))),
    )
    planned, done = h.run(job())
    assert len(planned.ranges) == 2
    assert done is not None
    event = h.publisher.events[-1][0].model_dump(mode="json")
    assert {c["name"]: c["type"] for c in event["columns"] if c["name"] in columns} == columns
    texts = {value(r) for r in parquet_rows(h)}
    width = len(columns)
    assert texts == {str(BIG + 2 * i) * width for i in range(700)} | {
        str(i + 0.5) * width for i in range(700, 1400)
    }


def test_two_ranges_spelling_a_field_in_two_cases_fail_finalize_saying_so(
    tmp_path: Path,
) -> None:
    h = Harness(tmp_path, target_mb=1)
    pad = "x" * 900
    first = ndjson(*(record(i, Code=i, note=pad) for i in range(700)))
    h.store.put(LANDING, landing_key(0, 0), first)
    second = ndjson(*(record(i, code=i, note=pad) for i in range(700, 1400)))
    h.store.put(LANDING, landing_key(0, 1), second)
    with pytest.raises(SchemaConflictError, match=r"more than one way \(code\)"):
        h.run(job())
    assert not h.publisher.events


def test_an_empty_day_says_no_input_and_writes_nothing(harness: Harness) -> None:
    planned, done = harness.run(job())
    assert planned.outcome is Outcome.EMPTY
    assert done is not None
    assert done.status == "NO_INPUT"
    assert harness.store.keys(LAKE, "orders/") == []
    assert harness.catalog.partitions == {}


def test_gzipped_objects_are_compacted_and_one_that_cannot_be_read_is_set_aside(
    harness: Harness,
) -> None:
    """A sink with s3.compression.type=gzip writes .json.gz: read like .json; a broken one is
    one line set aside (its records are not known), the rest of the day compacted."""
    harness.store.put(LANDING, landing_key(0, 1), ndjson(record(1)))
    gz = landing_key(0, 2).replace(".json", ".json.gz")
    harness.store.put(LANDING, gz, gzip.compress(ndjson(record(2), "{broken", record(3))))
    broken = landing_key(0, 4).replace(".json", ".json.gz")
    harness.store.put(LANDING, broken, gzip.compress(ndjson(record(4)))[:-10])
    _, done = harness.run(job())
    assert done is not None
    assert (done.records, done.rejected) == (3, 2)
    assert {r["order_id"] for r in parquet_rows(harness)} == {"o-1", "o-2", "o-3"}
    data = harness.publisher.events[-1][0].model_dump(mode="json", exclude_none=True)
    assert data["quarantine"]["reasons"] == {"invalid_json": 1, "invalid_gzip": 1}
    quarantined = {
        (q["key"], q["line"], q["reason"])
        for k in harness.store.keys(LAKE, "_quarantine/orders/dt=2026-11-21/")
        for q in map(json.loads, harness.store.objects[(LAKE, k)][0].splitlines())
    }
    assert quarantined == {(gz, 2, "invalid_json"), (broken, 0, "invalid_gzip")}


def test_a_day_of_objects_that_are_not_json_says_what_it_left(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """A sink writing snappy lands .json.snappy: nothing of it is compacted, and the Plan
    says so."""
    key = landing_key(0, 1).replace(".json", ".json.snappy")
    harness.store.put(LANDING, key, b"compressed")
    planned, done = harness.run(job())
    assert planned.outcome is Outcome.EMPTY
    assert done is not None
    assert done.status == "NO_INPUT"
    (warning,) = [r for r in caplog.records if r.getMessage().startswith("objects of the day")]
    assert warning.levelname == "WARNING"
    assert warning.skipped == {".json.snappy": 1}  # type: ignore[attr-defined]


def test_a_repeated_request_is_a_no_op_that_answers(harness: Harness) -> None:
    land_day(harness)
    harness.run(job("exec-1"))
    before = dict(harness.store.objects)
    gets = len(harness.store.gets)
    planned, done = harness.run(job("exec-2"))
    assert planned.outcome is Outcome.DONE
    assert done is not None
    assert done.status == "ALREADY_COMPACTED"
    assert len(harness.store.gets) == gets  # no landing file read again
    assert {k: v for k, v in harness.store.objects.items() if not k[1].startswith("_locks")} == {
        k: v for k, v in before.items() if not k[1].startswith("_locks")
    }
    first, again = (e[0] for e in harness.publisher.events)
    assert again.output_hash == first.output_hash


def test_force_recompacts_to_the_same_names_and_drops_what_older_input_left(
    harness: Harness,
) -> None:
    land_day(harness)
    harness.run(job("exec-1"))
    first = harness.store.keys(LAKE, "orders/dt=2026-11-21/")
    harness.run(job("exec-2", force=True))
    assert harness.store.keys(LAKE, "orders/dt=2026-11-21/") == first
    harness.store.put(LANDING, landing_key(2, 500), ndjson(record(500)))
    harness.run(job("exec-3", force=True))
    now = harness.store.keys(LAKE, "orders/dt=2026-11-21/")
    assert len(now) == 1
    assert now != first
    assert len(parquet_rows(harness)) == 151


def test_a_concurrent_execution_of_the_same_day_ends_busy(harness: Harness) -> None:
    land_day(harness)
    first = harness.compactor.plan(job("exec-1"))
    second = harness.compactor.plan(job("exec-2"))
    assert first.outcome is Outcome.PLANNED
    assert second.outcome is Outcome.BUSY
    assert second.holder == "exec-1"


def test_two_executions_started_together_compact_once(harness: Harness) -> None:
    land_day(harness)
    barrier = threading.Barrier(2)
    outcomes: list[Outcome] = []

    def run(name: str) -> None:
        barrier.wait()
        planned, _ = harness.run(job(name))
        outcomes.append(planned.outcome)

    threads = [threading.Thread(target=run, args=(n,)) for n in ("exec-1", "exec-2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) in (
        [Outcome.BUSY, Outcome.PLANNED],
        [Outcome.DONE, Outcome.PLANNED],
    )
    assert [str(e[0].status) for e in harness.publisher.events].count("COMPACTED") == 1
    assert len(parquet_rows(harness)) == 150


class CrashOnce:
    """Fails the first compact_range call past the first range, as a Lambda timeout would."""

    def __init__(self, compactor: Compactor) -> None:
        self.real = compactor.compact_range
        self.crashed = False

    def __call__(self, task: RangeTask) -> Any:
        if task.index == 1 and not self.crashed:
            self.crashed = True
            self.real(task)  # the range's file is written, then the function dies
            raise TimeoutError("Task timed out")
        return self.real(task)


def test_a_crash_mid_way_then_the_retry_gives_the_same_output(tmp_path: Path) -> None:
    h = Harness(tmp_path, target_mb=1)
    big = ndjson(*(record(i, note="x" * 900) for i in range(700)))
    for i in range(3):
        h.store.put(LANDING, landing_key(0, i), big)
    the_job = job("exec-1")
    planned = h.compactor.plan(the_job)
    assert planned.manifest_key is not None
    crash = CrashOnce(h.compactor)
    tasks = [
        RangeTask(job=the_job, manifest_key=planned.manifest_key, index=i) for i in planned.ranges
    ]
    crash(tasks[0])
    with pytest.raises(TimeoutError):
        crash(tasks[1])
    with pytest.raises(IncompleteRangesError):
        h.compactor.finalize(FinalizeTask(job=the_job, planned=planned))
    assert h.publisher.events == []
    # The state machine's Retry runs the failed range again, then the rest.
    for task in tasks[1:]:
        crash(task)
    h.compactor.finalize(FinalizeTask(job=the_job, planned=planned))
    assert len(h.store.keys(LAKE, "orders/dt=2026-11-21/")) == 3
    assert len(parquet_rows(h)) == 2100
    assert h.publisher.events[-1][0].output.records == 2100


def test_a_failed_execution_releases_its_lock_and_a_new_one_finishes(harness: Harness) -> None:
    land_day(harness)
    planned = harness.compactor.plan(job("exec-1"))
    assert planned.outcome is Outcome.PLANNED
    assert harness.compactor.release(job("exec-1"))  # the Catch path
    _, done = harness.run(job("exec-2"))
    assert done is not None
    assert done.records == 150


def test_a_count_mismatch_fails_finalize_and_publishes_nothing(harness: Harness) -> None:
    land_day(harness)
    the_job = job()
    planned = harness.compactor.plan(the_job)
    assert planned.manifest_key is not None
    harness.compactor.compact_range(
        RangeTask(job=the_job, manifest_key=planned.manifest_key, index=0)
    )
    key = planned.manifest_key.replace("plan.json", "range-00000.json")
    found = harness.store.read_json(LAKE, key)
    assert found is not None
    body = found[0]
    harness.store.put_json(LAKE, key, {**body, "lines": body["lines"] + 1})
    with pytest.raises(CountMismatchError, match="lines in"):
        harness.compactor.finalize(FinalizeTask(job=the_job, planned=planned))
    assert harness.publisher.events == []
    assert harness.catalog.partitions == {}
    assert harness.store.tags == {}  # nothing is marked compacted before the output is verified


def test_the_landing_objects_are_tagged_compacted_once_the_output_is_verified(
    harness: Harness,
) -> None:
    land_day(harness, files=4)
    harness.store.tags[(LANDING, landing_key(0, 0))] = {"owner": "sink"}
    planned, _ = harness.run(job("exec-1"))
    expected = f"2026-11-21/{planned.plan_id}"
    landing = harness.store.keys(LANDING)
    assert {k: harness.store.tags[(LANDING, k)][COMPACTED_TAG] for k in landing} == dict.fromkeys(
        landing, expected
    )
    assert harness.store.tags[(LANDING, landing_key(0, 0))]["owner"] == "sink"  # kept
    writes = harness.store.tag_writes
    harness.run(job("exec-2", force=True))  # same input: same plan id, nothing written again
    assert harness.store.tag_writes == writes
    assert harness.store.objects.keys() >= {(LANDING, k) for k in landing}  # never deleted


def test_an_execution_whose_lock_was_taken_over_does_not_commit(harness: Harness) -> None:
    land_day(harness)
    slow = job("exec-slow")
    planned = harness.compactor.plan(slow)
    assert planned.manifest_key is not None
    harness.compactor.compact_range(RangeTask(job=slow, manifest_key=planned.manifest_key, index=0))
    harness.clock.advance(timedelta(hours=3))
    assert harness.compactor.plan(job("exec-new")).outcome is Outcome.PLANNED
    with pytest.raises(LockLostError):
        harness.compactor.finalize(FinalizeTask(job=slow, planned=planned))
    assert harness.publisher.events == []


def test_schema_changes_against_the_table_are_reported(harness: Harness) -> None:
    land_day(harness, files=2)
    harness.run(job("exec-1"))
    harness.store.put(LANDING, landing_key(0, 77), ndjson(record(77, gift=True)))
    harness.run(job("exec-2", force=True))
    changes = harness.publisher.events[-1][0].model_dump(mode="json")["schema_changes"]
    assert changes == [
        {"column": "gift", "change": "ADDED", "from_type": None, "to_type": "boolean"}
    ]
    table_columns = [c.name for c in harness.catalog.tables[(DATABASE, "orders")][0]]
    assert "gift" in table_columns


def test_every_catalog_column_is_a_parquet_column(harness: Harness) -> None:
    """What Athena needs to read a column at all: the table's name is the file's."""
    harness.store.put(
        LANDING, landing_key(0, 0), ndjson(record(1, **{"total-amount": 5, "x": {"a-b": 1}}))
    )
    harness.run(job())
    (key,) = harness.store.keys(LAKE, "orders/dt=2026-11-21/")
    schema = pq.read_schema(io.BytesIO(harness.store.objects[(LAKE, key)][0]))
    columns = dict((c.name, c.type) for c in harness.catalog.tables[(DATABASE, "orders")][0])
    assert {n.lower() for n in schema.names} == set(columns)
    assert columns["total_amount"] == "bigint"
    assert columns["x"] == "struct<a_b:bigint>"
    assert str(schema.field("x").type) == "struct<a_b: int64>"


def test_a_range_removes_the_scratch_a_killed_invocation_left(
    harness: Harness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Lambda keeps /tmp for the next invocation of the environment: a range that was ended
    past its timeout left its copy and lines, which would take the retry's space."""
    left = tmp_path / f"{SCRATCH_PREFIX}killed"
    (left / "pass-0").mkdir(parents=True)
    (left / ".owner").touch()  # its lock went with its process
    (left / "landing.bin").write_bytes(b"x" * 1000)
    land_day(harness)
    _, done = harness.run(job())
    assert done is not None
    assert done.status == "COMPACTED"
    assert not left.exists()
    (warning,) = [r for r in caplog.records if r.getMessage().startswith("removed the scratch")]
    assert (warning.directories, warning.bytes) == (1, 1000)  # type: ignore[attr-defined]
    assert not list(tmp_path.glob(f"{SCRATCH_PREFIX}*"))  # the range's own, removed after it
