"""Step Functions executions with their Lambda tasks running the real handlers.

moto (with `execute_state_machine`) interprets the whole ASL faithfully (Map inline and
DISTRIBUTED, Parallel, Choice, Wait, Retry/Catch, every JSONPath field, intrinsics) and
describe_execution shows what happened, but it cannot run Lambda code. So each Lambda task of a
deployed state machine is rewired into the one callback pattern moto does support: the task
becomes `sqs:sendMessage.waitForTaskToken` to the runtime's task queue, carrying the function
and the payload the task would have sent; the runtime invokes the handler and answers with
SendTaskSuccess (the Lambda result, shaped as the integration returns it) or SendTaskFailure
(the function's errorType and error payload, as Lambda reports them), so Retry/Catch,
ResultSelector, ResultPath and OutputPath apply to the real result.

A rewired task's Retry is carried out here, not by moto: moto's interpreter keeps one task
token (and its callback outcome) across the attempts of a state, so a retried callback task
reads the previous attempt's outcome at once instead of waiting for its own answer. The task's
retriers travel in the message; a handler error they match is invoked again after the
retrier's interval (IntervalSeconds, BackoffRate, MaxAttempts, MaxDelaySeconds, first matching
retrier), and only the last error is sent back, to the state's Catch.
"""

from __future__ import annotations

import contextlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rocket_infra.runtime import log
from rocket_infra.runtime.discovery import StateMachineSpec
from rocket_infra.runtime.records import Activity

MARKER = "rocketLocalRuntimeTask"
_INVOKE = "arn:aws:states:::lambda:invoke"
_INVOKE_FIELDS = ("FunctionName", "Payload", "Qualifier", "ClientContext", "InvocationType")


def rewire_definition(definition: dict[str, Any], queue_url: str) -> tuple[dict[str, Any], int]:
    """The definition with every Lambda task sent to the runtime's queue, and how many."""
    states = dict(definition.get("States") or {})
    count = 0
    for name, state in states.items():
        new_state, rewired = _rewire_state(state, queue_url)
        states[name] = new_state
        count += rewired
    return {**definition, "States": states}, count


def _rewire_state(state: dict[str, Any], queue_url: str) -> tuple[dict[str, Any], int]:
    kind = state.get("Type")
    if kind == "Task":
        task = _rewire_task(state, queue_url)
        return (task, 1) if task is not None else (state, 0)
    if kind == "Map":
        key = "ItemProcessor" if "ItemProcessor" in state else "Iterator"
        if key in state:
            inner, count = rewire_definition(state[key], queue_url)
            return {**state, key: inner}, count
    if kind == "Parallel":
        branches, total = [], 0
        for branch in state.get("Branches", []):
            inner, count = rewire_definition(branch, queue_url)
            branches.append(inner)
            total += count
        return {**state, "Branches": branches}, total
    return state, 0


def _rewire_task(state: dict[str, Any], queue_url: str) -> dict[str, Any] | None:
    resource = str(state.get("Resource", ""))
    parameters = state.get("Parameters")
    if resource.startswith("arn:aws:lambda:") and ":function:" in resource:
        body: dict[str, Any] = {"Integration": "function", "FunctionName": resource}
        if parameters is not None:
            body["Payload"] = parameters
        else:
            body["Payload.$"] = "$"
    elif resource == _INVOKE:
        params = dict(parameters or {})
        body = {"Integration": "invoke"}
        for key, value in params.items():
            if key.removesuffix(".$") in _INVOKE_FIELDS:
                body[key] = value
    else:
        return None
    body["TaskToken.$"] = "$$.Task.Token"
    body["ExecutionArn.$"] = "$$.Execution.Id"
    body[MARKER] = True
    if state.get("Retry"):
        body["Retry"] = state["Retry"]
    # A request-response Lambda task sends no heartbeats: the callback must not expect any.
    # Its Retry is run by the bridge (see the module docstring).
    dropped = ("HeartbeatSeconds", "HeartbeatSecondsPath", "Retry")
    kept = {k: v for k, v in state.items() if k not in dropped}
    rewired = {**kept, "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken"}
    rewired["Parameters"] = {"QueueUrl": queue_url, "MessageBody": body}
    return rewired


class StepFunctionsBridge:
    """Owns the task queue, rewires deployed state machines and answers their Lambda tasks."""

    def __init__(self, *, clients: Any, activity: Activity, queue_name: str) -> None:
        self._sfn = clients["stepfunctions"]
        self._sqs = clients["sqs"]
        self._activity = activity
        self._queue_name = queue_name
        self._queue_url = ""
        self._state_machines: list[str] = []
        self._pending = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="sfn-task")
        self._thread = threading.Thread(target=self._run, name="sfn-tasks", daemon=True)

    def _ensure_started(self) -> None:
        # The task queue exists only once a deployed state machine needs it.
        if self._queue_url:
            return
        self._queue_url = self._sqs.create_queue(
            QueueName=self._queue_name, Attributes={"VisibilityTimeout": "900"}
        )["QueueUrl"]
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def sync(self, specs: list[StateMachineSpec]) -> None:
        """Create or update each deployed state machine in the executing backend, rewired."""
        self._state_machines = [spec.arn for spec in specs]
        if specs:
            self._ensure_started()
        for spec in specs:
            definition, count = rewire_definition(json.loads(spec.definition), self._queue_url)
            text = json.dumps(definition)
            # No cache of what was wired: a redeploy puts the template's definition back, so the
            # backend's current definition is what decides whether to re-wire.
            try:
                current = self._sfn.describe_state_machine(stateMachineArn=spec.arn)
            except self._sfn.exceptions.StateMachineDoesNotExist:
                self._sfn.create_state_machine(
                    name=spec.name, definition=text, roleArn=spec.role_arn, type=spec.type
                )
            else:
                if json.loads(current["definition"]) != definition:
                    self._sfn.update_state_machine(
                        stateMachineArn=spec.arn, definition=text, roleArn=spec.role_arn
                    )
                else:
                    continue
            log.info("state machine wired", state_machine=spec.arn, lambda_tasks=count)

    def is_idle(self) -> bool:
        with self._lock:
            if self._pending:
                return False
        for arn in self._state_machines:
            running = self._sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")
            if running.get("executions"):
                return False
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self._sqs.receive_message(
                    QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                ).get("Messages", [])
            except Exception as exc:  # keep answering tasks across emulator hiccups
                log.error("poll failed", source=self._queue_name, error=repr(exc))
                self._stop.wait(1.0)
                continue
            for message in messages:
                with self._lock:
                    self._pending += 1
                self._pool.submit(self._answer, message)

    def _answer(self, message: dict[str, Any]) -> None:
        try:
            task = json.loads(message["Body"])
            self._answer_task(task)
            self._sqs.delete_message(
                QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"]
            )
        except Exception as exc:  # the execution waits for its token; log why it never came
            log.error("state machine task failed", error=repr(exc))
        finally:
            with self._lock:
                self._pending -= 1

    def _answer_task(self, task: dict[str, Any]) -> None:
        token = task["TaskToken"]
        payload = task.get("Payload")
        if isinstance(payload, str) and task.get("Integration") == "invoke":
            with contextlib.suppress(ValueError):
                payload = json.loads(payload)
        attempts: dict[int, int] = {}
        while True:
            result = self._activity.invoke(
                task["FunctionName"],
                payload if payload is not None else {},
                source=f"stepfunctions:{task.get('ExecutionArn', '')}",
                correlation_ids=_correlation_ids(payload),
            )
            if result.error is None:
                break
            error = str(result.error.get("errorType", "Lambda.Unknown"))
            delay = retry_delay(task.get("Retry") or [], error, attempts)
            if delay is None or self._stop.wait(delay):
                break
            log.info("state machine task retried", function=task["FunctionName"], error=error)
        if result.error is not None:
            self._sfn.send_task_failure(
                taskToken=token,
                error=str(result.error.get("errorType", "Lambda.Unknown"))[:256],
                cause=json.dumps(result.error)[:32768],
            )
            return
        output: Any = result.payload
        if task.get("Integration") == "invoke":
            output = {
                "ExecutedVersion": "$LATEST",
                "Payload": result.payload,
                "SdkHttpMetadata": {"HttpStatusCode": 200},
                "SdkResponseMetadata": {"RequestId": result.request_id},
                "StatusCode": 200,
            }
        self._sfn.send_task_success(taskToken=token, output=json.dumps(output))


def retry_delay(
    retriers: list[dict[str, Any]], error: str, attempts: dict[int, int]
) -> float | None:
    """Seconds before the next attempt after `error`, as Step Functions counts them (the first
    retrier whose ErrorEquals matches, each retrier with its own count), or None: no retry."""
    for index, retrier in enumerate(retriers):
        names = retrier.get("ErrorEquals") or []
        if error not in names and "States.ALL" not in names and "States.TaskFailed" not in names:
            continue
        count = attempts.get(index, 0)
        if count >= int(retrier.get("MaxAttempts", 3)):
            return None
        attempts[index] = count + 1
        delay = (
            float(retrier.get("IntervalSeconds", 1))
            * float(retrier.get("BackoffRate", 2.0)) ** count
        )
        if "MaxDelaySeconds" in retrier:
            delay = min(delay, float(retrier["MaxDelaySeconds"]))
        return delay
    return None


def _correlation_ids(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return []
    found = payload.get("correlationid") or payload.get("correlation_id")
    return [found] if isinstance(found, str) else []
