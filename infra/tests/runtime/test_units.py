"""The runtime's pure parts and its workers, without an emulator."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rocket_infra.runtime.discovery import (
    KinesisMapping,
    Schedule,
    ScheduleTarget,
    SqsMapping,
    parse_template,
    resolve_string,
)
from rocket_infra.runtime.events import failed_item_ids, matches_filters, sqs_record
from rocket_infra.runtime.glue import glue_argv, last_error_line, script_candidates
from rocket_infra.runtime.kinesis_poller import KinesisPoller
from rocket_infra.runtime.records import Activity
from rocket_infra.runtime.schedule_expressions import ScheduleExpressionError, parse
from rocket_infra.runtime.schedules import ScheduleRunner
from rocket_infra.runtime.sqs_poller import SqsPoller
from rocket_infra.runtime.stepfunctions import MARKER, retry_delay, rewire_definition
from rocket_infra.runtime.template_values import TemplateValues, UnresolvableError, substitute
from rocket_infra.runtime.workers import (
    FunctionPool,
    FunctionSpec,
    FunctionWorker,
    InvokeResult,
    WorkerPool,
    worker_environment,
)

LAMBDAS = Path(__file__).parent / "lambdas"
FN_ARN = "arn:aws:lambda:us-east-1:123456789012:function:rocket-local-x-fn"


# --- schedule expressions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("rate(5 minutes)", datetime(2026, 11, 22, 4, 0), datetime(2026, 11, 22, 4, 5)),
        ("rate(1 day)", datetime(2026, 11, 22, 4, 0), datetime(2026, 11, 23, 4, 0)),
        ("cron(0 3 * * ? *)", datetime(2026, 11, 22, 4, 0), datetime(2026, 11, 23, 3, 0)),
        ("cron(0 3 * * ? *)", datetime(2026, 11, 22, 2, 59), datetime(2026, 11, 22, 3, 0)),
        ("cron(0/15 * ? * MON-FRI *)", datetime(2026, 11, 21, 10, 7), datetime(2026, 11, 23, 0, 0)),
        (
            "cron(0/15 * ? * MON-FRI *)",
            datetime(2026, 11, 23, 10, 7),
            datetime(2026, 11, 23, 10, 15),
        ),
        ("cron(30 12 L * ? *)", datetime(2026, 2, 3, 0, 0), datetime(2026, 2, 28, 12, 30)),
        ("cron(0 9 ? * 2#1 *)", datetime(2026, 11, 22, 0, 0), datetime(2026, 12, 7, 9, 0)),
        ("cron(0 9 ? * 6L *)", datetime(2026, 11, 1, 0, 0), datetime(2026, 11, 27, 9, 0)),
        # 2026-11-01 is a Sunday: the nearest weekday of the 1st is Monday the 2nd
        ("cron(0 8 1W * ? *)", datetime(2026, 11, 1, 7, 0), datetime(2026, 11, 2, 8, 0)),
        ("cron(0 0 1 JAN ? 2027)", datetime(2026, 11, 22, 0, 0), datetime(2027, 1, 1, 0, 0)),
        ("at(2026-12-01T10:00:00)", datetime(2026, 11, 22, 0, 0), datetime(2026, 12, 1, 10, 0)),
    ],
)
def test_next_fire_time(expression: str, after: datetime, expected: datetime) -> None:
    assert parse(expression).next_after(after) == expected


def test_an_at_expression_fires_once() -> None:
    assert parse("at(2026-12-01T10:00:00)").next_after(datetime(2026, 12, 1, 10, 0)) is None


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(0 minutes)",
        "cron(0 3 * * * *)",
        "cron(0 3 * *)",
        "every day",
    ],
)
def test_invalid_schedule_expressions_are_rejected(expression: str) -> None:
    with pytest.raises(ScheduleExpressionError):
        parse(expression)


# --- schedules fire on time -------------------------------------------------------------------


class FakeSqs:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def get_queue_url(self, QueueName: str) -> dict[str, str]:  # noqa: N803 - boto3's names
        return {"QueueUrl": f"http://local/{QueueName}"}

    def send_message(self, QueueUrl: str, MessageBody: str) -> None:  # noqa: N803
        self.sent.append((QueueUrl, MessageBody))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self, timezone: str) -> datetime:
        return self.now


def test_a_rate_schedule_fires_on_time_to_its_target(tmp_path: Path) -> None:
    sqs = FakeSqs()
    clock = Clock(datetime(2026, 11, 22, 4, 0, 30, tzinfo=UTC))
    activity = Activity(WorkerPool(endpoint_url="http://x", region="us-east-1", repo_root=tmp_path))
    runner = ScheduleRunner(
        clients={"sqs": sqs},
        activity=activity,
        region="us-east-1",
        account="123456789012",
        clock=clock,
    )
    target = ScheduleTarget("q", "arn:aws:sqs:us-east-1:123456789012:work", '{"go": 1}')
    runner.sync(
        [
            Schedule(
                "every-minute",
                "EveryMinute",
                "rule",
                "arn:rule",
                "rate(1 minute)",
                "UTC",
                True,
                (target,),
            )
        ]
    )

    assert runner.tick() == 0
    clock.now += timedelta(seconds=59)
    assert runner.tick() == 0
    clock.now += timedelta(seconds=2)
    assert runner.tick() == 1
    assert runner.tick() == 0
    clock.now += timedelta(minutes=1)
    assert runner.tick() == 1
    _wait_for(lambda: len(sqs.sent) == 2)
    assert sqs.sent == [("http://local/work", '{"go": 1}')] * 2


def test_a_disabled_schedule_does_not_fire(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 11, 22, 4, 0, tzinfo=UTC))
    activity = Activity(WorkerPool(endpoint_url="http://x", region="us-east-1", repo_root=tmp_path))
    runner = ScheduleRunner(
        clients={"sqs": FakeSqs()}, activity=activity, region="us-east-1", account="1", clock=clock
    )
    runner.sync([Schedule("off", "Off", "rule", "arn:rule", "rate(1 minute)", "UTC", False, ())])
    clock.now += timedelta(minutes=5)
    assert runner.tick() == 0


def test_a_scheduled_lambda_invocation_that_fails_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(LAMBDAS))
    workers = WorkerPool(endpoint_url="http://127.0.0.1:1", region="us-east-1", repo_root=tmp_path)
    workers.sync(
        [
            FunctionSpec(
                "rocket-local-flaky",
                FN_ARN.replace("x-fn", "flaky"),
                "rt_handlers.flaky",
                {"OUT_DIR": str(tmp_path)},
            )
        ]
    )
    activity = Activity(workers)
    runner = ScheduleRunner(
        clients={}, activity=activity, region="us-east-1", account="123456789012"
    )
    target = ScheduleTarget("fn", FN_ARN.replace("x-fn", "flaky"), None)
    runner.sync(
        [
            Schedule(
                "nightly",
                "Nightly",
                "rule",
                "arn:rule",
                "cron(0 3 * * ? *)",
                "UTC",
                True,
                (target,),
            )
        ]
    )
    try:
        runner.trigger("Nightly")
        _wait_for(lambda: len(activity.invocations()) == 2 and activity.in_flight == 0, timeout=20)
    finally:
        workers.stop()
    first, second = activity.invocations()
    assert first.error == "RuntimeError: first attempt fails"
    assert second.error is None
    assert first.source == second.source == "schedule:nightly"
    events = [json.loads(line) for line in (tmp_path / "flaky.jsonl").read_text().splitlines()]
    assert events[0]["detail-type"] == "Scheduled Event"
    assert events[0] == events[1]  # the retry carries the same event


def _wait_for(condition: Any, timeout: float = 5.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.01)


# --- Step Functions rewiring ------------------------------------------------------------------


def test_lambda_tasks_are_rewired_and_other_tasks_left_alone() -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Task",
                "Resource": FN_ARN,
                "Next": "B",
                "Retry": [{"ErrorEquals": ["States.ALL"]}],
            },
            "B": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "C",
                    "States": {
                        "C": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::lambda:invoke",
                            "Parameters": {"FunctionName": FN_ARN, "Payload.$": "$.item"},
                            "OutputPath": "$.Payload",
                            "End": True,
                        }
                    },
                },
                "Next": "D",
            },
            "D": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "E",
                        "States": {
                            "E": {
                                "Type": "Task",
                                "Resource": FN_ARN,
                                "Parameters": {"x.$": "$.y"},
                                "End": True,
                            }
                        },
                    }
                ],
                "Next": "F",
            },
            "F": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage",
                "Parameters": {"QueueUrl": "q"},
                "End": True,
            },
        },
    }

    rewired, count = rewire_definition(definition, "http://queue")

    assert count == 3
    a = rewired["States"]["A"]
    assert a["Resource"] == "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
    assert "Retry" not in a  # the bridge retries: moto reuses a callback's token
    assert a["Parameters"]["QueueUrl"] == "http://queue"
    assert a["Parameters"]["MessageBody"] == {
        "Integration": "function",
        "FunctionName": FN_ARN,
        "Payload.$": "$",
        "TaskToken.$": "$$.Task.Token",
        "ExecutionArn.$": "$$.Execution.Id",
        MARKER: True,
        "Retry": [{"ErrorEquals": ["States.ALL"]}],
    }
    c = rewired["States"]["B"]["ItemProcessor"]["States"]["C"]
    assert c["OutputPath"] == "$.Payload"
    assert c["Parameters"]["MessageBody"]["Integration"] == "invoke"
    assert c["Parameters"]["MessageBody"]["Payload.$"] == "$.item"
    e = rewired["States"]["D"]["Branches"][0]["States"]["E"]
    assert e["Parameters"]["MessageBody"]["Payload"] == {"x.$": "$.y"}
    assert rewired["States"]["F"] == definition["States"]["F"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("errors", "expected"),
    [
        (["Boom"] * 4, [2.0, 4.0, 8.0, None]),  # MaxAttempts 3, backoff 2 from 2 s
        (["Other"], [None]),
        (["Slow", "Slow", "Slow"], [10.0, 10.0, None]),  # capped by MaxDelaySeconds
        (["Any", "Boom"], [0.5, 2.0]),  # each retrier keeps its own count
    ],
)
def test_task_retries_follow_the_states_retriers(
    errors: list[str], expected: list[float | None]
) -> None:
    retriers = [
        {"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2},
        {"ErrorEquals": ["Slow"], "IntervalSeconds": 10, "MaxAttempts": 2, "MaxDelaySeconds": 10},
        {"ErrorEquals": ["Any", "Other2"], "IntervalSeconds": 0.5, "MaxAttempts": 1},
    ]
    attempts: dict[int, int] = {}
    assert [retry_delay(retriers, e, attempts) for e in errors] == expected
    assert retry_delay([{"ErrorEquals": ["States.ALL"], "MaxAttempts": 0}], "X", {}) is None


# --- events ----------------------------------------------------------------------------------


def test_sqs_record_has_lambdas_shape() -> None:
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "rh",
        "MD5OfBody": "abc",
        "Body": '{"a": 1}',
        "Attributes": {
            "ApproximateReceiveCount": "2",
            "SentTimestamp": "1",
            "SenderId": "s",
            "ApproximateFirstReceiveTimestamp": "2",
        },
        "MessageAttributes": {"blob": {"DataType": "Binary", "BinaryValue": b"\x01"}},
    }
    record = sqs_record(message, queue_arn="arn:aws:sqs:us-east-1:1:q", region="us-east-1")
    assert record["attributes"]["ApproximateReceiveCount"] == "2"
    assert record["messageAttributes"]["blob"] == {
        "binaryValue": "AQ==",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "Binary",
    }
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:1:q"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (None, []),
        ({}, []),
        ({"batchItemFailures": []}, []),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, ["b"]),
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, None),  # unknown id: whole batch fails
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, None),
        ({"batchItemFailures": [{}]}, None),
    ],
)
def test_batch_item_failures_are_read_as_lambda_reads_them(
    payload: Any, expected: list[str] | None
) -> None:
    assert failed_item_ids(payload, ["a", "b"]) == expected


def test_filter_patterns_match_the_parsed_body_or_data() -> None:
    record = {"body": '{"type": "a.b.c.v1", "size": 5}', "messageAttributes": {}}
    assert matches_filters(record, ['{"body": {"type": ["a.b.c.v1"]}}'])
    assert not matches_filters(record, ['{"body": {"type": ["other"]}}'])
    assert matches_filters(
        record, ['{"body": {"type": ["other"]}}', '{"body": {"size": [{"numeric": [">", 3]}]}}']
    )
    assert matches_filters({"body": "plain text"}, [])
    kinesis = {"kinesis": {"data": "eyJhZ2VudCI6ICJ4In0=", "partitionKey": "k"}}  # {"agent": "x"}
    assert matches_filters(kinesis, ['{"data": {"agent": ["x"]}}'])


# --- Glue and templates ----------------------------------------------------------------------


def test_a_script_location_maps_to_the_service_folder_then_the_repo_root() -> None:
    root = Path("/repo")
    assert script_candidates("s3://rocket-local-artifacts/etl-layers/glue/job.py", root) == [
        root / "services/etl-layers/glue/job.py",
        root / "etl-layers/glue/job.py",
    ]
    assert glue_argv("j", "r1", {"--a": "1", "b": "2"}) == [
        "--JOB_NAME",
        "j",
        "--JOB_RUN_ID",
        "r1",
        "--a",
        "1",
        "--b",
        "2",
    ]
    assert (
        last_error_line("Traceback (most recent call last):\n  File \"x\"\nKeyError: 'k'\n")
        == "KeyError: 'k'"
    )
    assert last_error_line("just exited 1\n") is None


def test_template_values_resolve_subs_refs_and_substitutions() -> None:
    values = TemplateValues(
        clients={},
        resources={"Queue": ("http://local/123456789012/rocket-dev-q", "AWS::SQS::Queue")},
        parameters={"Stage": "dev"},
        region="us-east-1",
        account="123456789012",
    )
    assert values.resolve({"Fn::Sub": "rocket-${Stage}-x ${Queue.Arn} ${!Literal}"}) == (
        "rocket-dev-x arn:aws:sqs:us-east-1:123456789012:rocket-dev-q ${Literal}"
    )
    assert values.resolve({"Fn::Join": ["-", [{"Ref": "Stage"}, "y"]]}) == "dev-y"
    assert substitute('{"Resource": "${Fn}"}', {"Fn": FN_ARN}) == json.dumps({"Resource": FN_ARN})


def test_template_values_fail_by_name_on_what_the_stack_does_not_have() -> None:
    values = TemplateValues(
        clients={}, resources={}, parameters={}, region="us-east-1", account="123456789012"
    )
    with pytest.raises(UnresolvableError, match="Missing"):
        values.resolve({"Ref": "Missing"})
    with pytest.raises(UnresolvableError, match=r"Missing\.Arn"):
        values.resolve({"Fn::GetAtt": ["Missing", "Arn"]})


def test_names_resolve_from_the_stack_parameters_only() -> None:
    assert resolve_string({"Fn::Sub": "rocket-${Stage}-x"}, {"Stage": "dev"}) == "rocket-dev-x"
    assert resolve_string({"Fn::Join": ["-", [{"Ref": "Stage"}, "y"]]}, {"Stage": "dev"}) == (
        "dev-y"
    )
    # anything else (a pseudo parameter, a resource) leaves the name unknown, not guessed
    assert resolve_string({"Fn::Sub": "${AWS::Region}-x"}, {}) is None
    assert resolve_string({"Ref": "Queue"}, {"Stage": "dev"}) is None


def test_deployed_templates_read_with_their_short_forms() -> None:
    template = parse_template("Resources:\n  A:\n    Type: X\n    Properties: {N: !GetAtt B.Arn}\n")
    assert template["Resources"]["A"]["Properties"] == {"N": {"Fn::GetAtt": ["B", "Arn"]}}
    assert parse_template({"Resources": {}}) == {"Resources": {}}  # botocore parsed JSON already


# --- workers ---------------------------------------------------------------------------------


def _worker(tmp_path: Path, handler: str, timeout: int = 5) -> FunctionWorker:
    spec = FunctionSpec(
        "rocket-local-x-fn",
        FN_ARN,
        handler,
        {"STAGE": "deployed", "AWS_ENDPOINT_URL": "https://real"},
        timeout,
    )
    env = worker_environment(
        spec, endpoint_url="http://127.0.0.1:1", region="us-east-1", task_root=tmp_path
    )
    env["PYTHONPATH"] = str(LAMBDAS)
    return FunctionWorker(spec, env, tmp_path)


def test_a_worker_stays_warm_with_the_deployed_environment(tmp_path: Path) -> None:
    worker = _worker(tmp_path, "rt_handlers.warm_counter")
    try:
        first, second = worker.invoke({}), worker.invoke({})
    finally:
        worker.stop()
    assert first.error is None
    assert (first.payload["count"], second.payload["count"]) == (1, 2)
    assert first.payload["pid"] == second.payload["pid"]
    assert first.payload["stage"] == "deployed"


def test_a_function_runs_concurrent_invocations_in_separate_warm_workers(tmp_path: Path) -> None:
    spec = FunctionSpec("rocket-local-x-fn", FN_ARN, "rt_handlers.rendezvous", {}, 20)
    env = worker_environment(
        spec, endpoint_url="http://127.0.0.1:1", region="us-east-1", task_root=tmp_path
    )
    env["PYTHONPATH"] = str(LAMBDAS)
    pool = FunctionPool(spec, env, tmp_path, concurrency=2)
    meeting = tmp_path / "meeting"
    meeting.mkdir()
    try:
        with ThreadPoolExecutor(max_workers=2) as threads:
            results = list(threads.map(pool.invoke, [{"dir": str(meeting), "expected": 2}] * 2))
    finally:
        pool.stop()
    assert [r.error for r in results] == [None, None]
    assert len({r.payload for r in results}) == 2


def test_a_worker_that_crashes_is_reported_and_restarted(tmp_path: Path) -> None:
    crashing = _worker(tmp_path, "rt_handlers.crash")
    try:
        result = crashing.invoke({})
        again = crashing.invoke({})
    finally:
        crashing.stop()
    assert result.error is not None
    assert result.error["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in result.error["errorMessage"]
    assert again.error is not None
    assert again.error["errorType"] == "Runtime.ExitError"  # a fresh process ran it again


def test_a_handler_past_its_timeout_is_stopped(tmp_path: Path) -> None:
    worker = _worker(tmp_path, "rt_handlers.sleep_past_timeout", timeout=1)
    try:
        result = worker.invoke({})
    finally:
        worker.stop()
    assert result.error == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "Task timed out after 1.00 seconds",
    }


def test_a_handler_that_cannot_be_imported_fails_every_invocation(tmp_path: Path) -> None:
    worker = _worker(tmp_path, "rt_handlers.no_such_function")
    try:
        result = worker.invoke({})
    finally:
        worker.stop()
    assert result.error is not None
    assert result.error["errorType"] == "Runtime.ImportModuleError"


def test_stop_ends_an_invocation_in_flight(tmp_path: Path) -> None:
    worker = _worker(tmp_path, "rt_handlers.announce_and_sleep", timeout=120)
    started = tmp_path / "started"
    with ThreadPoolExecutor(max_workers=1) as threads:
        pending = threads.submit(worker.invoke, {"file": str(started)})
        _wait_for(started.exists, timeout=20)
        worker.stop()
        result = pending.result(timeout=20)
    assert result.error is not None
    assert result.error["errorType"] == "Runtime.ExitError"
    assert worker.invoke({}).error == {
        "errorType": "Runtime.Stopped",
        "errorMessage": "the runtime stopped",
    }


def test_a_result_that_is_not_json_is_a_marshal_error(tmp_path: Path) -> None:
    worker = _worker(tmp_path, "rt_handlers.unserialisable")
    try:
        result = worker.invoke({})
    finally:
        worker.stop()
    assert result.error is not None
    assert result.error["errorType"] == "Runtime.MarshalError"


def test_the_emulator_endpoint_and_dummy_credentials_win_over_deployed_values(
    tmp_path: Path,
) -> None:
    spec = FunctionSpec(
        "f", FN_ARN, "m.h", {"AWS_ENDPOINT_URL": "https://real", "AWS_ACCESS_KEY_ID": "AKIAREAL"}
    )
    env = worker_environment(
        spec, endpoint_url="http://127.0.0.1:9", region="eu-west-1", task_root=tmp_path
    )
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
    assert env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["_HANDLER"] == "m.h"


def test_tracing_is_off_without_a_daemon_unless_the_function_sets_it(tmp_path: Path) -> None:
    def trace_disabled(environment: dict[str, str]) -> str:
        spec = FunctionSpec("f", FN_ARN, "m.h", environment)
        env = worker_environment(
            spec, endpoint_url="http://127.0.0.1:9", region="eu-west-1", task_root=tmp_path
        )
        return env["POWERTOOLS_TRACE_DISABLED"]

    assert trace_disabled({}) == "true"
    assert trace_disabled({"POWERTOOLS_TRACE_DISABLED": "false"}) == "false"


@pytest.mark.parametrize(
    ("deployed", "discarded"), [({}, False), ({"POWERTOOLS_TRACE_DISABLED": "false"}, True)]
)
def test_a_traced_handler_logs_no_discarded_subsegments_by_default(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], deployed: dict[str, str], discarded: bool
) -> None:
    spec = FunctionSpec("rocket-local-x-fn", FN_ARN, "traced.handler", deployed, 20)
    env = worker_environment(
        spec, endpoint_url="http://127.0.0.1:1", region="us-east-1", task_root=tmp_path
    )
    env.update(PYTHONPATH=str(LAMBDAS), AWS_MAX_ATTEMPTS="1")
    worker = FunctionWorker(spec, env, tmp_path)
    try:
        result = worker.invoke({})
    finally:
        worker.stop()
    assert (result.payload, result.error) == ("traced", None)
    # the worker's stderr is this process's fd 2
    assert ("Subsegment sqs discarded" in capfd.readouterr().err) is discarded


# --- Kinesis retries ---------------------------------------------------------------------------


def _kinesis_mapping(**changes: Any) -> KinesisMapping:
    base = KinesisMapping(
        uuid="u",
        function_name="fn",
        function_arn=FN_ARN,
        stream_arn="arn:aws:kinesis:us-east-1:123456789012:stream/s",
        stream_name="s",
        batch_size=10,
        batching_window=0,
        starting_position="TRIM_HORIZON",
        bisect_on_error=False,
        max_retry_attempts=-1,
        max_record_age=-1,
        on_failure_arn=None,
        report_failures=True,
    )
    return replace(base, **changes)


class ScriptedFunction:
    """Answers each invocation with the next scripted outcome and records the batches."""

    def __init__(self, outcomes: list[Any]) -> None:
        self.outcomes = outcomes
        self.batches: list[list[str]] = []

    def __call__(self, function: str, event: Any, **kwargs: Any) -> InvokeResult:
        self.batches.append([r["kinesis"]["sequenceNumber"] for r in event["Records"]])
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            return InvokeResult(
                None, {"errorType": type(outcome).__name__, "errorMessage": str(outcome)}, 0.0, "r"
            )
        return InvokeResult(outcome, None, 0.0, "r")


def _records(*sequence_numbers: str) -> list[dict[str, Any]]:
    return [
        {
            "SequenceNumber": n,
            "PartitionKey": "k",
            "Data": n.encode(),
            "ApproximateArrivalTimestamp": datetime.now(UTC),
        }
        for n in sequence_numbers
    ]


def test_kinesis_partial_failure_retries_from_the_lowest_failed_record() -> None:
    function = ScriptedFunction(
        [
            {"batchItemFailures": [{"itemIdentifier": "4"}, {"itemIdentifier": "3"}]},
            {"batchItemFailures": []},
        ]
    )
    poller = KinesisPoller(
        _kinesis_mapping(), clients={"kinesis": None}, invoke=function, region="us-east-1"
    )

    poller._process("shardId-0", _records("1", "2", "3", "4", "5"))

    assert function.batches == [["1", "2", "3", "4", "5"], ["3", "4", "5"]]


def test_kinesis_gives_up_after_max_retries_and_reports_to_the_on_failure_queue() -> None:
    sqs = FakeSqs()
    function = ScriptedFunction([ValueError("bad")] * 3)
    mapping = _kinesis_mapping(
        max_retry_attempts=2, on_failure_arn="arn:aws:sqs:us-east-1:123456789012:failures"
    )
    poller = KinesisPoller(
        mapping, clients={"kinesis": None, "sqs": sqs}, invoke=function, region="us-east-1"
    )

    poller._process("shardId-0", _records("7", "8"))

    assert function.batches == [["7", "8"]] * 3  # the first attempt and 2 retries
    [(url, body)] = sqs.sent
    assert url == "http://local/failures"
    info = json.loads(body)["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        "7",
        "8",
        2,
    )
    assert json.loads(body)["requestContext"]["approximateInvokeCount"] == 3


# --- SQS batching window --------------------------------------------------------------------


class TrickleQueue:
    """A queue that hands out at most one message per receive, as a queue being filled does;
    records deletions."""

    def __init__(self, count: int) -> None:
        self.waiting = [f"m{n}" for n in range(count)]
        self.deleted: list[str] = []

    def receive_message(self, **_kwargs: Any) -> dict[str, Any]:
        if not self.waiting:
            return {}
        message_id = self.waiting.pop(0)
        return {
            "Messages": [
                {
                    "MessageId": message_id,
                    "ReceiptHandle": f"h-{message_id}",
                    "Body": json.dumps({"n": message_id}),
                    "MD5OfBody": "",
                    "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
                }
            ]
        }

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> None:  # noqa: N803
        self.deleted += [e["ReceiptHandle"].removeprefix("h-") for e in Entries]


class RecordingFunction:
    def __init__(self, failed: list[str]) -> None:
        self.failed = failed
        self.batches: list[list[str]] = []

    def __call__(self, function: str, event: Any, **kwargs: Any) -> InvokeResult:
        self.batches.append([r["messageId"] for r in event["Records"]])
        failures = [{"itemIdentifier": i} for i in self.failed]
        return InvokeResult({"batchItemFailures": failures}, None, 0.0, "r")


def _sqs_poller(queue: TrickleQueue, function: RecordingFunction, window: int) -> SqsPoller:
    mapping = SqsMapping(
        uuid="u",
        function_name="fn",
        queue_arn="arn:aws:sqs:us-east-1:123456789012:q",
        queue_url="http://127.0.0.1:1/123456789012/q",
        batch_size=3,
        batching_window=window,
        report_failures=True,
        visibility_timeout=30,
    )
    return SqsPoller(mapping, sqs=queue, invoke=function, region="us-east-1")


def test_a_batching_window_gathers_a_batch_from_several_receives() -> None:
    queue, function = TrickleQueue(4), RecordingFunction(failed=["m1"])
    _sqs_poller(queue, function, window=5).poll_once()
    # three receives of one message each make one invocation of batch size 3
    assert function.batches == [["m0", "m1", "m2"]]
    assert queue.deleted == ["m0", "m2"]  # the reported failure stays for redelivery
    assert queue.waiting == ["m3"]


def test_without_a_batching_window_a_receive_is_a_batch() -> None:
    queue, function = TrickleQueue(4), RecordingFunction(failed=[])
    _sqs_poller(queue, function, window=0).poll_once()
    assert function.batches == [["m0"]]
