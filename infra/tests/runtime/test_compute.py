"""Kinesis pollers, schedules, state machines and Glue runs of the test stack."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

import pytest
from rocket_infra.runtime import UnknownScheduleError

if TYPE_CHECKING:
    from infra.tests.runtime.conftest import Stack

PREFIX = "rocket-rtest-rt"


def test_kinesis_records_reach_the_handler_in_order_per_shard(stack: Stack) -> None:
    kinesis = stack.client("kinesis")
    for n in range(12):
        key = f"key-{n % 3}"
        kinesis.put_record(
            StreamName=f"{PREFIX}-ordered", PartitionKey=key, Data=f"{key}:{n}".encode()
        )

    assert stack.runtime.wait_idle(30)

    seen = stack.seen("kinesis")
    assert len(seen) == 12
    for key in ("key-0", "key-1", "key-2"):
        numbers = [int(r["data"].split(":")[1]) for r in seen if r["key"] == key]
        assert numbers == sorted(numbers)
        assert len({r["shard"] for r in seen if r["key"] == key}) == 1
    batches = [i for i in stack.runtime.invocations() if i.function == f"{PREFIX}-ordered"]
    assert all(1 <= b.batch_size <= 3 for b in batches)


def test_kinesis_bisects_a_failing_batch_and_sends_the_poison_record_to_on_failure(
    stack: Stack,
) -> None:
    kinesis = stack.client("kinesis")
    for data in ["a", "b", "poison", "c"]:
        kinesis.put_record(StreamName=f"{PREFIX}-bisect", PartitionKey="one", Data=data.encode())

    assert stack.runtime.wait_idle(30)

    assert stack.seen("bisect") == ["a", "b", "c"]
    sqs = stack.client("sqs")
    messages = sqs.receive_message(
        QueueUrl=stack.queue_url("stream-failures"), MaxNumberOfMessages=10
    )
    failures = [json.loads(m["Body"]) for m in messages.get("Messages", [])]
    assert len(failures) == 1
    info = failures[0]["KinesisBatchInfo"]
    assert info["batchSize"] == 1
    assert info["streamArn"].endswith(f":stream/{PREFIX}-bisect")
    assert failures[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_trigger_fires_a_schedule_rule_to_its_lambda_target(stack: Stack) -> None:
    stack.runtime.trigger("NightlyRule")  # by the template's logical id
    stack.runtime.trigger(f"{PREFIX}-nightly")  # and by the rule's name

    assert stack.runtime.wait_idle(30)

    events = stack.seen("scheduled")
    assert len(events) == 2
    assert events[0]["detail-type"] == "Scheduled Event"
    assert events[0]["source"] == "aws.events"
    assert events[0]["resources"] == [
        f"arn:aws:events:us-east-1:123456789012:rule/{PREFIX}-nightly"
    ]


def test_trigger_sends_the_target_input_to_an_sqs_target(stack: Stack) -> None:
    stack.runtime.trigger(f"{PREFIX}-hourly")
    assert stack.runtime.wait_idle(30)

    sqs = stack.client("sqs")
    messages = sqs.receive_message(QueueUrl=stack.queue_url("scheduled"), WaitTimeSeconds=1)[
        "Messages"
    ]
    assert [json.loads(m["Body"]) for m in messages] == [{"command": "compact"}]


def test_trigger_of_an_unknown_schedule_fails_by_name(stack: Stack) -> None:
    with pytest.raises(UnknownScheduleError, match="no-such-schedule"):
        stack.runtime.trigger("no-such-schedule")


def test_a_map_of_lambda_tasks_completes_with_the_handlers_outputs(stack: Stack) -> None:
    sfn = stack.client("stepfunctions")
    arn = f"arn:aws:states:us-east-1:123456789012:stateMachine:{PREFIX}-pipeline"
    execution = sfn.start_execution(
        stateMachineArn=arn,
        name=f"ok-{uuid.uuid4().hex[:8]}",
        input=json.dumps({"items": [1, 2, 3]}),
    )

    assert stack.runtime.wait_idle(30)

    described = sfn.describe_execution(executionArn=execution["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"total": 12, "count": 3}
    source = f"stepfunctions:{execution['executionArn']}"
    functions = [i.function for i in stack.runtime.invocations() if i.source == source]
    assert functions.count(f"{PREFIX}-double") == 3
    assert f"{PREFIX}-total" in functions


def test_a_handler_error_in_a_task_is_caught_by_the_state_machine(stack: Stack) -> None:
    sfn = stack.client("stepfunctions")
    arn = f"arn:aws:states:us-east-1:123456789012:stateMachine:{PREFIX}-pipeline"
    execution = sfn.start_execution(
        stateMachineArn=arn,
        name=f"bad-{uuid.uuid4().hex[:8]}",
        input=json.dumps({"items": [1, -2]}),
    )

    assert stack.runtime.wait_idle(30)

    described = sfn.describe_execution(executionArn=execution["executionArn"])
    assert described["status"] == "FAILED"
    assert described["error"] == "Rejected"


def _start_glue(stack: Stack, job: str, arguments: dict[str, str] | None = None) -> str:
    run_id: str = stack.client("glue").start_job_run(JobName=job, Arguments=arguments or {})[
        "JobRunId"
    ]
    return run_id


def test_a_glue_script_that_succeeds_shows_succeeded_with_its_log(stack: Stack) -> None:
    job = f"{PREFIX}-glue-ok"
    run_id = _start_glue(stack, job, {"--target": "the lake"})

    assert stack.runtime.wait_idle(30)

    [run] = [r for r in stack.runtime.glue_runs(job) if r.run_id == run_id]
    assert run.state == "SUCCEEDED"
    assert run.error is None
    assert f"job {job} says hello to the lake" in run.log
    assert run.arguments == {"--greeting": "hello", "--target": "the lake"}


def test_a_glue_script_that_raises_shows_failed_with_its_error(stack: Stack) -> None:
    job = f"{PREFIX}-glue-fail"
    run_id = _start_glue(stack, job)

    assert stack.runtime.wait_idle(30)

    [run] = [r for r in stack.runtime.glue_runs(job) if r.run_id == run_id]
    assert run.state == "FAILED"
    assert run.error == "ValueError: the source file is missing"
    assert "loading the batch" in run.log


def test_trigger_fires_a_scheduler_schedule_by_logical_id(stack: Stack) -> None:
    stack.runtime.trigger("ScrapeSchedule")
    assert stack.runtime.wait_idle(30)

    sqs = stack.client("sqs")
    messages = sqs.receive_message(QueueUrl=stack.queue_url("scheduler-target"), WaitTimeSeconds=1)[
        "Messages"
    ]
    assert [json.loads(m["Body"]) for m in messages] == [{"command": "scrape"}]


LATE_STACK = """
Parameters:
  OutDir: {Type: String}
Resources:
  LateRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: rocket-rtest-late-role
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
  LateQueue:
    Type: AWS::SQS::Queue
    Properties: {QueueName: rocket-rtest-late-queue, VisibilityTimeout: 5}
  LateFunction:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: rocket-rtest-late
      Runtime: python3.12
      Handler: rt_handlers.late
      Role: !GetAtt LateRole.Arn
      Code: {ZipFile: "def late(event, context):\\n    return None\\n"}
      Environment: {Variables: {OUT_DIR: !Ref OutDir}}
  LateMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt LateQueue.Arn
      FunctionName: !Ref LateFunction
"""


def test_refresh_runs_what_a_later_deploy_added(stack: Stack) -> None:
    stack.client("cloudformation").create_stack(
        StackName="rocket-rtest-late",
        TemplateBody=LATE_STACK,
        Parameters=[{"ParameterKey": "OutDir", "ParameterValue": str(stack.out_dir)}],
    )
    stack.runtime.refresh()

    sqs = stack.client("sqs")
    url = sqs.get_queue_url(QueueName="rocket-rtest-late-queue")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hi")
    assert stack.runtime.wait_idle(30)

    assert stack.seen("late") == [["hi"]]
    mapping = stack.client("lambda").list_event_source_mappings(FunctionName="rocket-rtest-late")
    assert [m["State"] for m in mapping["EventSourceMappings"]] == ["Disabled"]  # taken over
