"""One emulator, the test-only stack and a started Runtime, shared by the runtime tests.

The emulator is moto's server in a child process (rocket_infra.emulator) rather than a
ThreadedMotoServer: moto keeps its backends in module globals, so an in-process server would
share (and be reset by) every other moto user in the same test process.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from rocket_infra.emulator import Emulator
from rocket_infra.runtime import EMULATOR_CONFIG, Runtime
from rocket_infra.runtime.discovery import parse_template, resolve_string

HERE = Path(__file__).parent
REPO_ROOT = HERE.parents[2]
STAGE = "rtest"


@dataclass
class Stack:
    runtime: Runtime
    endpoint_url: str
    out_dir: Path

    def client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def queue_url(self, name: str) -> str:
        url: str = self.client("sqs").get_queue_url(QueueName=f"rocket-{STAGE}-rt-{name}")[
            "QueueUrl"
        ]
        return url

    def seen(self, name: str) -> list[Any]:
        path = self.out_dir / f"{name}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]


def _create_glue_jobs(stack: Stack, template: dict[str, Any]) -> None:
    # What the deploy reconciles: moto's CloudFormation skips AWS::Glue::Job.
    parameters = {"Stage": STAGE}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Glue::Job":
            continue
        props = resource["Properties"]
        stack.client("glue").create_job(
            Name=resolve_string(props["Name"], parameters),
            Role="arn:aws:iam::123456789012:role/glue",
            Command={
                "Name": "pythonshell",
                "ScriptLocation": resolve_string(props["Command"]["ScriptLocation"], parameters),
            },
            DefaultArguments=props.get("DefaultArguments", {}),
        )


def _create_schedules(stack: Stack) -> None:
    # What the deploy reconciles: moto's CloudFormation skips AWS::Scheduler::Schedule.
    stack.client("scheduler").create_schedule(
        Name=f"rocket-{STAGE}-rt-scrape",
        ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": f"arn:aws:sqs:us-east-1:123456789012:rocket-{STAGE}-rt-scheduler-target",
            "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
            "Input": '{"command": "scrape"}',
        },
    )


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with (
        Emulator.running(config=EMULATOR_CONFIG) as emulator,
        pytest.MonkeyPatch.context() as patch,
    ):
        endpoint_url = emulator.endpoint_url
        # The test handlers live next to the tests, outside any installed package.
        patch.setenv("PYTHONPATH", str(HERE / "lambdas"))
        out_dir = tmp_path_factory.mktemp("seen")
        runtime = Runtime(endpoint_url=endpoint_url, stage=STAGE, repo_root=REPO_ROOT)
        result = Stack(runtime, endpoint_url, out_dir)
        body = (HERE / "stack.yaml").read_text()
        result.client("cloudformation").create_stack(
            StackName=f"rocket-{STAGE}-rt",
            TemplateBody=body,
            Parameters=[
                {"ParameterKey": "Stage", "ParameterValue": STAGE},
                {"ParameterKey": "OutDir", "ParameterValue": str(out_dir)},
            ],
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
        _create_glue_jobs(result, dict(parse_template(body)))
        _create_schedules(result)
        runtime.start()
        try:
            yield result
        finally:
            runtime.stop()
