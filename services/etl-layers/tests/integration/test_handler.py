"""The ETL handler against moto: S3 notifications exactly as S3 sends them, real adapters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import boto3
import pytest
from etl_layers.bootstrap import build
from etl_layers.handlers.etl import handler
from etl_layers.pipeline import Pipeline
from etl_layers.settings import Settings
from moto import mock_aws

REGION = "us-east-1"
EVENTS = Path(__file__).parents[1] / "events"
RAW, TRUSTED, DELIVERY, QUARANTINE = "it-raw", "it-trusted", "it-delivery", "it-quarantine"
DATABASE = "rocket_it_etl"
KEY = "transactions/2024/vendas de janeiro (São Paulo)+extra.csv"
CSV = (
    "id;nome;valor;data;categoria\n"
    "1;Café;1.234,50;15/01/2024;Alimentação\n"
    "2;Pão;3,20;15/01/2024;Alimentação\n"
    "3;Erro;abc;16/01/2024;Outros\n"
).encode("latin-1")


@dataclass
class Context:
    function_name: str = "rocket-it-etl-layers-etl"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:etl"
    aws_request_id: str = "req-1"


@dataclass
class Aws:
    s3: Any
    sqs: Any
    glue: Any
    tap_url: str
    pipeline: Pipeline


def _table(name: str, keys: list[str]) -> Any:
    return {
        "Name": name,
        "PartitionKeys": [{"Name": k, "Type": "string"} for k in keys],
        "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "bigint"}], "Location": "s3://x/"},
    }


@pytest.fixture
def aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        for bucket in (RAW, TRUSTED, DELIVERY, QUARANTINE):
            s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=RAW, VersioningConfiguration={"Status": "Enabled"})
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        topic = sns.create_topic(Name="events")["TopicArn"]
        tap_url = sqs.create_queue(QueueName="tap")["QueueUrl"]
        tap_arn = sqs.get_queue_attributes(QueueUrl=tap_url, AttributeNames=["QueueArn"])
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=tap_arn["Attributes"]["QueueArn"],
            Attributes={"RawMessageDelivery": "true"},
        )
        glue = boto3.client("glue", region_name=REGION)
        glue.create_database(DatabaseInput={"Name": DATABASE})
        glue.create_table(
            DatabaseName=DATABASE,
            TableInput=_table("transactions_trusted", ["year", "month", "day"]),
        )
        glue.create_table(
            DatabaseName=DATABASE,
            TableInput=_table("transactions_delivery", ["record_type", "year", "month", "day"]),
        )
        settings = Settings(
            raw_bucket=RAW,
            trusted_bucket=TRUSTED,
            delivery_bucket=DELIVERY,
            quarantine_bucket=QUARANTINE,
            event_topic_arn=topic,
            glue_database=DATABASE,
            work_dir=tmp_path,
        )
        yield Aws(s3, sqs, glue, tap_url, build(settings))


def _s3_record(aws: Aws, key: str) -> dict[str, Any]:
    """The SQS record S3 delivers for a put of `key` (key form-encoded, as S3 does)."""
    head = aws.s3.head_object(Bucket=RAW, Key=key)
    body = json.loads((EVENTS / "s3-put-encoded-key.json").read_text())
    obj = body["Records"][0]["s3"]["object"]
    obj.update(
        key=quote_plus(key, safe=""),
        eTag=head["ETag"].strip('"'),
        versionId=head.get("VersionId"),
        size=head["ContentLength"],
    )
    body["Records"][0]["s3"]["bucket"].update(name=RAW, arn=f"arn:aws:s3:::{RAW}")
    return _sqs_record(json.dumps(body), message_id=f"m-{key}")


def _sqs_record(body: str, message_id: str) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": "rh",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1732276800000"},
        "messageAttributes": {},
        "md5OfBody": "x",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:rocket-it-etl-layers-raw-events",
        "awsRegion": REGION,
    }


def _keys(aws: Aws, bucket: str) -> list[str]:
    return [o["Key"] for o in aws.s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def _bus(aws: Aws) -> list[dict[str, Any]]:
    messages = aws.sqs.receive_message(QueueUrl=aws.tap_url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_encoded_key_with_spaces_and_accents_is_processed(aws: Aws) -> None:
    aws.s3.put_object(Bucket=RAW, Key=KEY, Body=CSV)
    event = {"Records": [_s3_record(aws, KEY)]}
    assert handler(event, Context(), pipeline=aws.pipeline) == {"batchItemFailures": []}
    trusted = _keys(aws, TRUSTED)
    assert [k for k in trusted if k.startswith("transactions/")] == [
        k
        for k in trusted
        if k.startswith("transactions/year=2024/month=01/day=15/vendas_de_janeiro")
    ]
    assert len(_keys(aws, QUARANTINE)) == 1
    partitions = aws.glue.get_partitions(DatabaseName=DATABASE, TableName="transactions_trusted")
    assert [p["Values"] for p in partitions["Partitions"]] == [["2024", "01", "15"]]
    assert partitions["Partitions"][0]["StorageDescriptor"]["Location"] == (
        f"s3://{TRUSTED}/transactions/year=2024/month=01/day=15/"
    )
    (cloud_event,) = _bus(aws)
    assert cloud_event["type"] == "etl.delivery.published.v1"
    assert cloud_event["source"] == "rocket/etl-layers"
    assert cloud_event["subject"] == KEY
    data = cloud_event["data"]
    assert data["source"]["key"] == KEY
    assert data["rows"] == {"in": 3, "out": 2, "quarantined": 1, "duplicates": 0}


def test_redelivered_notification_changes_nothing(aws: Aws) -> None:
    aws.s3.put_object(Bucket=RAW, Key=KEY, Body=CSV)
    record = _s3_record(aws, KEY)
    handler({"Records": [record]}, Context(), pipeline=aws.pipeline)
    snapshot = {
        b: [(o["Key"], o["ETag"]) for o in aws.s3.list_objects_v2(Bucket=b).get("Contents", [])]
        for b in (TRUSTED, DELIVERY, QUARANTINE)
    }
    _bus(aws)
    assert handler({"Records": [record]}, Context(), pipeline=aws.pipeline) == {
        "batchItemFailures": []
    }
    assert snapshot == {
        b: [(o["Key"], o["ETag"]) for o in aws.s3.list_objects_v2(Bucket=b).get("Contents", [])]
        for b in (TRUSTED, DELIVERY, QUARANTINE)
    }
    assert _bus(aws) == []


def test_only_the_bad_record_fails(aws: Aws) -> None:
    aws.s3.put_object(Bucket=RAW, Key=KEY, Body=CSV)
    test_event = _sqs_record((EVENTS / "s3-test-event.json").read_text(), "m-test")
    garbage = _sqs_record("this is not an S3 event", "m-garbage")
    missing = _s3_record(aws, KEY)
    missing["messageId"] = "m-missing"
    missing_body = json.loads(missing["body"])
    missing_body["Records"][0]["s3"]["object"]["key"] = "transactions%2Fgone.csv"
    missing["body"] = json.dumps(missing_body)
    event = {"Records": [test_event, garbage, _s3_record(aws, KEY), missing]}
    response = handler(event, Context(), pipeline=aws.pipeline)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-garbage"}]}
    assert len(_bus(aws)) == 1


def test_glue_failure_fails_the_record_for_a_retry(aws: Aws) -> None:
    aws.glue.delete_table(DatabaseName=DATABASE, Name="transactions_trusted")
    aws.s3.put_object(Bucket=RAW, Key=KEY, Body=CSV)
    record = _s3_record(aws, KEY)
    test_event = _sqs_record((EVENTS / "s3-test-event.json").read_text(), "m-test")
    response = handler({"Records": [test_event, record]}, Context(), pipeline=aws.pipeline)
    assert response == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    assert _bus(aws) == []
    assert not any(k.startswith("_manifests/") for k in _keys(aws, TRUSTED))


def test_a_batch_of_one_poison_message_answers_with_its_failure_and_logs_it(
    aws: Aws, caplog: pytest.LogCaptureFixture
) -> None:
    garbage = _sqs_record("this is not an S3 event", "m-poison")
    response = handler({"Records": [garbage]}, Context(), pipeline=aws.pipeline)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-poison"}]}
    # Without a DLQ to send it to, it fails (and SQS moves it after maxReceiveCount), logged.
    (failed,) = [r for r in caplog.records if r.getMessage() == "invalid message"]
    assert failed.__dict__["message_id"] == "m-poison"
    assert failed.__dict__["reason"] == "Expecting value: line 1 column 1 (char 0)"
