"""How other `rocket` commands reach a running `rocket up`: a state file with its endpoint and
a control queue in the emulator it polls (`rocket trigger` sends there and waits for a reply)."""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rocket_infra import naming

logger = logging.getLogger(__name__)


class ControlError(RuntimeError):
    """No running platform, or it did not answer."""


@dataclass(frozen=True)
class State:
    stage: str
    endpoint_url: str
    pid: int
    region: str
    journal: str


def state_path(root: Path, stage: str) -> Path:
    return root / ".rocket" / f"{stage}.json"


def journal_path(root: Path, stage: str) -> Path:
    return root / ".rocket" / f"{stage}-events.jsonl"


def control_queue_name(stage: str) -> str:
    return naming.resource_name(stage, "control")


def write_state(root: Path, state: State) -> Path:
    path = state_path(root, state.stage)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed: another `rocket` command reading the file meanwhile sees the
    # whole state or none, never a half-written (empty) file.
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(asdict(state), indent=2))
    partial.replace(path)
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_state(root: Path, stage: str) -> State | None:
    """The running `rocket up` of `stage`, or None (a stale file of a dead process is ignored)."""
    path = state_path(root, stage)
    if not path.is_file():
        return None
    state = State(**json.loads(path.read_text()))
    return state if _alive(state.pid) else None


def serve_once(
    sqs: Any, queue_url: str, handle: Callable[[dict[str, Any]], dict[str, Any] | None]
) -> int:
    """Run the commands waiting on the control queue (one short long-poll); how many ran.
    What ``handle`` returns goes back in the reply (``{"id", "ok": true, **returned}``)."""
    messages = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
    ).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        command = json.loads(message["Body"])
        reply: dict[str, Any] = {"id": command.get("id"), "ok": True}
        try:
            reply.update(handle(command) or {})
        except Exception as exc:  # any failure goes back to the caller as the reply
            reply = {"id": command.get("id"), "ok": False, "error": f"{type(exc).__name__}: {exc}"}
            logger.warning("control command failed", extra={"command": command, "error": str(exc)})
        if command.get("reply_to"):
            sqs.send_message(QueueUrl=command["reply_to"], MessageBody=json.dumps(reply))
    return len(messages)


def send(sqs: Any, stage: str, command: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
    """Send a command to the running platform and wait for its reply."""
    try:
        queue_url = sqs.get_queue_url(QueueName=control_queue_name(stage))["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist as exc:
        raise ControlError(f"no `rocket up` is serving stage {stage!r} there") from exc
    reply_name = naming.resource_name(stage, "reply", uuid.uuid4().hex[:12])
    reply_url = sqs.create_queue(QueueName=reply_name)["QueueUrl"]
    try:
        command = {**command, "id": uuid.uuid4().hex, "reply_to": reply_url}
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(command))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = sqs.receive_message(QueueUrl=reply_url, WaitTimeSeconds=1).get(
                "Messages", []
            )
            for message in messages:
                reply: dict[str, Any] = json.loads(message["Body"])
                if reply.get("id") == command["id"]:
                    return reply
        raise ControlError(f"the platform did not answer within {timeout:.0f} s")
    finally:
        sqs.delete_queue(QueueUrl=reply_url)
