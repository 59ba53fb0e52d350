"""`rocket deploy` uploads what a stack's Glue jobs load: scripts and workspace wheels (moto)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from rocket_infra import glue_assets, project, templates

REPO = Path(__file__).resolve().parents[2]
STAGE = "test"
BUCKET = "rocket-test-artifacts"
EXPORT = f"rocket-{STAGE}-ArtifactBucketName"


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    """S3 and a platform-like stack exporting the artifact bucket's name, in moto."""
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        cfn = boto3.client("cloudformation", region_name="us-east-1")
        platform = {
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {"Bucket": {"Value": BUCKET, "Export": {"Name": EXPORT}}},
        }
        cfn.create_stack(StackName=f"rocket-{STAGE}-platform", TemplateBody=json.dumps(platform))
        yield {"s3": s3, "cfn": cfn}


def _keys(s3: Any) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def _body(s3: Any, key: str) -> bytes:
    body: bytes = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return body


def test_etl_layers_job_gets_its_script_and_both_wheels(
    aws: dict[str, Any], tmp_path: Path
) -> None:
    service = project.service(REPO, "etl-layers")
    template = templates.load(service.template)

    written = glue_assets.publish(
        service, template, root=REPO, stage=STAGE, parameters={}, cfn=aws["cfn"], s3=aws["s3"]
    )

    expected = [
        "etl-layers/glue/etl_layers-0.1.0-py3-none-any.whl",
        "etl-layers/glue/reprocess.py",
        "etl-layers/glue/rocket_contracts-0.1.0-py3-none-any.whl",
    ]
    assert sorted(written) == expected == _keys(aws["s3"])
    assert (
        _body(aws["s3"], "etl-layers/glue/reprocess.py")
        == (service.root / "glue" / "reprocess.py").read_bytes()
    )
    for key, package in [(expected[0], "etl_layers"), (expected[2], "rocket_contracts")]:
        wheel = tmp_path / key.rsplit("/", 1)[-1]
        wheel.write_bytes(_body(aws["s3"], key))
        names = zipfile.ZipFile(wheel).namelist()
        assert f"{package}/__init__.py" in names
    # the contracts wheel carries its schemas: the job validates what it publishes
    contracts = zipfile.ZipFile(tmp_path / expected[2].rsplit("/", 1)[-1]).namelist()
    assert "rocket_contracts/schemas/cloudevents/envelope.v1.json" in contracts


JOB_TEMPLATE = {
    "Parameters": {
        "Stage": {"Type": "String"},
        "WheelKey": {"Type": "String", "Default": "svc/glue/svc-1.0.0-py3-none-any.whl"},
    },
    "Resources": {
        "Data": {"Type": "AWS::S3::Bucket"},
        "Job": {
            "Type": "AWS::Glue::Job",
            "Properties": {
                "Command": {
                    "Name": "glueetl",
                    "ScriptLocation": {
                        "Fn::Sub": [
                            "s3://${Bucket}/svc/glue/run.py",
                            {"Bucket": {"Fn::ImportValue": {"Fn::Sub": EXPORT}}},
                        ]
                    },
                },
                "DefaultArguments": {
                    "--additional-python-modules": {
                        "Fn::Sub": [
                            "s3://${Bucket}/${WheelKey},pyyaml==6.0.2",
                            {"Bucket": {"Fn::ImportValue": EXPORT}},
                        ]
                    },
                    # a file in the stack's own bucket: not the artifact bucket's to fill
                    "--extra-files": {"Fn::Sub": "s3://${Data}/lookup.csv"},
                    "--extra-py-files": "s3://someone-elses-bucket/lib.zip",
                },
            },
        },
    },
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A workspace with one member `svc` that has a Glue script."""
    (tmp_path / "pyproject.toml").write_text('[tool.uv.workspace]\nmembers = ["services/*"]\n')
    service = tmp_path / "services" / "svc"
    (service / "glue").mkdir(parents=True)
    (service / "glue" / "run.py").write_text("print('run')\n")
    (service / "pyproject.toml").write_text('[project]\nname = "svc"\nversion = "1.0.0"\n')
    (service / "template.yaml").write_text(json.dumps(JOB_TEMPLATE))
    return tmp_path


def _builder(version: str) -> glue_assets.WheelBuilder:
    def build(distribution: str, folder: Path, root: Path) -> Path:
        wheel = root / "out" / f"{distribution}-{version}-py3-none-any.whl"
        wheel.parent.mkdir(exist_ok=True)
        wheel.write_bytes(f"wheel of {folder.name} {version}".encode())
        return wheel

    return build


def _upload(repo: Path, s3: Any, version: str, **parameters: str) -> list[str]:
    return glue_assets.upload(
        s3,
        BUCKET,
        project.service(repo, "svc"),
        JOB_TEMPLATE,
        root=repo,
        parameters={"Stage": STAGE, **parameters},
        exports={EXPORT: BUCKET},
        builder=_builder(version),
    )


def test_only_artifact_bucket_locations_are_uploaded(aws: dict[str, Any], repo: Path) -> None:
    written = _upload(repo, aws["s3"], "1.0.0")

    assert written == ["svc/glue/run.py", "svc/glue/svc-1.0.0-py3-none-any.whl"]
    assert _keys(aws["s3"]) == sorted(written)
    assert _body(aws["s3"], "svc/glue/svc-1.0.0-py3-none-any.whl") == b"wheel of svc 1.0.0"


def test_a_parameter_override_names_the_wheel_uploaded(aws: dict[str, Any], repo: Path) -> None:
    pyproject = repo / "services" / "svc" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("1.0.0", "1.1.0"))

    written = _upload(repo, aws["s3"], "1.1.0", WheelKey="svc/glue/svc-1.1.0-py3-none-any.whl")

    assert "svc/glue/svc-1.1.0-py3-none-any.whl" in written


def test_a_wheel_the_workspace_no_longer_builds_fails_before_any_upload(
    aws: dict[str, Any], repo: Path
) -> None:
    with pytest.raises(glue_assets.GlueAssetError, match=r"builds svc-1\.1\.0-py3-none-any\.whl"):
        _upload(repo, aws["s3"], "1.1.0")

    assert _keys(aws["s3"]) == []


def test_a_script_missing_from_the_repository_fails_the_deploy(
    aws: dict[str, Any], repo: Path
) -> None:
    (repo / "services" / "svc" / "glue" / "run.py").unlink()

    with pytest.raises(glue_assets.GlueAssetError, match=r"svc/glue/run\.py"):
        _upload(repo, aws["s3"], "1.0.0")
    assert _keys(aws["s3"]) == []


def test_a_wheel_of_no_workspace_package_fails_the_deploy(aws: dict[str, Any], repo: Path) -> None:
    with pytest.raises(glue_assets.GlueAssetError, match="no workspace package is named 'other'"):
        _upload(repo, aws["s3"], "1.0.0", WheelKey="svc/glue/other-2.0-py3-none-any.whl")


def test_a_stack_without_glue_jobs_needs_no_platform(repo: Path) -> None:
    template = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}
    service = project.service(repo, "svc")

    assert (
        glue_assets.publish(
            service, template, root=repo, stage=STAGE, parameters={}, cfn=None, s3=None
        )
        == []
    )
