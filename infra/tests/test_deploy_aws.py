"""The AWS path of `rocket deploy`: change sets, waiting, failures printed (on a fake
CloudFormation that behaves like the real one, since tests never reach AWS)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from rocket_infra import aws, deploy, project


class FakeCloudFormation:
    """Stacks and change sets in memory; `outcome` is the status an executed change set ends in."""

    def __init__(self, outcome: str = "COMPLETE") -> None:
        self.outcome = outcome
        self.stacks: dict[str, dict[str, Any]] = {}
        self.change_sets: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []

    def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803 (boto3's names)
        if StackName not in self.stacks:
            raise ClientError(
                {
                    "Error": {
                        "Code": "ValidationError",
                        "Message": f"Stack {StackName} does not exist",
                    }
                },
                "DescribeStacks",
            )
        return {"Stacks": [self.stacks[StackName]]}

    def create_change_set(self, **kwargs: Any) -> None:
        self.calls.append(f"create_change_set {kwargs['ChangeSetType']}")
        stack = self.stacks.get(kwargs["StackName"])
        unchanged = stack is not None and stack["Template"] == kwargs.get("TemplateBody")
        self.change_sets[kwargs["ChangeSetName"]] = {
            **kwargs,
            "Status": "FAILED" if unchanged else "CREATE_COMPLETE",
            "StatusReason": "The submitted information didn't contain changes."
            if unchanged
            else "",
        }
        if stack is None:
            self.stacks[kwargs["StackName"]] = {
                "StackName": kwargs["StackName"],
                "StackStatus": "REVIEW_IN_PROGRESS",
                "Template": None,
                "Events": [],
            }

    def describe_change_set(self, StackName: str, ChangeSetName: str) -> dict[str, Any]:  # noqa: N803
        return self.change_sets[ChangeSetName]

    def delete_change_set(self, StackName: str, ChangeSetName: str) -> None:  # noqa: N803
        self.calls.append("delete_change_set")

    def execute_change_set(self, StackName: str, ChangeSetName: str) -> None:  # noqa: N803
        self.calls.append("execute_change_set")
        change_set = self.change_sets[ChangeSetName]
        stack = self.stacks[StackName]
        kind = change_set["ChangeSetType"]
        started = {
            "ResourceType": "AWS::CloudFormation::Stack",
            "LogicalResourceId": StackName,
            "ResourceStatus": f"{kind}_IN_PROGRESS",
            "ResourceStatusReason": "User Initiated",
        }
        if self.outcome == "COMPLETE":
            stack["StackStatus"] = f"{kind}_COMPLETE"
            stack["Template"] = change_set.get("TemplateBody")
            stack["Events"] = [started, *stack["Events"]]
            return
        failed = {
            "ResourceType": "AWS::SQS::Queue",
            "LogicalResourceId": "Queue",
            "ResourceStatus": f"{kind}_FAILED",
            "ResourceStatusReason": "Queue name already taken",
        }
        stack["StackStatus"] = (
            "ROLLBACK_COMPLETE" if kind == "CREATE" else "UPDATE_ROLLBACK_COMPLETE"
        )
        stack["Events"] = [failed, started, *stack["Events"]]

    def describe_stack_events(self, StackName: str) -> dict[str, Any]:  # noqa: N803
        return {"StackEvents": self.stacks[StackName]["Events"]}

    def delete_stack(self, StackName: str) -> None:  # noqa: N803
        self.calls.append("delete_stack")
        del self.stacks[StackName]


def _apply(cfn: FakeCloudFormation, body: str) -> str:
    out = io.StringIO()
    deploy.apply_change_set(cfn, "rocket-dev-svc", {"TemplateBody": body}, {"Stage": "dev"}, out, 0)
    return out.getvalue()


def test_new_stack_is_created_through_a_change_set() -> None:
    cfn = FakeCloudFormation()
    assert "rocket-dev-svc: CREATE_COMPLETE" in _apply(cfn, "v1")
    assert cfn.calls == ["create_change_set CREATE", "execute_change_set"]
    assert cfn.change_sets.popitem()[1]["Capabilities"] == deploy.CAPABILITIES


def test_unchanged_template_is_a_no_op_and_a_changed_one_an_update() -> None:
    cfn = FakeCloudFormation()
    _apply(cfn, "v1")
    assert "no changes" in _apply(cfn, "v1")
    assert cfn.calls[-2:] == ["create_change_set UPDATE", "delete_change_set"]
    assert "UPDATE_COMPLETE" in _apply(cfn, "v2")


def test_failed_update_raises_and_prints_only_this_deployments_failures() -> None:
    cfn = FakeCloudFormation()
    _apply(cfn, "v1")
    cfn.outcome = "FAILED"
    out = io.StringIO()
    with pytest.raises(deploy.DeployError, match="UPDATE_ROLLBACK_COMPLETE"):
        deploy.apply_change_set(cfn, "rocket-dev-svc", {"TemplateBody": "v2"}, {}, out, 0)
    assert out.getvalue().strip().splitlines() == [
        "Queue (AWS::SQS::Queue) UPDATE_FAILED: Queue name already taken"
    ]


def test_stack_left_in_rollback_complete_is_deleted_and_created_again() -> None:
    cfn = FakeCloudFormation("FAILED")
    with pytest.raises(deploy.DeployError):
        _apply(cfn, "v1")
    cfn.outcome = "COMPLETE"
    assert "CREATE_COMPLETE" in _apply(cfn, "v1")
    assert cfn.calls[-3:] == ["delete_stack", "create_change_set CREATE", "execute_change_set"]


def test_stack_busy_with_another_deploy_is_refused() -> None:
    cfn = FakeCloudFormation()
    _apply(cfn, "v1")
    cfn.stacks["rocket-dev-svc"]["StackStatus"] = "UPDATE_IN_PROGRESS"
    with pytest.raises(deploy.DeployError, match="another deploy is running"):
        _apply(cfn, "v2")


_PLATFORM = """
Resources:
  Artifacts:
    Type: AWS::S3::Bucket
Outputs:
  ArtifactBucketName:
    Value: !Ref Artifacts
    Export: {Name: rocket-dev-ArtifactBucketName}
"""

_JOB_SERVICE = """
Parameters:
  Stage: {Type: String}
Resources:
  Queue:
    Type: AWS::SQS::Queue
"""


def test_aws_deploy_uploads_the_glue_scripts_to_the_artifact_bucket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "services" / "jobs"
    (folder / "glue" / "lib").mkdir(parents=True)
    (folder / "template.yaml").write_text(_JOB_SERVICE)
    (folder / "glue" / "run.py").write_text("print('run')\n")
    (folder / "glue" / "lib" / "helper.py").write_text("X = 1\n")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        cfn = aws.client("cloudformation")
        cfn.create_stack(StackName="rocket-dev-platform", TemplateBody=_PLATFORM)
        bucket = deploy.exports(cfn)["rocket-dev-ArtifactBucketName"]

        deploy.deploy(
            project.service(tmp_path, "jobs"), stage="dev", repo_root=tmp_path, out=io.StringIO()
        )

        s3 = aws.client("s3")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
        run = s3.get_object(Bucket=bucket, Key="jobs/glue/run.py")["Body"].read()
    assert sorted(keys) == ["jobs/glue/lib/helper.py", "jobs/glue/run.py"]
    assert run == b"print('run')\n"


def test_glue_scripts_without_the_platform_stack_say_so(tmp_path: Path) -> None:
    folder = tmp_path / "services" / "jobs"
    (folder / "glue").mkdir(parents=True)
    (folder / "template.yaml").write_text(_JOB_SERVICE)
    (folder / "glue" / "run.py").write_text("print('run')\n")
    with pytest.raises(deploy.DeployError, match="deploy the platform stack first"):
        deploy.artifact_bucket(FakeExports(), "dev")
    assert deploy.glue_scripts(project.service(tmp_path, "jobs")) == {
        "jobs/glue/run.py": folder / "glue" / "run.py"
    }


class FakeExports:
    def get_paginator(self, _name: str) -> Any:
        return self

    def paginate(self) -> list[dict[str, Any]]:
        return [{"Exports": []}]


def test_a_synchronous_redrive_invoke_waits_for_the_function_and_is_not_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """botocore reads for 60 s and retries a read timeout: a redrive function that runs for
    up to 120 s would be run a second time beside the first."""

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    with mock_aws():
        role = aws.client("iam").create_role(
            RoleName="redrive", AssumeRolePolicyDocument="{}", Path="/"
        )["Role"]["Arn"]
        arn = aws.client("lambda").create_function(
            FunctionName="rocket-dev-asset-events-redrive",
            Runtime="python3.12",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": code.getvalue()},
            Timeout=120,
        )["FunctionArn"]
        config = aws.synchronous_invoker(arn).meta.config
    assert config.read_timeout == 130
    assert config.retries["total_max_attempts"] == 1


def test_a_stage_too_long_for_a_bucket_name_is_refused_before_anything_is_deployed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The template allows a 12-character stage; with asset-events' content bucket in
    ap-southeast-2 that is a 68-character name, which S3 refuses only once CloudFormation
    creates the bucket. The deploy says so first, and what stage fits."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    service = project.service(project.repo_root(), "asset-events")
    with mock_aws():
        with pytest.raises(deploy.DeployError) as refused:
            deploy.deploy(service, stage="feature-1234", region="ap-southeast-2", out=io.StringIO())
        assert (
            aws.client("cloudformation", region="ap-southeast-2").list_stacks()["StackSummaries"]
            == []
        )
    message = str(refused.value)
    assert "ContentBucket: bucket rocket-feature-1234-asset-events-content-" in message
    assert "would be 68 characters, S3 allows 63" in message
    assert "a stage of at most 7 characters, not 'feature-1234' (12)" in message
