"""The names the platform gives things, in one place: stacks and resources
(`rocket-<stage>-<service>[-<part>]`), the platform's export names, the emulator's account and
the ARN of each resource type as AWS formats it."""

from __future__ import annotations

PREFIX = "rocket"
# moto's default account: every ARN the emulator hands out carries it
ACCOUNT_ID = "123456789012"
PARTITION = "aws"

# Outputs of the platform stack that service stacks import (`rocket-<stage>-<name>`).
EVENT_TOPIC_ARN = "EventTopicArn"
ARTIFACT_BUCKET_NAME = "ArtifactBucketName"

# `{name}` is the resource's name (a queue's, not its URL; a log group's whole path).
ARN_FORMATS = {
    "AWS::CloudFormation::Stack": "arn:aws:cloudformation:{region}:{account}:stack/{name}",
    "AWS::CloudWatch::Alarm": "arn:aws:cloudwatch:{region}:{account}:alarm:{name}",
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:{region}:{account}:table/{name}",
    "AWS::Events::Rule": "arn:aws:events:{region}:{account}:rule/{name}",
    "AWS::IAM::Role": "arn:aws:iam::{account}:role/{name}",
    "AWS::Kinesis::Stream": "arn:aws:kinesis:{region}:{account}:stream/{name}",
    "AWS::KMS::Key": "arn:aws:kms:{region}:{account}:key/{name}",
    "AWS::Lambda::Function": "arn:aws:lambda:{region}:{account}:function:{name}",
    "AWS::Logs::LogGroup": "arn:aws:logs:{region}:{account}:log-group:{name}:*",
    "AWS::S3::Bucket": "arn:aws:s3:::{name}",
    "AWS::Scheduler::Schedule": "arn:aws:scheduler:{region}:{account}:schedule/default/{name}",
    "AWS::SNS::Topic": "arn:aws:sns:{region}:{account}:{name}",
    "AWS::SQS::Queue": "arn:aws:sqs:{region}:{account}:{name}",
    "AWS::StepFunctions::StateMachine": "arn:aws:states:{region}:{account}:stateMachine:{name}",
}


def prefix(stage: str) -> str:
    """What every name of a stage starts with."""
    return f"{PREFIX}-{stage}-"


def stack_name(stage: str, service: str) -> str:
    """The stack of a service ("platform" for the shared one)."""
    return f"{prefix(stage)}{service}"


def resource_name(stage: str, *parts: str) -> str:
    """A name the platform itself makes, e.g. `resource_name(stage, "control")`."""
    return prefix(stage) + "-".join(parts)


def default_name(stack: str, logical_id: str) -> str:
    """The name the deploy gives a resource it creates itself (a type the emulator's
    CloudFormation skips) when the template names none: deterministic, so a redeploy updates
    the resource instead of adding a second one, and the runtime finds it again."""
    return f"{stack}-{logical_id}"


def export_name(stage: str, name: str) -> str:
    """A platform export, e.g. `export_name(stage, EVENT_TOPIC_ARN)`."""
    return f"{prefix(stage)}{name}"


def arn(resource_type: str, name: str, region: str, account: str = ACCOUNT_ID) -> str:
    """The ARN of a resource of `resource_type` (a CloudFormation type) called `name`."""
    try:
        template = ARN_FORMATS[resource_type]
    except KeyError:
        raise ValueError(f"no ARN format for {resource_type}") from None
    return template.format(region=region, account=account, name=name)
