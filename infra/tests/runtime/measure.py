"""Measures the runtime's overheads on the test stack (not a test; numbers in the README).

uv run --no-sync python infra/tests/runtime/measure.py
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rocket_infra.runtime.workers import FunctionSpec, FunctionWorker, worker_environment

HERE = Path(__file__).parent
ARN = "arn:aws:lambda:us-east-1:123456789012:function:measure"


def _warm_invocations(calls: int = 2000) -> None:
    tmp = Path(tempfile.mkdtemp())
    spec = FunctionSpec("measure", ARN, "rt_handlers.warm_counter", {}, 10)
    env = worker_environment(
        spec, endpoint_url="http://127.0.0.1:1", region="us-east-1", task_root=tmp
    )
    env["PYTHONPATH"] = str(HERE / "lambdas")
    worker = FunctionWorker(spec, env, tmp)
    try:
        started = time.perf_counter()
        worker.invoke({})
        cold = time.perf_counter() - started
        event = {"Records": [{"body": "x" * 200}] * 10}
        started = time.perf_counter()
        for _ in range(calls):
            worker.invoke(event)
        warm = (time.perf_counter() - started) / calls
    finally:
        worker.stop()
    print(f"worker cold start {cold * 1000:.0f} ms; warm invocation {warm * 1e6:.0f} us")


def _through_the_emulator() -> None:
    spec = importlib.util.spec_from_file_location("runtime_conftest", HERE / "conftest.py")
    assert spec is not None
    assert spec.loader is not None
    conftest = importlib.util.module_from_spec(spec)
    sys.modules["runtime_conftest"] = conftest
    spec.loader.exec_module(conftest)
    os.environ["PYTHONPATH"] = str(HERE / "lambdas")
    with conftest._moto_server() as url:
        out = Path(tempfile.mkdtemp())
        runtime = conftest.Runtime(
            endpoint_url=url, stage=conftest.STAGE, repo_root=conftest.REPO_ROOT
        )
        stack = conftest.Stack(runtime, url, out)
        stack.client("cloudformation").create_stack(
            StackName=f"rocket-{conftest.STAGE}-rt",
            TemplateBody=(HERE / "stack.yaml").read_text(),
            Parameters=[
                {"ParameterKey": "Stage", "ParameterValue": conftest.STAGE},
                {"ParameterKey": "OutDir", "ParameterValue": str(out)},
            ],
        )
        runtime.start()
        try:
            _sqs(stack, runtime)
            _state_machine(stack, runtime)
        finally:
            runtime.stop()


def _sqs(stack: Any, runtime: Any) -> None:
    sqs = stack.client("sqs")
    queue = stack.queue_url("partial")
    for total in (100, 500):
        started = time.perf_counter()
        for first in range(0, total, 10):
            entries = [
                {"Id": str(i), "MessageBody": json.dumps({"n": first + i})} for i in range(10)
            ]
            sqs.send_message_batch(QueueUrl=queue, Entries=entries)
        assert runtime.wait_idle(600)
        elapsed = time.perf_counter() - started
        print(
            f"SQS: {total} messages sent and drained in {elapsed:.1f} s",
            f"({total / elapsed:.0f} msg/s)",
        )


def _state_machine(stack: Any, runtime: Any) -> None:
    sfn = stack.client("stepfunctions")
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:rocket-rtest-rt-pipeline"
    started = time.perf_counter()
    for n in range(10):
        sfn.start_execution(
            stateMachineArn=arn, name=f"m{n}", input=json.dumps({"items": list(range(10))})
        )
    assert runtime.wait_idle(600)
    print(
        f"Step Functions: 10 executions x 11 Lambda tasks in {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    _warm_invocations()
    _through_the_emulator()
