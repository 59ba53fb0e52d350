"""Handlers of the runtime's test stack. They write what they saw under $OUT_DIR (one JSON line
per call) so the tests can check what reached them, and in which order."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any


def _write(name: str, document: Any) -> None:
    path = Path(os.environ["OUT_DIR"]) / f"{name}.jsonl"
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(document) + "\n")


def partial(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Fails a record while its body asks to (`fail_until` >= this delivery's receive count)."""
    _write(
        "partial",
        {
            "event": event,
            "greeting": os.environ.get("GREETING"),
            "request_id": context.aws_request_id,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "function": context.function_name,
            "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
        },
    )
    failures = []
    for record in event["Records"]:
        body = json.loads(record["body"])
        if int(body.get("fail_until", 0)) >= int(record["attributes"]["ApproximateReceiveCount"]):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def always_fail(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}


def raise_on_boom(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if any("boom" in record["body"] for record in event["Records"]):
        raise RuntimeError("boom in batch")
    return {"batchItemFailures": []}


def record_kinesis(event: dict[str, Any], context: Any) -> dict[str, Any]:
    for record in event["Records"]:
        _write(
            "kinesis",
            {
                "shard": record["eventID"].split(":")[0],
                "key": record["kinesis"]["partitionKey"],
                "data": base64.b64decode(record["kinesis"]["data"]).decode(),
            },
        )
    return {"batchItemFailures": []}


def kinesis_poison(event: dict[str, Any], context: Any) -> None:
    data = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
    if "poison" in data:
        raise ValueError("poison record")
    for item in data:
        _write("bisect", item)


def scheduled(event: dict[str, Any], context: Any) -> None:
    _write("scheduled", event)


def late(event: dict[str, Any], context: Any) -> None:
    _write("late", [record["body"] for record in event["Records"]])


def double(event: int, context: Any) -> int:
    return event * 2


def total(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if any(value < 0 for value in event["doubled"]):
        raise ValueError("negative input")
    return {"total": sum(event["doubled"]), "count": len(event["doubled"])}


_CALLS = {"count": 0}


def warm_counter(event: Any, context: Any) -> dict[str, Any]:
    """Module state survives between invocations of one warm worker, as in a Lambda container."""
    _CALLS["count"] += 1
    return {"count": _CALLS["count"], "stage": os.environ.get("STAGE"), "pid": os.getpid()}


def crash(event: Any, context: Any) -> None:
    os._exit(3)


def sleep_past_timeout(event: Any, context: Any) -> None:
    import time

    time.sleep(30)


def rendezvous(event: dict[str, Any], context: Any) -> int:
    """Returns once `event["expected"]` invocations are inside this handler at the same time."""
    import time

    folder = Path(event["dir"])
    (folder / str(os.getpid())).touch()
    deadline = time.monotonic() + 10
    while len(list(folder.iterdir())) < event["expected"]:
        if time.monotonic() > deadline:
            raise TimeoutError("the other invocation never ran at the same time")
        time.sleep(0.01)
    return os.getpid()


def flaky(event: dict[str, Any], context: Any) -> None:
    """Fails its first call, succeeds after (the attempts are counted in $OUT_DIR)."""
    _write("flaky", event)
    if len(Path(os.environ["OUT_DIR"], "flaky.jsonl").read_text().splitlines()) < 2:
        raise RuntimeError("first attempt fails")


def unserialisable(event: Any, context: Any) -> object:
    return object()


def announce_and_sleep(event: dict[str, Any], context: Any) -> None:
    import time

    Path(event["file"]).touch()
    time.sleep(60)


def filtered(event: dict[str, Any], context: Any) -> None:
    _write("filtered", [json.loads(record["body"]) for record in event["Records"]])
