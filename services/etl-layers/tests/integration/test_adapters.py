"""The S3 and Glue adapters against moto: the errors the pipeline relies on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import pytest
from etl_layers.adapters.glue import GlueCatalog
from etl_layers.adapters.s3 import S3ObjectStore
from etl_layers.ports import CatalogError, ObjectChangedError, PartitionSpec, StorageError
from moto import mock_aws

REGION = "us-east-1"


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="bkt")
        yield s3, boto3.client("glue", region_name=REGION)


def test_download_is_pinned_to_the_etag(clients: tuple[Any, Any], tmp_path: Path) -> None:
    s3, _ = clients
    store = S3ObjectStore(s3)
    old = s3.put_object(Bucket="bkt", Key="k.csv", Body=b"old")["ETag"].strip('"')
    store.download("bkt", "k.csv", tmp_path / "a", etag=old, version_id=None)
    assert (tmp_path / "a").read_bytes() == b"old"
    s3.put_object(Bucket="bkt", Key="k.csv", Body=b"new")
    with pytest.raises(ObjectChangedError):
        store.download("bkt", "k.csv", tmp_path / "b", etag=old, version_id=None)
    with pytest.raises(ObjectChangedError):
        store.download("bkt", "gone.csv", tmp_path / "c", etag=None, version_id=None)


def test_exists_list_copy_and_errors(clients: tuple[Any, Any], tmp_path: Path) -> None:
    s3, _ = clients
    store = S3ObjectStore(s3)
    assert not store.exists("bkt", "x/1.json")
    store.put_json("bkt", "x/1.json", {"a": 1})
    (tmp_path / "f").write_bytes(b"data")
    store.upload(tmp_path / "f", "bkt", "x/2.bin")
    store.copy("bkt", "x/2.bin", "bkt", "y/3.bin", version_id=None)
    assert store.exists("bkt", "x/1.json")
    assert store.list_keys("bkt", "x/") == ["x/1.json", "x/2.bin"]
    (listed,) = store.list_objects("bkt", "y/")
    assert (listed.key, listed.size) == ("y/3.bin", 4)
    with pytest.raises(StorageError):
        store.list_keys("no-such-bucket", "")


def test_conditional_writes_for_the_partition_locks(clients: tuple[Any, Any]) -> None:
    s3, _ = clients
    s3.put_bucket_versioning(Bucket="bkt", VersioningConfiguration={"Status": "Enabled"})
    store = S3ObjectStore(s3)
    assert store.read_json("bkt", "_locks/d/p.json") is None
    assert store.create_json("bkt", "_locks/d/p.json", {"owner": "a"}) is True
    assert store.create_json("bkt", "_locks/d/p.json", {"owner": "b"}) is False
    read = store.read_json("bkt", "_locks/d/p.json")
    assert read is not None
    body, etag = read
    assert body == {"owner": "a"}
    assert store.replace_json("bkt", "_locks/d/p.json", {"owner": "c"}, "0" * 32) is False
    assert store.replace_json("bkt", "_locks/d/p.json", {"owner": "c"}, etag) is True
    assert store.replace_json("bkt", "_locks/d/p.json", {"owner": "d"}, etag) is False
    store.delete("bkt", "_locks/d/p.json")
    # In a versioned bucket the delete marker does not block the next creator.
    assert store.create_json("bkt", "_locks/d/p.json", {"owner": "e"}) is True
    with pytest.raises(StorageError):
        store.create_json("no-such-bucket", "k", {})


def test_partitions_are_added_once(clients: tuple[Any, Any]) -> None:
    _, glue = clients
    glue.create_database(DatabaseInput={"Name": "d"})
    glue.create_table(
        DatabaseName="d",
        TableInput={
            "Name": "t",
            "PartitionKeys": [{"Name": "year", "Type": "string"}],
            "StorageDescriptor": {
                "Columns": [{"Name": "id", "Type": "bigint"}],
                "Location": "s3://bkt/t/",
                "SerdeInfo": {"SerializationLibrary": "parquet"},
            },
        },
    )
    catalog = GlueCatalog(glue)
    catalog.add_partitions("d", "t", [PartitionSpec(("2024",), "s3://bkt/t/year=2024/")])
    catalog.add_partitions(
        "d",
        "t",
        [
            PartitionSpec(("2024",), "s3://bkt/t/year=2024/"),
            PartitionSpec(("2025",), "s3://bkt/t/year=2025/"),
        ],
    )
    partitions = glue.get_partitions(DatabaseName="d", TableName="t")["Partitions"]
    assert sorted((p["Values"][0], p["StorageDescriptor"]["Location"]) for p in partitions) == [
        ("2024", "s3://bkt/t/year=2024/"),
        ("2025", "s3://bkt/t/year=2025/"),
    ]
    assert partitions[0]["StorageDescriptor"]["Columns"] == [{"Name": "id", "Type": "bigint"}]
    with pytest.raises(CatalogError):
        catalog.add_partitions("d", "missing", [PartitionSpec(("2024",), "s3://bkt/x/")])


def test_a_failed_upload_is_a_storage_error(clients: tuple[Any, Any], tmp_path: Path) -> None:
    # boto3's managed transfer raises its own S3UploadFailedError, not a ClientError.
    s3, _ = clients
    (tmp_path / "f").write_bytes(b"data")
    with pytest.raises(StorageError, match="put s3://no-such-bucket/k"):
        S3ObjectStore(s3).upload(tmp_path / "f", "no-such-bucket", "k")


def test_an_unreachable_endpoint_is_a_storage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Connection errors are BotoCoreError: the file fails, a reprocess run goes on.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    client = boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url="http://127.0.0.1:9",
        config=botocore.config.Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    with pytest.raises(StorageError) as caught:
        S3ObjectStore(client).put_json("bkt", "k.json", {"a": 1})
    assert isinstance(caught.value.__cause__, botocore.exceptions.EndpointConnectionError)
