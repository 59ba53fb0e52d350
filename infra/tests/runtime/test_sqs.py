"""SQS event source mappings: batches, partial failures, whole-batch failures and redrive."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

import pytest
from rocket_infra.runtime.log import JsonFormatter

if TYPE_CHECKING:
    from infra.tests.runtime.conftest import Stack


def _send(stack: Stack, queue: str, bodies: list[dict[str, object]]) -> list[str]:
    url = stack.queue_url(queue)
    response = stack.client("sqs").send_message_batch(
        QueueUrl=url,
        Entries=[
            {
                "Id": str(i),
                "MessageBody": json.dumps(body),
                "MessageAttributes": {
                    "type": {"DataType": "String", "StringValue": "test.thing.done.v1"}
                },
            }
            for i, body in enumerate(bodies)
        ],
    )
    return [
        entry["MessageId"] for entry in sorted(response["Successful"], key=lambda e: int(e["Id"]))
    ]


def _dlq_bodies(stack: Stack, queue: str) -> list[dict[str, object]]:
    messages = (
        stack.client("sqs")
        .receive_message(QueueUrl=stack.queue_url(f"{queue}-dlq"), MaxNumberOfMessages=10)
        .get("Messages", [])
    )
    return [json.loads(m["Body"]) for m in messages]


def test_partial_batch_failure_redelivers_only_the_failed_record(stack: Stack) -> None:
    ids = _send(stack, "partial", [{"n": 1}, {"n": 2, "fail_until": 1}, {"n": 3}])

    assert stack.runtime.wait_idle(30)

    calls = [i for i in stack.runtime.invocations() if i.function == "rocket-rtest-rt-partial"]
    assert sorted(calls[0].item_ids) == sorted(ids)
    assert calls[0].failed_item_ids == [ids[1]]
    assert [c.item_ids for c in calls[1:]] == [[ids[1]]]
    assert calls[1].failed_item_ids == []
    assert _dlq_bodies(stack, "partial") == []


def test_the_handler_gets_a_lambda_shaped_event_context_and_environment(stack: Stack) -> None:
    _send(stack, "partial", [{"n": 9}])
    assert stack.runtime.wait_idle(30)

    seen = stack.seen("partial")[-1]
    record = seen["event"]["Records"][0]
    assert set(record) == {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    }
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":rocket-rtest-rt-partial")
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["type"] == {
        "stringValue": "test.thing.done.v1",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert seen["greeting"] == "deployed-value"
    assert seen["endpoint"] == stack.endpoint_url
    assert seen["function"] == "rocket-rtest-rt-partial"
    assert 0 < seen["remaining_ms"] <= 1_000


def test_a_record_that_always_fails_reaches_the_dlq_after_max_receive_count(stack: Stack) -> None:
    _send(stack, "poison", [{"poison": True}])

    assert stack.runtime.wait_idle(30)

    calls = [i for i in stack.runtime.invocations() if i.function == "rocket-rtest-rt-poison"]
    assert len(calls) == 2  # maxReceiveCount; the third receive moves it to the DLQ
    assert _dlq_bodies(stack, "poison") == [{"poison": True}]


def test_a_handler_that_raises_fails_the_whole_batch(stack: Stack) -> None:
    ids = _send(stack, "raise", [{"ok": 1}, {"boom": 1}])

    assert stack.runtime.wait_idle(30)

    calls = [i for i in stack.runtime.invocations() if i.function == "rocket-rtest-rt-raise"]
    assert calls
    assert all(c.error == "RuntimeError: boom in batch" for c in calls)
    assert all(sorted(c.failed_item_ids) == sorted(ids) for c in calls)
    # the good record was never deleted either: both end in the DLQ
    dlq = _dlq_bodies(stack, "raise")
    dlq += _dlq_bodies(stack, "raise") if len(dlq) < 2 else []
    assert sorted(json.dumps(b) for b in dlq) == sorted(
        json.dumps(b) for b in [{"ok": 1}, {"boom": 1}]
    )


def test_runtime_logs_carry_the_correlation_id_of_the_messages(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rocket.runtime")
    body: dict[str, object] = {
        "specversion": "1.0",
        "type": "test.thing.done.v1",
        "correlationid": "corr-123",
        "data": {},
    }

    _send(stack, "partial", [body])
    assert stack.runtime.wait_idle(30)

    returned = [r for r in caplog.records if r.getMessage() == "function returned"]
    fields = [getattr(r, "fields", {}) for r in returned]
    assert any(
        f.get("correlation_ids") == ["corr-123"] and f["function"] == "rocket-rtest-rt-partial"
        for f in fields
    )
    line = json.loads(JsonFormatter().format(returned[-1]))
    assert line["message"] == "function returned"
    assert line["correlation_ids"] == ["corr-123"]


def test_filter_criteria_leave_out_messages_without_invoking(stack: Stack) -> None:
    _send(
        stack,
        "filtered",
        [{"kind": "keep", "n": 1}, {"kind": "drop", "n": 2}, {"kind": "keep", "n": 3}],
    )

    assert stack.runtime.wait_idle(30)  # the dropped message was deleted, not left behind

    seen = [body for batch in stack.seen("filtered") for body in batch]
    assert sorted(body["n"] for body in seen) == [1, 3]
