"""The bus tap: a queue subscribed to the shared topic with no filter, and what it saw."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from rocket_contracts.envelope import CloudEvent

from rocket_infra import naming

logger = logging.getLogger(__name__)


def tap_queue_name(stage: str) -> str:
    return naming.resource_name(stage, "bus-tap")


def parse_tapped(body: str) -> CloudEvent | None:
    """A tapped body as a CloudEvent; None (logged) for anything that is not one."""
    try:
        return CloudEvent.model_validate(json.loads(body))
    except ValueError:
        logger.warning("non-cloudevent message on the bus", extra={"body": body[:200]})
        return None


def format_event(event: CloudEvent) -> str:
    """One line: time, type, source, subject, correlation id."""
    return "  ".join(
        [
            event.time.isoformat(timespec="milliseconds"),
            f"{event.type:<36}",
            f"{event.source:<22}",
            f"{event.subject or '-':<40}",
            event.correlationid,
        ]
    )


def read_journal(path: Path) -> list[CloudEvent]:
    """Events a running `rocket up` recorded, oldest first."""
    if not path.exists():
        return []
    with path.open() as journal:
        # a last line without its newline is still being written: it is read next time
        return [
            CloudEvent.model_validate_json(line)
            for line in journal
            if line.endswith("\n") and line.strip()
        ]


def select(events: Iterable[CloudEvent], correlation_id: str | None) -> list[CloudEvent]:
    return [e for e in events if correlation_id is None or e.correlationid == correlation_id]


def ensure_tap(sqs: Any, sns: Any, stage: str, topic_arn: str) -> str:
    """Create the tap queue and subscribe it (raw, no filter) unless it already is; its URL."""
    queue_url: str = sqs.create_queue(QueueName=tap_queue_name(stage))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    subscribed = any(
        sub["Endpoint"] == queue_arn
        for sub in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    )
    if not subscribed:
        sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "true"},
        )
    return queue_url


def receive(
    sqs: Any, queue_url: str, wait_seconds: int = 0, rejected: list[str] | None = None
) -> Iterator[CloudEvent]:
    """Read and delete everything waiting on the queue (one long poll at most); bodies that are
    not CloudEvents go to `rejected`."""
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
        ).get("Messages", [])
        if not messages:
            return
        wait_seconds = 0
        for message in messages:
            event = parse_tapped(message["Body"])
            if event is not None:
                yield event
            elif rejected is not None:
                rejected.append(message["Body"])
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ],
        )


class BusTap:
    """Keeps every event that crossed the shared topic; a background thread drains the tap queue
    so it stays shallow (the emulator's SQS slows down with depth)."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        journal: Path | None = None,
        on_event: Callable[[CloudEvent], None] | None = None,
        interval: float = 0.2,
    ) -> None:
        self._sqs = sqs
        self.queue_url = queue_url
        self._journal = journal
        self._on_event = on_event
        self._interval = interval
        self._events: list[CloudEvent] = []
        self.not_cloudevents: list[str] = []  # bodies on the bus that are no CloudEvent
        # One reader at a time, so no event is ever held by a reader that a caller of events()
        # does not wait for. Short polls with a pause between them keep the lock fair.
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rocket-bus-tap", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def drain(self) -> list[CloudEvent]:
        """Read what is waiting now; returns the new events."""
        with self._lock:
            new = list(receive(self._sqs, self.queue_url, rejected=self.not_cloudevents))
            self._events.extend(new)
            if self._journal is not None and new:
                with self._journal.open("a") as journal:
                    journal.writelines(e.model_dump_json() + "\n" for e in new)
        for event in new:
            if self._on_event is not None:
                self._on_event(event)
        return new

    def events(self) -> list[CloudEvent]:
        self.drain()
        with self._lock:
            return list(self._events)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.drain()
            except Exception:  # the emulator going away at shutdown must not kill the process
                if self._stop.is_set():
                    return
                logger.exception("bus tap read failed")
