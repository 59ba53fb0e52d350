"""The stack: what the issue and the seed require of it, and the catalog matching the datasets."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode_str
from etl_layers.datasets import DatasetCatalog
from etl_layers.transform import (
    DELIVERY_PARTITION_KEYS,
    TRUSTED_PARTITION_KEYS,
    delivery_columns,
    trusted_columns,
)

SERVICE = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    decoded, problems = decode_str((SERVICE / "template.yaml").read_text())
    assert not problems
    return decoded  # type: ignore[no-any-return]


def _of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_glue_tables_match_the_dataset_declarations(
    template: dict[str, Any], datasets: DatasetCatalog
) -> None:
    tables = {
        r["Properties"]["TableInput"]["Name"]: r["Properties"]["TableInput"]
        for r in _of_type(template, "AWS::Glue::Table").values()
    }
    expected: dict[str, tuple[Sequence[tuple[str, str]], tuple[str, ...]]] = {}
    for name in datasets.names():
        spec = datasets.get(name)
        expected[f"{name}_trusted"] = (trusted_columns(spec), TRUSTED_PARTITION_KEYS)
        expected[f"{name}_delivery"] = (delivery_columns(spec), DELIVERY_PARTITION_KEYS)
    assert sorted(tables) == sorted(expected)
    for name, (columns, keys) in expected.items():
        table = tables[name]
        assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == columns
        assert [k["Name"] for k in table["PartitionKeys"]] == list(keys)


def test_function_defaults_to_the_seeds_memory_and_reports_item_failures(
    template: dict[str, Any],
) -> None:
    assert template["Parameters"]["MemorySize"]["Default"] == 512
    (mapping,) = _of_type(template, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    (function,) = _of_type(template, "AWS::Lambda::Function").values()
    assert function["Properties"]["Handler"] == "etl_layers.handlers.etl.handler"
    assert (SERVICE / "src/etl_layers/handlers/etl.py").is_file()


def test_buckets_are_private_encrypted_versioned_and_tls_only(template: dict[str, Any]) -> None:
    buckets = _of_type(template, "AWS::S3::Bucket")
    assert sorted(buckets) == ["DeliveryBucket", "QuarantineBucket", "RawBucket", "TrustedBucket"]
    policies = {
        p["Properties"]["Bucket"]["Ref"]: p["Properties"]["PolicyDocument"]["Statement"]
        for p in _of_type(template, "AWS::S3::BucketPolicy").values()
    }
    for name, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["VersioningConfiguration"]["Status"] == "Enabled"
        assert all(props["PublicAccessBlockConfiguration"].values())
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        (deny,) = policies[name]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_seeds_lifecycle_rules(template: dict[str, Any]) -> None:
    def rule(bucket: str) -> dict[str, Any]:
        rules = template["Resources"][bucket]["Properties"]["LifecycleConfiguration"]["Rules"]
        return rules[0]  # type: ignore[no-any-return]

    raw = rule("RawBucket")
    assert [(t["StorageClass"], t["TransitionInDays"]) for t in raw["Transitions"]] == [
        ("STANDARD_IA", 30),
        ("GLACIER", 90),
    ]
    assert raw["ExpirationInDays"] == 2555
    trusted = rule("TrustedBucket")
    assert [(t["StorageClass"], t["TransitionInDays"]) for t in trusted["Transitions"]] == [
        ("STANDARD_IA", 60),
        ("GLACIER", 180),
    ]
    (locks,) = (
        r
        for r in template["Resources"]["TrustedBucket"]["Properties"]["LifecycleConfiguration"][
            "Rules"
        ]
        if r.get("Prefix") == "_locks/"
    )
    assert locks["ExpiredObjectDeleteMarker"] is True


def test_raw_notifications_reach_the_queue_which_has_a_dlq(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    (config,) = resources["RawBucket"]["Properties"]["NotificationConfiguration"][
        "QueueConfigurations"
    ]
    assert config["Event"] == "s3:ObjectCreated:*"
    assert config["Queue"] == {"Fn::GetAtt": ["RawEventsQueue", "Arn"]}
    queue = resources["RawEventsQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["RawEventsDeadLetterQueue", "Arn"]
    }
    assert queue["SqsManagedSseEnabled"] is True


def test_reprocess_job_runs_the_shipped_script(template: dict[str, Any]) -> None:
    job = template["Resources"]["ReprocessJob"]["Properties"]
    assert job["Name"] == {"Fn::Sub": "rocket-${Stage}-etl-layers-reprocess"}
    # Python shell jobs offer Python 3.9 at most; the package needs 3.11, which Glue 5.0 has.
    assert (job["Command"]["Name"], job["GlueVersion"]) == ("glueetl", "5.0")
    assert "MaxCapacity" not in job  # Glue rejects it next to WorkerType
    location = job["Command"]["ScriptLocation"]["Fn::Sub"][0]
    assert location == "s3://${Bucket}/etl-layers/glue/reprocess.py"
    assert (SERVICE / "glue/reprocess.py").is_file()
    modules = job["DefaultArguments"]["--additional-python-modules"]["Fn::Sub"][0]
    assert modules == "s3://${Bucket}/${ReprocessWheelKey},s3://${Bucket}/${ContractsWheelKey}"
    assert "--extra-py-files" not in job["DefaultArguments"]  # the zip's wheels are cp312
    parameters = template["Parameters"]
    for name in ("ReprocessWheelKey", "ContractsWheelKey"):
        assert parameters[name]["Default"].startswith("etl-layers/glue/")
        assert parameters[name]["Default"].endswith("-py3-none-any.whl")
