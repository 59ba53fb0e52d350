"""Every CloudFormation template in the repo: cfn-lint clean, and the rules every stack keeps
(rocket_infra.policy.template_rules).

Templates are discovered by content (not listed by hand), so a stack added later is checked
too. The tests at the bottom prove every rule catches what it is meant to catch.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint, lint_file
from rocket_infra.policy.template_rules import (
    RULES,
    Template,
    bucket_name_problems,
    bucket_problems,
    concurrency_problems,
    discover_templates,
    encryption_problems,
    event_source_mapping_problems,
    event_source_wiring_problems,
    function_role_problems,
    iam_problems,
    lambda_problems,
    least_privilege_problems,
    load,
    loads,
    name_prefix,
    naming_problems,
    props,
    queue_problems,
    referenced_ids,
    render,
    resource_policy_problems,
    resources,
    secret_problems,
    service_stack_problems,
    silenced_checks_without_reason,
    stack_service,
    subscription_problems,
    topic_key_problems,
    transform_problems,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = [load(path, REPO_ROOT) for path in discover_templates(REPO_ROOT)]
SERVICE_DIRS = sorted(p.parent for p in (REPO_ROOT / "services").glob("*/pyproject.toml"))


def each_template() -> pytest.MarkDecorator:
    return pytest.mark.parametrize("template", TEMPLATES, ids=[t.name for t in TEMPLATES])


# ---------------------------------------------------------------- the tests over the repo


def test_every_stack_is_found() -> None:
    names = {t.name for t in TEMPLATES}
    expected = {"infra/platform.yaml"} | {
        (d / "template.yaml").relative_to(REPO_ROOT).as_posix() for d in SERVICE_DIRS
    }
    assert expected <= names, f"missing templates: {sorted(expected - names)}"


@each_template()
def test_cfn_lint_reports_no_error_or_warning(template: Template) -> None:
    matches = lint_file(template.path)
    found = [
        f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches if m.rule.id[0] in "EW"
    ]
    assert found == []


@each_template()
def test_silenced_lint_checks_say_why(template: Template) -> None:
    assert silenced_checks_without_reason(template.text) == []


@each_template()
@pytest.mark.parametrize("rule", RULES, ids=[r.__name__ for r in RULES])
def test_template_keeps_the_rule(template: Template, rule: Any) -> None:
    assert rule(template.body) == []


@each_template()
def test_resource_names_carry_stage_and_service(template: Template) -> None:
    assert naming_problems(template.body, name_prefix(template.path, REPO_ROOT)) == []


@each_template()
def test_bucket_names_follow_one_pattern(template: Template) -> None:
    service = stack_service(template.path, REPO_ROOT)
    assert bucket_name_problems(template.body, service) == []


@each_template()
def test_every_policy_statement_is_least_privilege(template: Template) -> None:
    service = stack_service(template.path, REPO_ROOT)
    assert least_privilege_problems(template.body, service) == []


@pytest.mark.parametrize("service_dir", SERVICE_DIRS, ids=[d.name for d in SERVICE_DIRS])
def test_service_stack_interface(service_dir: Path) -> None:
    path = service_dir / "template.yaml"
    assert path.is_file(), f"{service_dir.name} has no template.yaml"
    assert service_stack_problems(load(path, REPO_ROOT).body, service_dir.name) == []


def test_platform_exports_what_service_stacks_import() -> None:
    platform = load(REPO_ROOT / "infra" / "platform.yaml", REPO_ROOT).body
    exported = {render(o["Export"]["Name"]) for o in platform["Outputs"].values() if "Export" in o}
    assert exported >= {
        "rocket-${Stage}-EventTopicArn",
        "rocket-${Stage}-EventTopicKeyArn",
        "rocket-${Stage}-AlarmTopicArn",
        "rocket-${Stage}-ArtifactBucketName",
    }
    imported = {
        render(value)
        for template in TEMPLATES
        if template.name != "infra/platform.yaml"
        for value in _import_values(template.body)
    }
    assert imported <= exported, f"imports nobody exports: {sorted(map(str, imported - exported))}"


def _import_values(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for key, arg in value.items():
            if key == "Fn::ImportValue":
                yield arg
            else:
                yield from _import_values(arg)
    elif isinstance(value, list):
        for item in value:
            yield from _import_values(item)


def test_platform_topic_is_encrypted_with_the_exported_key() -> None:
    platform = load(REPO_ROOT / "infra" / "platform.yaml", REPO_ROOT).body
    for topic in resources(platform, "AWS::SNS::Topic").values():
        assert referenced_ids(props(topic).get("KmsMasterKeyId")) == {"EventTopicKey"}
    key_arn = platform["Outputs"]["EventTopicKeyArn"]["Value"]
    assert referenced_ids(key_arn) == {"EventTopicKey"}


# ---------------------------------------------------------------- the rules catch what they should

BAD_STACK = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  PlainQueue:
    Type: AWS::SQS::Queue
  Dlq:
    Type: AWS::SQS::Queue
    Properties: {SqsManagedSseEnabled: true}
  GoodQueue:
    Type: AWS::SQS::Queue
    Properties:
      SqsManagedSseEnabled: true
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 3}
  OpenBucket:
    Type: AWS::S3::Bucket
    Properties:
      PublicAccessBlockConfiguration: {BlockPublicAcls: true, BlockPublicPolicy: true}
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: !Sub rocket-${Stage}-svc-fn
      Runtime: python3.11
      Handler: other.handlers.fn.handler
      Code: {ZipFile: "x"}
  FnLogs:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: !Sub "/aws/lambda/rocket-${Stage}-svc-fn"}
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - {Effect: Allow, Action: "s3:*", Resource: !Sub "arn:aws:s3:::b/*"}
              - {Effect: Allow, Action: [sqs:SendMessage, xray:PutTraceSegments], Resource: "*"}
              - {Effect: Allow, Action: [xray:PutTraceSegments], Resource: "*"}
              - {Effect: Deny, Action: "*", Resource: "*"}
              - !If [Cond, {Effect: Allow, Action: "*", Resource: b}, !Ref AWS::NoValue]
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties: {FunctionName: !Ref Fn, EventSourceArn: !GetAtt GoodQueue.Arn}
"""

GOOD_FUNCTION = """
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: svc.handlers.fn.handler
      Code: {S3Bucket: b, S3Key: !Ref CodeKey}
      LoggingConfig: {LogGroup: !Ref Logs}
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: !Sub "/aws/lambda/${Fn}", RetentionInDays: 14}
  Errors:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions: [{Name: FunctionName, Value: !Ref Fn}]
      AlarmActions: [arn:aws:sns:us-east-1:1:alarms]
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketEncryption:
        ServerSideEncryptionConfiguration: [{ServerSideEncryptionByDefault: {SSEAlgorithm: AES256}}]
      LoggingConfiguration:
        DestinationBucketName: {"Fn::ImportValue": !Sub "rocket-${Stage}-AccessLogBucketName"}
        LogFilePrefix: svc/bucket/
      PublicAccessBlockConfiguration:
        {BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true,
         RestrictPublicBuckets: true}
  BucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Statement:
          - Effect: Deny
            Principal: "*"
            Action: s3:*
            Resource: [!GetAtt Bucket.Arn, !Sub "${Bucket.Arn}/*"]
            Condition: {Bool: {aws:SecureTransport: "false"}}
"""


def test_queue_rule_flags_missing_sse_and_dlq_but_not_a_dlq() -> None:
    assert queue_problems(loads(BAD_STACK)) == [
        "PlainQueue: no SSE (SqsManagedSseEnabled: true or KmsMasterKeyId)",
        "PlainQueue: no DLQ (RedrivePolicy with deadLetterTargetArn)",
    ]


def test_bucket_rule_flags_public_unencrypted_and_plain_http() -> None:
    assert bucket_problems(loads(BAD_STACK)) == [
        "OpenBucket: PublicAccessBlockConfiguration must set all four flags true",
        "OpenBucket: no default encryption (BucketEncryption)",
        "OpenBucket: no bucket policy denying aws:SecureTransport false",
        "OpenBucket: no server access logging (LoggingConfiguration)",
    ]
    assert bucket_problems(loads(GOOD_FUNCTION)) == []


def test_bucket_rule_lets_the_access_log_target_not_log_itself() -> None:
    logging = GOOD_FUNCTION[GOOD_FUNCTION.index("      LoggingConfiguration:") :]
    logging = logging[: logging.index("      PublicAccessBlockConfiguration:")]
    unlogged = GOOD_FUNCTION.replace(logging, "")
    assert bucket_problems(loads(unlogged)) == [
        "Bucket: no server access logging (LoggingConfiguration)"
    ]
    elsewhere = GOOD_FUNCTION.replace(
        logging, "      LoggingConfiguration: {DestinationBucketName: x}\n"
    )
    assert bucket_problems(loads(elsewhere)) == [
        "Bucket: access logs go elsewhere than the platform's access-log bucket"
    ]
    target = unlogged.replace(
        "        Statement:\n",
        "        Statement:\n"
        "          - {Effect: Allow, Principal: {Service: logging.s3.amazonaws.com},\n"
        "             Action: s3:PutObject, Resource: !Sub '${Bucket.Arn}/*'}\n",
    )
    assert bucket_problems(loads(target)) == []


def test_bucket_name_rule_wants_one_pattern_within_the_s3_limit() -> None:
    body = loads(
        """
Resources:
  Good:
    Type: AWS::S3::Bucket
    Properties: {BucketName: !Sub "rocket-${Stage}-svc-raw-data-${AWS::AccountId}-${AWS::Region}"}
  NoRegion:
    Type: AWS::S3::Bucket
    Properties: {BucketName: !Sub "rocket-${Stage}-svc-raw-${AWS::AccountId}"}
  OtherService:
    Type: AWS::S3::Bucket
    Properties: {BucketName: !Sub "rocket-${Stage}-other-raw-${AWS::AccountId}-${AWS::Region}"}
  Unnamed:
    Type: AWS::S3::Bucket
  TooLong:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "rocket-${Stage}-svc-a-very-long-role-name-${AWS::AccountId}-${AWS::Region}"
"""
    )
    expected = "rocket-${Stage}-svc-<role>-${AWS::AccountId}-${AWS::Region}"
    assert bucket_name_problems(body, "svc") == [
        f"NoRegion: BucketName 'rocket-${{Stage}}-svc-raw-${{AWS::AccountId}}' is not {expected}",
        "OtherService: BucketName 'rocket-${Stage}-other-raw-${AWS::AccountId}-${AWS::Region}' "
        f"is not {expected}",
        f"Unnamed: BucketName None is not {expected}",
        "TooLong: BucketName reaches 65 characters "
        "(rocket-prod-svc-a-very-long-role-name-000000000000-ap-southeast-2)",
    ]


def test_concurrency_rule_wants_a_cap_on_every_queue_consumer() -> None:
    body = loads(
        """
Resources:
  Queue: {Type: AWS::SQS::Queue}
  Fn: {Type: AWS::Lambda::Function}
  Reserved:
    Type: AWS::Lambda::Function
    Properties: {ReservedConcurrentExecutions: 2}
  Uncapped:
    Type: AWS::Lambda::EventSourceMapping
    Properties: {EventSourceArn: !GetAtt Queue.Arn, FunctionName: !Ref Fn}
  Capped:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Queue.Arn
      FunctionName: !Ref Fn
      ScalingConfig: {MaximumConcurrency: 2}
  OnReserved:
    Type: AWS::Lambda::EventSourceMapping
    Properties: {EventSourceArn: !GetAtt Queue.Arn, FunctionName: !Ref Reserved}
"""
    )
    assert concurrency_problems(body) == [
        "Uncapped: no ScalingConfig.MaximumConcurrency (nor reserved concurrency on its function)"
    ]


def test_secret_rule_finds_secrets_in_configuration() -> None:
    body = loads(
        """
Parameters:
  ApiToken: {Type: String}
  DbPassword: {Type: String, NoEcho: true}
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Environment:
        Variables:
          SGS_API_KEY: abc
          SGS_TOKEN_SECRET_ARN: arn:aws:secretsmanager:us-east-1:1:secret:sgs
          DB_PASSWORD_PARAMETER_NAME: /rocket/db
          PLAIN: !Ref DbPassword
          RESOLVED: "{{resolve:secretsmanager:sgs:SecretString:token}}"
          KEY_ID: AKIAABCDEFGHIJKLMNOP
  Job:
    Type: AWS::Glue::Job
    Properties:
      DefaultArguments: {--db-password: hunter2, --raw_bucket: b}
"""
    )
    assert secret_problems(body) == [
        "the template holds an AWS access key id",
        "parameter ApiToken: looks like a secret but is not NoEcho",
        "Fn: SGS_API_KEY looks like a secret; pass its Secrets Manager or SSM reference "
        "(…_ARN, …_PARAMETER_NAME) and read it at run time",
        "Fn: PLAIN puts a NoEcho parameter into plain-text configuration",
        "Fn: RESOLVED resolves a secret into plain-text configuration",
        "Job: DB_PASSWORD looks like a secret; pass its Secrets Manager or SSM reference "
        "(…_ARN, …_PARAMETER_NAME) and read it at run time",
    ]


def test_encryption_rule_wants_kms_on_topics_and_tables() -> None:
    body = loads(
        """
Resources:
  Plain: {Type: AWS::SNS::Topic}
  Managed: {Type: AWS::SNS::Topic, Properties: {KmsMasterKeyId: alias/aws/sns}}
  Table: {Type: AWS::DynamoDB::Table, Properties: {SSESpecification: {SSEEnabled: false}}}
  Sealed: {Type: AWS::DynamoDB::Table, Properties: {SSESpecification: {SSEEnabled: true}}}
"""
    )
    assert encryption_problems(body) == [
        "Plain: no KmsMasterKeyId (alias/aws/sns at least)",
        "Table: no SSESpecification with SSEEnabled true (KMS at rest)",
    ]


def test_lambda_rule_flags_missing_retention_and_alarm() -> None:
    assert lambda_problems(loads(BAD_STACK)) == [
        "Fn: its log group has no RetentionInDays",
        "Fn: no AWS::CloudWatch::Alarm on AWS/Lambda Errors",
    ]
    assert lambda_problems(loads(GOOD_FUNCTION)) == []


def test_iam_rule_flags_wildcards_except_unscoped_actions() -> None:
    assert iam_problems(loads(BAD_STACK)) == [
        "Role/p[0]: wildcard action 's3:*'",
        "Role/p[1]: Resource '*' for actions that support resources: ['sqs:SendMessage']",
        "Role/p[4]: wildcard action '*'",
    ]


def test_mapping_rule_requires_partial_batch_responses() -> None:
    assert event_source_mapping_problems(loads(BAD_STACK)) == [
        "Mapping: FunctionResponseTypes must include ReportBatchItemFailures"
    ]


def test_transform_rule_refuses_sam() -> None:
    assert transform_problems(loads(BAD_STACK)) == [
        "Transform 'AWS::Serverless-2016-10-31' is not allowed (plain CloudFormation)"
    ]


def test_service_stack_rule_checks_parameters_runtime_handler_and_code() -> None:
    assert service_stack_problems(loads(BAD_STACK), "svc") == [
        "parameter Stage with Default 'local' is missing",
        "parameter CodeKey with Default 'svc/local.zip' is missing",
        "Fn: Runtime must be python3.12",
        "Fn: Handler must be svc.handlers.<function>.handler",
        "Fn: Code.S3Key must be !Ref CodeKey",
    ]
    good = loads(GOOD_FUNCTION)
    good["Parameters"] = {"Stage": {"Default": "local"}, "CodeKey": {"Default": "svc/local.zip"}}
    assert service_stack_problems(good, "svc") == []


def test_cfn_lint_finds_errors_and_warnings() -> None:
    matches = lint(
        "Parameters:\n  Unused: {Type: String}\n"
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {Bogus: 1}\n"
    )
    assert {m.rule.id[0] for m in matches} >= {"E", "W"}


def test_silencing_needs_a_reason_and_never_covers_errors() -> None:
    text = (
        "Metadata:\n  cfn-lint:\n    config:\n      ignore_checks:\n"
        "        # W3005: the dependency is needed by the deploy order.\n"
        "        - W3005\n        - W2001\n        - E3002\n"
    )
    assert silenced_checks_without_reason(text) == [
        "W2001: silenced without a comment saying why",
        "E3002: errors may not be silenced",
    ]
    assert silenced_checks_without_reason("      ignore_checks: [W1020]  # why\n") == []


WIRING = """
Parameters:
  Visibility: {Type: Number, Default: 20}
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties: {VisibilityTimeout: !Ref Visibility}
  Stream:
    Type: AWS::Kinesis::Stream
    Properties: {ShardCount: 1}
  Fn:
    Type: AWS::Lambda::Function
    Properties: {Timeout: 60}
  QueueMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties: {EventSourceArn: !GetAtt Queue.Arn, FunctionName: !Ref Fn}
  StreamMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties: {EventSourceArn: !GetAtt Stream.Arn, FunctionName: !Ref Fn}
  GuardedStreamMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Stream.Arn
      FunctionName: !Ref Fn
      MaximumRetryAttempts: 3
      DestinationConfig: {OnFailure: {Destination: !GetAtt Queue.Arn}}
  Subscription:
    Type: AWS::SNS::Subscription
    Properties: {Protocol: sqs, Endpoint: !GetAtt Queue.Arn, TopicArn: arn:aws:sns:::t}
  OpenQueue:
    Type: AWS::SQS::Queue
  OpenSubscription:
    Type: AWS::SNS::Subscription
    Properties: {Protocol: sqs, Endpoint: !GetAtt OpenQueue.Arn, TopicArn: arn:aws:sns:::t}
  Landing:
    Type: AWS::S3::Bucket
    Properties:
      NotificationConfiguration:
        QueueConfigurations: [{Event: "s3:ObjectCreated:*", Queue: !GetAtt Queue.Arn}]
  Raw:
    Type: AWS::S3::Bucket
    DependsOn: QueuePolicy
    Properties:
      NotificationConfiguration:
        QueueConfigurations:
          - {Event: "s3:ObjectCreated:*", Queue: !GetAtt Queue.Arn}
          - {Event: "s3:ObjectCreated:*", Queue: !GetAtt OpenQueue.Arn}
  QueuePolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Queue]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: sns.amazonaws.com}
            Action: sqs:SendMessage
            Resource: !GetAtt Queue.Arn
            Condition: {ArnEquals: {aws:SourceArn: arn:aws:sns:::t}}
          - Effect: Allow
            Principal: {Service: s3.amazonaws.com}
            Action: sqs:SendMessage
            Resource: !GetAtt Queue.Arn
            Condition: {StringEquals: {aws:SourceAccount: "1"}}
"""


def test_wiring_rule_flags_short_visibility_and_unguarded_streams() -> None:
    assert event_source_wiring_problems(loads(WIRING)) == [
        "QueueMapping: Queue VisibilityTimeout 20s is shorter than Fn Timeout 60s",
        "StreamMapping: stream mapping needs a bounded MaximumRetryAttempts",
        "StreamMapping: stream mapping needs an OnFailure destination for dropped records",
    ]


def test_subscription_rule_needs_queue_policies_for_topics_and_buckets() -> None:
    assert subscription_problems(loads(WIRING)) == [
        "OpenSubscription: queue OpenQueue has no QueuePolicy allowing sns.amazonaws.com "
        "sqs:SendMessage (with a source condition)",
        "Landing: must DependsOn QueuePolicy (queue Queue)",
        "Raw: queue OpenQueue has no QueuePolicy allowing s3.amazonaws.com "
        "sqs:SendMessage (with a source condition)",
    ]


def test_naming_rule_flags_names_without_stage_or_service() -> None:
    body = loads(
        "Resources:\n"
        "  Good: {Type: AWS::SQS::Queue, Properties: {QueueName: !Sub 'rocket-${Stage}-svc-q'}}\n"
        "  Unnamed: {Type: AWS::SQS::Queue}\n"
        "  Fixed: {Type: AWS::SQS::Queue, Properties: {QueueName: jobs}}\n"
        "  Other: {Type: AWS::SNS::Topic, Properties: {TopicName: !Sub 'rocket-${Stage}-x'}}\n"
    )
    assert naming_problems(body, "rocket-${Stage}-svc") == [
        "Fixed: QueueName 'jobs' does not contain 'rocket-${Stage}-svc'",
        "Other: TopicName 'rocket-${Stage}-x' does not contain 'rocket-${Stage}-svc'",
    ]
    assert (
        name_prefix(REPO_ROOT / "services" / "svc" / "template.yaml", REPO_ROOT)
        == "rocket-${Stage}-svc"
    )
    assert name_prefix(REPO_ROOT / "infra" / "platform.yaml", REPO_ROOT) == "rocket-${Stage}-"


ROLES = """
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Fn:
    Type: AWS::Lambda::Function
    Properties: {FunctionName: fn, Role: !GetAtt Role.Arn}
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: /aws/lambda/fn}
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties: {EventSourceArn: !GetAtt Queue.Arn, FunctionName: !Ref Fn}
  Role:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - {Effect: Allow, Action: "logs:Put*", Resource: !Sub "${Logs.Arn}:*"}
              - {Effect: Allow, Action: [sqs:ReceiveMessage], Resource: !GetAtt Queue.Arn}
  Extra:
    Type: AWS::IAM::Policy
    Properties:
      Roles: [!Ref Role]
      PolicyDocument:
        Statement:
          - {Effect: Allow, Action: sqs:DeleteMessage, Resource: !GetAtt Queue.Arn}
"""


def test_function_role_rule_needs_logs_and_source_permissions() -> None:
    assert function_role_problems(loads(ROLES)) == [
        "Fn: role Role cannot ['logs:CreateLogStream'] on log group Logs",
        "Fn: role Role cannot ['sqs:GetQueueAttributes'] on Queue",
    ]
    managed = loads(
        ROLES.replace(
            "    Properties:\n      Policies:",
            "    Properties:\n      ManagedPolicyArns:\n"
            "        - arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole\n"
            "      Policies:",
        )
    )
    assert function_role_problems(managed) == []


def test_topic_key_rule_needs_the_key_to_publish() -> None:
    body = loads(
        """
Resources:
  Publisher:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: sns:Publish
                Resource: {"Fn::ImportValue": !Sub "rocket-${Stage}-EventTopicArn"}
              - Effect: Allow
                Action: kms:GenerateDataKey*
                Resource: {"Fn::ImportValue": !Sub "rocket-${Stage}-EventTopicKeyArn"}
  Reader:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement: [{Effect: Allow, Action: s3:GetObject, Resource: arn:aws:s3:::b/*}]
"""
    )
    assert topic_key_problems(body) == [
        "Publisher: publishes to the event topic but cannot ['kms:Decrypt'] its key"
    ]


PRIVILEGES = """
Resources:
  Queue: {Type: AWS::SQS::Queue}
  Bucket: {Type: AWS::S3::Bucket}
  Fn:
    Type: AWS::Lambda::Function
    Properties: {Role: !GetAtt Role.Arn}
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - {Effect: Allow, Action: sqs:ReceiveMessage, Resource: !GetAtt Queue.Arn}
              - {Effect: Allow, Action: s3:GetObject, Resource: !Sub "${Bucket.Arn}/in/*"}
              - Effect: Allow
                Action: glue:StartJobRun
                Resource: !Sub "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:\
                  job/rocket-${Stage}-svc-job"
              - Effect: Allow
                Action: sns:Publish
                Resource: {"Fn::ImportValue": !Sub "rocket-${Stage}-EventTopicArn"}
              - Effect: Allow
                Action: [kms:GenerateDataKey, kms:Decrypt]
                Resource: {"Fn::ImportValue": !Sub "rocket-${Stage}-EventTopicKeyArn"}
                Condition: {StringEquals: {kms:ViaService: sns.us-east-1.amazonaws.com}}
              - Effect: Allow
                Action: s3:GetObject
                Resource: !Sub
                  - arn:${AWS::Partition}:s3:::${Bucket}/svc/glue/*
                  - Bucket: {"Fn::ImportValue": !Sub "rocket-${Stage}-ArtifactBucketName"}
              - {Effect: Allow, Action: xray:PutTraceSegments, Resource: "*"}
              - {Effect: Deny, Action: "*", Resource: "*"}
"""


def _with_statement(statement: str) -> Any:
    return loads(PRIVILEGES + "              - " + statement + "\n")


def test_least_privilege_walker_passes_a_stack_that_keeps_to_itself() -> None:
    assert least_privilege_problems(loads(PRIVILEGES), "svc") == []


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        (
            '{Effect: Allow, Action: "s3:Get*", Resource: !Sub "${Bucket.Arn}/*"}',
            "Role/p[8]: wildcard action 's3:Get*'",
        ),
        (
            '{Effect: Allow, Action: sqs:SendMessage, Resource: "*"}',
            "Role/p[8]: Resource '*' for actions that support resources: ['sqs:SendMessage']",
        ),
        (
            "{Effect: Allow, Action: s3:GetObject,"
            ' Resource: "arn:aws:s3:::rocket-dev-etl-layers-raw-1-us-east-1/*"}',
            "Role/p[8]: arn:aws:s3:::rocket-dev-etl-layers-raw-1-us-east-1/* is not this "
            "stack's, the shared topic's or its artifacts",
        ),
        (
            "{Effect: Allow, Action: s3:GetObject,"
            ' Resource: !Sub "arn:aws:s3:::rocket-${Stage}-other-raw/${Bucket}"}',
            "Role/p[8]: arn:aws:s3:::rocket-${Stage}-other-raw/${Bucket} is not this "
            "stack's, the shared topic's or its artifacts",
        ),
        (
            "{Effect: Allow, Action: glue:StartJobRun,"
            ' Resource: !Sub "arn:aws:glue:*:*:job/rocket-${Stage}-svc-job"}',
            "Role/p[8]: arn:aws:glue:*:*:job/rocket-${Stage}-svc-job is not this stack's, "
            "the shared topic's or its artifacts",
        ),
        (
            "{Effect: Allow, Action: sns:Subscribe,"
            ' Resource: {"Fn::ImportValue": !Sub "rocket-${Stage}-EventTopicArn"}}',
            "Role/p[8]: ['sns:Subscribe'] on EventTopicArn (only ['sns:Publish'])",
        ),
        (
            "{Effect: Allow, Action: sns:Publish,"
            ' Resource: {"Fn::ImportValue": !Sub "rocket-${Stage}-AlarmTopicArn"}}',
            "Role/p[8]: names the platform export AlarmTopicArn, which no function may use",
        ),
        (
            "{Effect: Allow, Action: kms:Decrypt,"
            ' Resource: {"Fn::ImportValue": !Sub "rocket-${Stage}-EventTopicKeyArn"}}',
            "Role/p[8]: uses the topic key without a kms:ViaService condition",
        ),
        (
            "{Effect: Allow, Action: s3:PutObject, Resource: !Sub"
            ' ["arn:aws:s3:::${B}/svc/*", {B: {"Fn::ImportValue": !Sub'
            ' "rocket-${Stage}-ArtifactBucketName"}}]}',
            "Role/p[8]: ['s3:PutObject'] on the artifact bucket (only reads)",
        ),
        (
            "{Effect: Allow, Action: s3:GetObject, Resource: !Sub"
            ' ["arn:${AWS::Partition}:s3:::${B}/other/*", {B: {"Fn::ImportValue": !Sub'
            ' "rocket-${Stage}-ArtifactBucketName"}}]}',
            "Role/p[8]: reads the artifact bucket outside svc/ "
            "(arn:${AWS::Partition}:s3:::${ArtifactBucket}/other/*)",
        ),
        (
            "{Effect: Allow, Action: kms:Decrypt,"
            ' Resource: !Sub "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"}',
            "Role/p[8]: names arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/* "
            "without a kms:ViaService condition",
        ),
        (
            "{Effect: Allow, Action: glue:StartJobRun, Resource: !Sub"
            ' "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:job/'
            'rocket-${Stage}-etl-layers-reprocess"}',
            "Role/p[8]: arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:job/"
            "rocket-${Stage}-etl-layers-reprocess is not this stack's, the shared topic's or "
            "its artifacts",
        ),
        (
            "{Effect: Allow, NotAction: s3:DeleteObject, Resource: !GetAtt Bucket.Arn}",
            "Role/p[8]: Allow with NotAction/NotResource",
        ),
    ],
)
def test_least_privilege_walker_catches_each_violation(statement: str, problem: str) -> None:
    assert least_privilege_problems(_with_statement(statement), "svc") == [problem]


def test_least_privilege_walker_checks_who_runs_with_which_role() -> None:
    body = loads(
        PRIVILEGES.replace("Properties: {Role: !GetAtt Role.Arn}", "Properties: {Role: arn:x}")
        .replace("{Service: lambda.amazonaws.com}", "{AWS: arn:aws:iam::1:root}")
        .replace(
            "      Policies:",
            "      ManagedPolicyArns: [arn:aws:iam::aws:policy/Admin]\n      Policies:",
        )
    )
    assert least_privilege_problems(body, "svc") == [
        "Fn: runs with a role from outside the stack",
        "Role: managed policies grant what no test can read; write it inline",
        "Role: assumable by {'AWS': 'arn:aws:iam::1:root'}, not only by an AWS service",
    ]


def test_resource_policy_rule_lets_in_only_the_account_and_pinned_services() -> None:
    body = loads(
        """
Resources:
  QueuePolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      PolicyDocument:
        Statement:
          - {Effect: Allow, Principal: "*", Action: sqs:SendMessage, Resource: q}
          - {Effect: Allow, Principal: {Service: sns.amazonaws.com}, Action: sqs:SendMessage,
             Resource: q}
          - {Effect: Allow, Principal: {Service: sns.amazonaws.com}, Action: sqs:SendMessage,
             Resource: q, Condition: {ArnEquals: {aws:SourceArn: t}}}
          - {Effect: Deny, Principal: "*", Action: "sqs:*", Resource: q}
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Statement:
          - Effect: Allow
            Principal: {AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
            Action: "kms:*"
            Resource: "*"
          - {Effect: Allow, Principal: {AWS: "arn:aws:iam::210987654321:root"}, Action: kms:Decrypt,
             Resource: "*"}
  Open:
    Type: AWS::Lambda::Permission
    Properties: {FunctionName: f, Action: lambda:InvokeFunction, Principal: events.amazonaws.com}
  Pinned:
    Type: AWS::Lambda::Permission
    Properties: {FunctionName: f, Action: lambda:InvokeFunction, Principal: s3.amazonaws.com,
                 SourceAccount: !Ref AWS::AccountId}
"""
    )
    assert resource_policy_problems(body) == [
        "QueuePolicy[0]: Allow to '*'",
        "QueuePolicy[1]: Allow to an AWS service without an aws:SourceArn or aws:SourceAccount "
        "condition",
        "Key[1]: Allow to ['arn:aws:iam::210987654321:root'] (only this account's root)",
        "Open: invoke permission without SourceArn or SourceAccount",
    ]
