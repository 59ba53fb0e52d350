"""An SQS event source mapping played the way Lambda's pollers play it."""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from rocket_infra.runtime import log
from rocket_infra.runtime.discovery import SqsMapping
from rocket_infra.runtime.events import (
    correlation_ids,
    failed_item_ids,
    matches_filters,
    sqs_record,
)
from rocket_infra.runtime.records import Invoker

_LONG_POLL_SECONDS = 1  # short enough for stop() to be quick, long enough not to spin


class SqsPoller:
    """Receives batches (BatchSize, MaximumBatchingWindowInSeconds), invokes the handler and
    deletes what succeeded. Messages it does not delete become visible again after the queue's
    VisibilityTimeout; moto moves them to the DLQ on the receive past maxReceiveCount. The
    poller only ever receives to invoke, so every receive is one delivery attempt, as on AWS."""

    def __init__(self, mapping: SqsMapping, *, sqs: Any, invoke: Invoker, region: str) -> None:
        self.mapping = mapping
        self._sqs = sqs
        self._invoke = invoke
        self._region = region
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sqs-{mapping.uuid}", daemon=True)

    def start(self) -> None:
        self._thread.start()
        log.info(
            "poller started", source=self.mapping.queue_arn, function=self.mapping.function_name
        )

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def is_drained(self) -> bool:
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self.mapping.queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return all(int(value) == 0 for value in attributes.values())

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # the emulator went away or refused: retry, never die
                log.error("poll failed", source=self.mapping.queue_arn, error=repr(exc))
                self._stop.wait(1.0)

    def poll_once(self) -> None:
        messages = self._receive_batch()
        if not messages:
            return
        mapping = self.mapping
        records = [
            sqs_record(m, queue_arn=mapping.queue_arn, region=self._region) for m in messages
        ]
        if mapping.filters:
            # Lambda deletes the messages its FilterCriteria leave out, without invoking.
            kept = [matches_filters(r, mapping.filters) for r in records]
            self._delete([m for m, keep in zip(messages, kept, strict=True) if not keep])
            messages = [m for m, keep in zip(messages, kept, strict=True) if keep]
            records = [r for r, keep in zip(records, kept, strict=True) if keep]
            if not messages:
                return
        ids = [m["MessageId"] for m in messages]
        event = {"Records": records}
        log.info(
            "batch received",
            source=mapping.queue_arn,
            function=mapping.function_name,
            batch_size=len(ids),
        )
        result = self._invoke(
            mapping.function_name,
            event,
            source=mapping.queue_arn,
            item_ids=ids,
            correlation_ids=correlation_ids([m["Body"] for m in messages]),
            partial=mapping.report_failures,
        )
        if result.error is not None:
            return  # a handler that raises fails the whole batch: nothing is deleted
        failed: list[str] | None = []
        if mapping.report_failures:
            failed = failed_item_ids(result.payload, ids)
        if failed is None:
            log.warning(
                "batch response invalid", source=mapping.queue_arn, function=mapping.function_name
            )
            return
        done = [m for m in messages if m["MessageId"] not in set(failed)]
        self._delete(done)
        if failed:
            log.info("records left for retry", source=mapping.queue_arn, failed_item_ids=failed)

    def _receive_batch(self) -> list[dict[str, Any]]:
        first = self._receive(self.mapping.batch_size, _LONG_POLL_SECONDS)
        if not first or self.mapping.batching_window <= 0:
            return first
        # A message whose visibility timeout ends inside the batching window comes back: keep
        # it once, with its newest receipt handle (the older one can no longer delete it).
        batch = {m["MessageId"]: m for m in first}
        deadline = time.monotonic() + self.mapping.batching_window
        while len(batch) < self.mapping.batch_size and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            wait = min(_LONG_POLL_SECONDS, math.ceil(remaining))
            for message in self._receive(self.mapping.batch_size - len(batch), wait):
                batch[message["MessageId"]] = message
        return list(batch.values())

    def _receive(self, wanted: int, wait: int) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(
            QueueUrl=self.mapping.queue_url,
            MaxNumberOfMessages=max(1, min(10, wanted)),
            WaitTimeSeconds=wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            self._sqs.delete_message_batch(
                QueueUrl=self.mapping.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)
                ],
            )
