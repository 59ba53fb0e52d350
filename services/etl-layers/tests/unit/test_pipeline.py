"""The pipeline over fakes: outputs, catalog, event, idempotency and quarantine of files."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from etl_layers.events import RawObject
from etl_layers.pipeline import SCRATCH_PREFIX, Pipeline, Status, stem_for
from rocket_contracts.bus import payload
from rocket_contracts.models.etl.delivery_published_v1 import EtlDeliveryPublishedV1
from rocket_contracts.registry import schema_for

SAMPLE = (
    b"id,name,amount,date,category\n"
    b"1,Transaction A,150.50,2024-01-15,Sales\n"
    b"2,Transaction B,75.25,2024-01-16,Marketing\n"
    b"3,Transaction C,300.00,2024-01-17,Sales\n"
    b"4,Broken,abc,2024-01-17,Sales\n"
)


def _published(pipeline: Pipeline) -> list[tuple[dict[str, Any], str, str]]:
    return pipeline.publisher.published  # type: ignore[attr-defined, no-any-return]


def test_a_file_goes_through_every_layer(pipeline: Pipeline, store: Any) -> None:
    raw = store.put("raw", "transactions/2024/sample data.csv", SAMPLE)
    outcome = pipeline.process(raw)
    assert outcome.status is Status.PUBLISHED
    stem = stem_for(raw)
    assert store.keys("trusted") == sorted(
        [
            f"_manifests/transactions/{stem}.json",
            *(
                f"transactions/year=2024/month=01/day={d}/{stem}_0.parquet"
                for d in ("15", "16", "17")
            ),
        ]
    )
    assert len(store.keys("delivery")) == 6
    assert store.keys("quarantine") == [f"transactions/rows/{stem}.parquet"]
    catalog = pipeline.catalog.partitions  # type: ignore[attr-defined]
    assert sorted(catalog[("rocket_test_etl", "transactions_trusted")]) == [
        ("2024", "01", "15"),
        ("2024", "01", "16"),
        ("2024", "01", "17"),
    ]
    assert catalog[("rocket_test_etl", "transactions_trusted")][("2024", "01", "15")] == (
        "s3://trusted/transactions/year=2024/month=01/day=15/"
    )
    assert ("DAILY_SUMMARY", "2024", "01", "17") in catalog[
        ("rocket_test_etl", "transactions_delivery")
    ]
    ((event, correlation_id, subject),) = _published(pipeline)
    assert subject == "transactions/2024/sample data.csv"
    assert correlation_id.startswith("raw-")
    assert event["rows"] == {"in": 4, "out": 3, "quarantined": 1, "duplicates": 0}
    assert event["source"]["format"] == "csv"
    jsonschema.validate(event, schema_for("etl.delivery.published.v1"))


def test_the_same_object_again_changes_nothing(pipeline: Pipeline, store: Any) -> None:
    raw = store.put("raw", "transactions/a.csv", SAMPLE)
    pipeline.process(raw)
    before = dict(store.objects)
    puts = len(store.puts)
    assert pipeline.process(raw).status is Status.ALREADY_DONE
    assert store.objects == before
    assert len(store.puts) == puts
    assert len(_published(pipeline)) == 1


def test_a_crash_before_the_manifest_rewrites_the_same_objects(
    pipeline: Pipeline, store: Any
) -> None:
    raw = store.put("raw", "transactions/a.csv", SAMPLE)
    pipeline.process(raw)
    keys = {b: store.keys(b) for b in ("trusted", "delivery", "quarantine")}
    del store.objects[("trusted", pipeline.manifest_key("transactions", stem_for(raw)))]
    assert pipeline.process(raw).status is Status.PUBLISHED
    assert {b: store.keys(b) for b in ("trusted", "delivery", "quarantine")} == keys
    first, second = (e for e, _, _ in _published(pipeline))
    assert first["rows"] == second["rows"]  # its own earlier rows are not counted as duplicates


def test_another_file_with_the_same_rows_writes_no_duplicates(
    pipeline: Pipeline, store: Any
) -> None:
    pipeline.process(store.put("raw", "transactions/a.csv", SAMPLE))
    outcome = pipeline.process(store.put("raw", "transactions/copy-of-a.csv", SAMPLE))
    assert outcome.event is not None
    rows = outcome.event.rows
    assert (rows.in_, rows.out, rows.quarantined, rows.duplicates) == (4, 0, 1, 3)
    assert outcome.event.partitions.trusted == []


def test_unreadable_file_is_quarantined_whole_with_the_reason(
    pipeline: Pipeline, store: Any
) -> None:
    raw = store.put("raw", "transactions/empty.csv", b"")
    outcome = pipeline.process(raw)
    assert outcome.status is Status.FILE_QUARANTINED
    stem = stem_for(raw)
    assert store.keys("quarantine") == [
        f"transactions/files/{stem}/empty.csv",
        f"transactions/files/{stem}/reason.json",
    ]
    reason = json.loads(store.objects[("quarantine", f"transactions/files/{stem}/reason.json")])
    assert reason["reason"] == "empty file"
    assert reason["source"] == "s3://raw/transactions/empty.csv"
    assert _published(pipeline) == []
    assert pipeline.process(raw).status is Status.ALREADY_DONE


def test_object_outside_any_dataset_is_quarantined(pipeline: Pipeline, store: Any) -> None:
    raw = store.put("raw", "invoices/2024/a.csv", SAMPLE)
    outcome = pipeline.process(raw)
    assert outcome.status is Status.FILE_QUARANTINED
    assert outcome.reason == "no dataset declared for this key"
    assert store.keys("quarantine")[0].startswith("_unrouted/files/")


def test_header_only_file_publishes_nothing(pipeline: Pipeline, store: Any) -> None:
    outcome = pipeline.process(
        store.put("raw", "transactions/h.csv", b"id,name,amount,date,category\n")
    )
    assert outcome.status is Status.NO_ROWS
    assert _published(pipeline) == []
    assert store.keys("delivery") == []


def test_object_replaced_since_the_event_is_left_to_its_own_event(
    pipeline: Pipeline, store: Any
) -> None:
    old = store.put("raw", "transactions/a.csv", SAMPLE)
    store.put("raw", "transactions/a.csv", SAMPLE + b"5,E,1,2024-01-18,Sales\n")
    assert pipeline.process(old).status is Status.SUPERSEDED
    assert store.keys("trusted") == []


def test_given_correlation_id_is_carried(pipeline: Pipeline, store: Any) -> None:
    pipeline.process(store.put("raw", "transactions/a.csv", SAMPLE), correlation_id="tx-1")
    assert _published(pipeline)[0][1] == "tx-1"


@pytest.mark.parametrize(
    ("key", "prefix"),
    [("transactions/a b/São Paulo.csv", "S_o_Paulo-"), ("transactions/.csv", "csv-")],
)
def test_stem_is_readable_and_safe(key: str, prefix: str) -> None:
    stem = stem_for(RawObject("raw", key, "e"))
    assert stem.startswith(prefix)
    assert len(stem.rsplit("-", 1)[1]) == 16
    assert stem_for(RawObject("raw", key, "e")) == stem
    assert stem_for(RawObject("raw", key, "other")) != stem


def test_a_file_spanning_many_days_still_fits_in_one_message(
    pipeline: Pipeline, store: Any
) -> None:
    days = [
        f"{y}-{m:02d}-{d:02d}"
        for y in (2021, 2022, 2023)
        for m in range(1, 13)
        for d in range(1, 29)
    ]
    lines = "".join(f"{n},N,10,{day},C{n % 5}\n" for n, day in enumerate(days, start=1))
    raw = store.put(
        "raw", "transactions/year.csv", b"id,name,amount,date,category\n" + lines.encode()
    )
    outcome = pipeline.process(raw)
    assert outcome.event is not None
    assert len(outcome.event.partitions.trusted) == len(days)  # the manifest keeps all
    ((sent, _, _),) = _published(pipeline)
    assert sent["truncated"] is True
    assert len(json.dumps(sent)) < 256 * 1024
    assert len(sent["outputs"]["delivery"]) == 100
    assert sent["manifest"].endswith(f"/_manifests/transactions/{stem_for(raw)}.json")
    jsonschema.validate(sent, schema_for("etl.delivery.published.v1"))
    manifest = json.loads(
        store.objects[("trusted", f"_manifests/transactions/{stem_for(raw)}.json")]
    )
    assert len(manifest["event"]["outputs"]["delivery"]) == 2 * len(days)


def test_the_manifest_says_how_dates_were_read(pipeline: Pipeline, store: Any) -> None:
    raw = store.put(
        "raw",
        "transactions/us/export.csv",
        b"id,name,amount,date,category\n1,A,1.00,1/5/2019,S\n2,B,2.00,1/25/2019,S\n",
    )
    assert pipeline.process(raw).status is Status.PUBLISHED
    manifest = json.loads(
        store.objects[("trusted", f"_manifests/transactions/{stem_for(raw)}.json")]
    )
    assert manifest["read"] == {
        "encoding": "utf-8",
        "header_line": 1,
        "date_orders": {
            "date": {"format": "MM/dd/yyyy", "decided_by": "values", "example": "1/25/2019"}
        },
        "decimal": {
            "format": "1,234.56",
            "decided_by": "values",
            "example": "1.00",
            "other_example": None,
        },
    }


def test_a_file_mixing_date_orders_is_quarantined_whole_with_the_reason(
    pipeline: Pipeline, store: Any
) -> None:
    raw = store.put(
        "raw",
        "transactions/mixed.csv",
        b"id,name,amount,date,category\n1,A,1.00,25/01/2019,S\n2,B,2.00,01/25/2019,S\n",
    )
    outcome = pipeline.process(raw)
    assert outcome.status is Status.FILE_QUARANTINED
    reason = json.loads(
        store.objects[("quarantine", f"transactions/files/{stem_for(raw)}/reason.json")]
    )["reason"]
    assert reason == (
        "column 'date' mixes day-first dates (such as '25/01/2019') and month-first dates "
        "(such as '01/25/2019'): write all its dates in one order"
    )


def test_the_event_is_the_contract_model_and_the_manifest_keeps_its_wire_form(
    pipeline: Pipeline, store: Any
) -> None:
    raw = store.put("raw", "transactions/a.csv", SAMPLE)
    outcome = pipeline.process(raw)
    (model,) = pipeline.publisher.models  # type: ignore[attr-defined]
    assert type(model) is EtlDeliveryPublishedV1
    assert outcome.event == model
    manifest = json.loads(
        store.objects[("trusted", f"_manifests/transactions/{stem_for(raw)}.json")]
    )
    assert manifest["event"] == payload(model)
    assert "version_id" not in manifest["event"]["source"]  # absent, as on the wire


def test_an_object_removes_the_scratch_a_killed_invocation_left(
    pipeline: Pipeline, store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Lambda keeps /tmp for the next invocation of the environment: one ended past its
    timeout left its raw file and the engine's spill, which would take the retry's space."""
    work = pipeline.config.work_dir
    left = work / f"{SCRATCH_PREFIX}killed"
    (left / "engine").mkdir(parents=True)
    (left / ".owner").touch()  # its lock went with its process
    (left / "raw.csv").write_bytes(b"x" * 500)
    raw = store.put("raw", "transactions/2024/sample data.csv", SAMPLE)
    assert pipeline.process(raw).status is Status.PUBLISHED
    assert not left.exists()
    (warning,) = [r for r in caplog.records if r.getMessage().startswith("removed the scratch")]
    assert (warning.directories, warning.bytes) == (1, 500)  # type: ignore[attr-defined]
    assert list(work.iterdir()) == []  # the object's own, removed after it
