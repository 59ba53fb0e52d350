"""Stack parameter overrides (`--parameter`): checked against the template, then passed to the
stack, on the AWS path here (the emulator path is in test_standins.py)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from moto import mock_aws
from rocket_infra import aws, cli, deploy, project
from rocket_infra.parameters import ParameterError, parse_per_service

_PLATFORM = """
Resources:
  Artifacts:
    Type: AWS::S3::Bucket
Outputs:
  ArtifactBucketName:
    Value: !Ref Artifacts
    Export: {Name: rocket-dev-ArtifactBucketName}
"""

_SERVICE = """
Parameters:
  Stage: {Type: String}
  Greeting: {Type: String, Default: hello}
  Limit: {Type: Number, Default: 3}
Resources:
  Queue:
    Type: AWS::SQS::Queue
Outputs:
  Greeting: {Value: !Ref Greeting}
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "services" / "greeter"
    folder.mkdir(parents=True)
    (folder / "template.yaml").write_text(_SERVICE)
    monkeypatch.setenv("ROCKET_REPO_ROOT", str(tmp_path))
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    return tmp_path


def test_rocket_deploy_passes_each_parameter_to_the_stack(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with mock_aws():
        cfn = aws.client("cloudformation")
        cfn.create_stack(StackName="rocket-dev-platform", TemplateBody=_PLATFORM)
        code = cli.main(
            ["deploy", "greeter", "--stage", "dev",
             "--parameter", "Greeting=a=b", "--parameter", "Limit=7"]
        )  # fmt: skip
        stack = cfn.describe_stacks(StackName="rocket-dev-greeter")["Stacks"][0]
    assert code == 0, capsys.readouterr().err
    given = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert given == {"Stage": "dev", "Greeting": "a=b", "Limit": "7"}


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("Greting=hi", "unknown parameter Greting (declared: Greeting, Limit)"),
        ("Stage=prod", "Stage cannot be overridden"),
        ("Greeting", "expected Name=value"),
    ],
)
def test_a_parameter_the_template_does_not_take_fails_before_deploying(
    repo: Path, capsys: pytest.CaptureFixture[str], assignment: str, message: str
) -> None:
    # no AWS is mocked here: reaching CloudFormation would fail differently
    assert cli.main(["deploy", "greeter", "--stage", "dev", "--parameter", assignment]) == 1
    assert message in capsys.readouterr().err


def test_the_emulator_path_checks_the_same_way(repo: Path) -> None:
    with pytest.raises(ParameterError, match="unknown parameter Nope"):
        deploy.deploy(
            project.service(repo, "greeter"),
            stage="dev",
            endpoint_url="http://127.0.0.1:9",
            repo_root=repo,
            out=io.StringIO(),
            overrides={"Nope": "1"},
        )


def test_up_parameters_are_grouped_per_service() -> None:
    assert parse_per_service(["a:X=1", "b:Y=", "a:Z=http://h:1/p"]) == {
        "a": {"X": "1", "Z": "http://h:1/p"},
        "b": {"Y": ""},
    }
    with pytest.raises(ParameterError, match="service:Name=value"):
        parse_per_service(["X=1"])
