"""The names rocket_infra derives are the ones AWS (here: the emulator) hands out."""

from __future__ import annotations

import json
import uuid
from typing import Any

from rocket_infra import aws, naming, project
from rocket_infra.emulator import Emulator

REGION = aws.DEFAULT_REGION


def test_stage_names_share_one_prefix() -> None:
    assert project.stack_name("dev", "ingest-gate") == "rocket-dev-ingest-gate"
    assert naming.export_name("dev", naming.EVENT_TOPIC_ARN) == "rocket-dev-EventTopicArn"
    assert naming.resource_name("dev", "reply", "ab12") == "rocket-dev-reply-ab12"
    # what the deploy names an unnamed resource it creates, and the runtime looks for
    assert naming.default_name("rocket-dev-x", "Reprocess") == "rocket-dev-x-Reprocess"
    assert all(
        name.startswith(naming.prefix("dev"))
        for name in (
            naming.stack_name("dev", "x"),
            naming.export_name("dev", naming.ARTIFACT_BUCKET_NAME),
            naming.resource_name("dev", "control"),
        )
    )


def _arns_the_emulator_gives(url: str, name: str) -> dict[str, str]:
    def client(service: str) -> Any:
        return aws.client(service, endpoint_url=url, region=REGION)

    role = client("iam").create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    queue_url = client("sqs").create_queue(QueueName=name)["QueueUrl"]
    client("kinesis").create_stream(StreamName=name, ShardCount=1)
    client("logs").create_log_group(logGroupName=f"/rocket/{name}")
    [group] = client("logs").describe_log_groups(logGroupNamePrefix=f"/rocket/{name}")["logGroups"]
    return {
        "AWS::IAM::Role": role,
        "AWS::SQS::Queue": client("sqs").get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"],
        "AWS::SNS::Topic": client("sns").create_topic(Name=name)["TopicArn"],
        "AWS::DynamoDB::Table": client("dynamodb").create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )["TableDescription"]["TableArn"],
        "AWS::Kinesis::Stream": client("kinesis").describe_stream_summary(StreamName=name)[
            "StreamDescriptionSummary"
        ]["StreamARN"],
        "AWS::Events::Rule": client("events").put_rule(Name=name, ScheduleExpression="rate(1 day)")[
            "RuleArn"
        ],
        "AWS::StepFunctions::StateMachine": client("stepfunctions").create_state_machine(
            name=name,
            definition=json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}),
            roleArn=role,
        )["stateMachineArn"],
        "AWS::Logs::LogGroup": group["arn"],
    }


def test_arns_are_the_ones_the_emulator_gives(emulator_server: Emulator) -> None:
    name = f"naming-{uuid.uuid4().hex[:8]}"
    given = _arns_the_emulator_gives(emulator_server.endpoint_url, name)
    names = {"AWS::Logs::LogGroup": f"/rocket/{name}"}
    derived = {kind: naming.arn(kind, names.get(kind, name), REGION) for kind in given}
    assert derived == given
