"""etl-layers' producer and consumer contracts.

Producer: every etl.delivery.published.v1 the service publishes, for every dataset and input
format and for the all-quarantined case, validates against its schema (through the real bus
publish) and parses back as its model. Consumer: etl-layers consumes no bus message (its input
is S3 notifications on its own queue); its manifest says so, and the S3 notifications it is
sent, as S3 sends them, parse.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from etl_layers.adapters.bus import SOURCE, BusPublisher
from etl_layers.datasets import DatasetCatalog, default_datasets_dir
from etl_layers.events import RawObject, parse_s3_message
from etl_layers.pipeline import Pipeline, PipelineConfig, Status
from etl_layers.ports import ListedObject, ObjectChangedError, PartitionSpec
from rocket_contracts import registry
from rocket_contracts.bus import parse_message
from rocket_contracts.models.etl.delivery_published_v1 import EtlDeliveryPublishedV1
from rocket_contracts.testing import CapturingSns
from rocket_contracts.validation import errors as schema_errors

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICE = REPO_ROOT / "services" / "etl-layers"
MANIFEST = yaml.safe_load((SERVICE / "messages.yaml").read_text())
EVENT_TYPE = "etl.delivery.published.v1"


class MemoryStore:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def put(self, bucket: str, key: str, data: bytes) -> RawObject:
        self.objects[(bucket, key)] = data
        return RawObject(bucket, key, hashlib.md5(data).hexdigest(), size=len(data))

    def download(
        self, bucket: str, key: str, dest: Path, *, etag: str | None, version_id: str | None
    ) -> None:
        if (bucket, key) not in self.objects:
            raise ObjectChangedError(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(self.objects[(bucket, key)])

    def upload(self, path: Path, bucket: str, key: str) -> None:
        self.put(bucket, key, path.read_bytes())

    def put_json(self, bucket: str, key: str, body: dict[str, Any]) -> None:
        self.put(bucket, key, json.dumps(body, default=str).encode())

    def copy(
        self,
        src_bucket: str,
        src_key: str,
        dest_bucket: str,
        dest_key: str,
        *,
        version_id: str | None,
    ) -> None:
        self.put(dest_bucket, dest_key, self.objects[(src_bucket, src_key)])

    def exists(self, bucket: str, key: str) -> bool:
        return (bucket, key) in self.objects

    def create_json(self, bucket: str, key: str, body: dict[str, Any]) -> bool:
        if (bucket, key) in self.objects:
            return False
        self.put_json(bucket, key, body)
        return True

    def replace_json(self, bucket: str, key: str, body: dict[str, Any], etag: str) -> bool:
        current = self.read_json(bucket, key)
        if current is None or current[1] != etag:
            return False
        self.put_json(bucket, key, body)
        return True

    def read_json(self, bucket: str, key: str) -> tuple[dict[str, Any], str] | None:
        data = self.objects.get((bucket, key))
        return None if data is None else (json.loads(data), hashlib.md5(data).hexdigest())

    def delete(self, bucket: str, key: str) -> None:
        self.objects.pop((bucket, key), None)

    def list_keys(self, bucket: str, prefix: str) -> list[str]:
        return sorted(k for b, k in self.objects if b == bucket and k.startswith(prefix))

    def list_objects(self, bucket: str, prefix: str) -> list[ListedObject]:
        return [ListedObject(k, "e", 0) for k in self.list_keys(bucket, prefix)]


class NullCatalog:
    def add_partitions(self, database: str, table: str, partitions: Any) -> None:
        assert all(isinstance(p, PartitionSpec) for p in partitions)


def _xlsx() -> bytes:
    import openpyxl  # type: ignore[import-untyped]

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["payment_id", "merchant_id", "paid_at", "method", "amount"])
    sheet.append(["p-1", 10, datetime(2024, 3, 1, 10, 30), "PIX", 99.9])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _parquet() -> bytes:
    buffer = io.BytesIO()
    pq.write_table(
        pa.table({"id": [1, 2], "amount": [1.5, 2.5], "date": ["2024-01-15", "2024-01-16"]}),
        buffer,
    )
    return buffer.getvalue()


INPUTS: dict[str, bytes] = {
    "transactions/sample.csv": (
        b"id,name,amount,date,category\n1,A,150.50,2024-01-15,Sales\n2,B,x,2024-01-16,Ops\n"
    ),
    "transactions/br;latin1.csv": "id;nome;valor;data\n1;São;1.234,50;15/01/2024\n".encode(
        "latin-1"
    ),
    "transactions/all bad.csv": b"id,name,amount,date,category\n1,A,x,2024-01-15,S\n",
    "transactions/t.parquet": _parquet(),
    "payments/2024/03/pix.ndjson": (
        b'{"payment_id":"p-1","merchant_id":7,"paid_at":"2024-03-01T10:00:00Z",'
        b'"method":"PIX","amount":10}\n'
    ),
    "payments/2024/03/array.json": (
        b'[{"payment_id":"p-2","merchant_id":7,"paid_at":"2024-03-01 10:00:00",'
        b'"method":"BOLETO","amount":1e3,"installments":2}]'
    ),
    "payments/2024/03/sheet.xlsx": _xlsx(),
}


@pytest.fixture
def published(tmp_path: Path) -> list[tuple[str, Mapping[str, Any]]]:
    sns = CapturingSns()
    store = MemoryStore()
    pipeline = Pipeline(
        datasets=DatasetCatalog.load(default_datasets_dir()),
        store=store,
        catalog=NullCatalog(),
        publisher=BusPublisher("arn:aws:sns:us-east-1:123456789012:events", client=sns),  # type: ignore[arg-type]
        config=PipelineConfig(
            trusted_bucket="rocket-contract-etl-layers-trusted",
            delivery_bucket="rocket-contract-etl-layers-delivery",
            quarantine_bucket="rocket-contract-etl-layers-quarantine",
            glue_database="rocket_contract_etl",
            work_dir=tmp_path,
            pipeline_version="0.1.0",
        ),
        clock=lambda: datetime(2026, 11, 22, 12, tzinfo=UTC),
    )
    for key, data in INPUTS.items():
        outcome = pipeline.process(store.put("rocket-contract-etl-layers-raw", key, data))
        assert outcome.status is Status.PUBLISHED, (key, outcome)
    return sns.messages


def test_manifest_lists_what_the_service_produces_and_consumes() -> None:
    assert MANIFEST["produces"] == [EVENT_TYPE]
    assert MANIFEST["consumes"] == {}
    assert EVENT_TYPE in registry.event_types()


def test_every_published_event_validates_and_parses(
    published: list[tuple[str, Mapping[str, Any]]],
) -> None:
    assert len(published) == len(INPUTS)
    schema = registry.schema_for(EVENT_TYPE)
    formats = set()
    for message, attributes in published:
        assert attributes["type"] == {"DataType": "String", "StringValue": EVENT_TYPE}
        envelope = json.loads(message)
        assert envelope["source"] == SOURCE
        assert schema_errors(schema, envelope["data"]) == []
        parsed = parse_message(message, type_attribute=EVENT_TYPE)
        assert parsed.event_type == EVENT_TYPE
        assert isinstance(parsed.data, EtlDeliveryPublishedV1)
        formats.add(parsed.data.source.format)
    assert formats == {"csv", "parquet", "ndjson", "json", "xlsx"}


def test_all_quarantined_file_is_still_announced(
    published: list[tuple[str, Mapping[str, Any]]],
) -> None:
    (data,) = [
        json.loads(m)["data"]
        for m, _ in published
        if json.loads(m)["data"]["source"]["key"] == "transactions/all bad.csv"
    ]
    assert data["rows"] == {"in": 1, "out": 0, "quarantined": 1, "duplicates": 0}
    assert data["mean_quality_score"] is None
    assert data["outputs"]["trusted"] == []
    assert len(data["outputs"]["quarantine"]) == 1


def test_schema_examples_are_what_a_consumer_of_this_service_parses() -> None:
    for example in registry.schema_for(EVENT_TYPE)["examples"]:
        model = EtlDeliveryPublishedV1.model_validate(example)
        assert model.dataset == example["dataset"]


def test_s3_notifications_it_consumes_parse() -> None:
    events = SERVICE / "tests" / "events"
    for path in sorted(events.glob("s3-*.json")):
        objects = parse_s3_message(path.read_text())
        assert all(o.key and "%" not in o.key for o in objects)
