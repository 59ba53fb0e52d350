"""The bus tap: a queue subscribed to the shared topic with no filter, and what it saw.

Every message that crossed the topic is kept, valid or not: what a user needs to see when
something does not run is exactly the message no consumer took. ``inspect`` says what each one
is: a valid contract event, or flagged with the first reason a consumer would refuse it (not a
CloudEvent, not a valid instance of its type's contract) or never see it (no ``type`` message
attribute, so no subscription's filter policy matches and SNS drops it for every consumer).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rocket_contracts import bus
from rocket_contracts.envelope import CloudEvent

from rocket_infra import naming

logger = logging.getLogger(__name__)

NO_SUBSCRIPTION = "matched no subscription: published without the `type` message attribute"


def tap_queue_name(stage: str) -> str:
    return naming.resource_name(stage, "bus-tap")


@dataclass(frozen=True)
class BusMessage:
    """One message as it crossed the shared topic: body, the SNS ``type`` attribute, when."""

    body: str
    type_attribute: str | None
    sent_at: datetime
    message_id: str = ""

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "sent_at": self.sent_at.isoformat()}, sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> BusMessage:
        loaded = json.loads(line)
        return cls(
            body=loaded["body"],
            type_attribute=loaded.get("type_attribute"),
            sent_at=datetime.fromisoformat(loaded["sent_at"]),
            message_id=loaded.get("message_id", ""),
        )

    @classmethod
    def from_sqs(cls, message: dict[str, Any]) -> BusMessage:
        """A message received from the (raw delivery) tap queue."""
        attribute = message.get("MessageAttributes", {}).get(bus.TYPE_ATTRIBUTE, {})
        sent_ms = message.get("Attributes", {}).get("SentTimestamp")
        sent_at = datetime.fromtimestamp(int(sent_ms) / 1000, UTC) if sent_ms else datetime.now(UTC)
        return cls(
            body=message["Body"],
            type_attribute=attribute.get("StringValue"),
            sent_at=sent_at,
            message_id=message.get("MessageId", ""),
        )

    @cached_property
    def inspected(self) -> Inspected:
        return inspect(self)


@dataclass(frozen=True)
class Inspected:
    """What a bus message is: its decoded envelope (when JSON), the Rocket CloudEvent it is (when
    it is one), its correlation id, and the first problem a consumer would have with it."""

    envelope: dict[str, Any] | None
    event: CloudEvent | None
    correlation_id: str | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _decoded(body: str) -> dict[str, Any] | None:
    try:
        loaded = json.loads(body)
    except ValueError:
        return None
    return loaded if isinstance(loaded, dict) else None


def _rocket_event(envelope: dict[str, Any] | None) -> CloudEvent | None:
    if envelope is None:
        return None
    try:
        return CloudEvent.model_validate(envelope)
    except ValidationError:
        return None


def inspect(message: BusMessage) -> Inspected:
    """Validate ``message`` as a consumer subscribed to its type would."""
    envelope = _decoded(message.body)
    correlation_id: str | None = None
    problem: str | None = None
    try:
        parsed = bus.parse_message(message.body, type_attribute=message.type_attribute)
        correlation_id = parsed.correlation_id
    except bus.ContractViolation as exc:
        problem = f"{exc.summary}: {exc.errors[0]}" if exc.errors else exc.summary
    if message.type_attribute is None:
        problem = NO_SUBSCRIPTION if problem is None else f"{NO_SUBSCRIPTION}; {problem}"
    return Inspected(envelope, _rocket_event(envelope), correlation_id, problem)


def _text(envelope: dict[str, Any] | None, name: str) -> str:
    value = (envelope or {}).get(name)
    return str(value) if isinstance(value, str | int | float) and str(value) else "-"


HEADER = "  ".join(
    [f"{'time':<29}", f"{'type':<36}", f"{'source':<22}", f"{'subject':<40}", "correlation id"]
)


def format_message(message: BusMessage) -> str:
    """One line per message (time, type, source, subject, correlation id); a flagged message
    gets a second line, ``  ! <problem>``."""
    inspected = message.inspected
    envelope = inspected.envelope
    event_type = _text(envelope, "type")
    if event_type == "-" and message.type_attribute:
        event_type = message.type_attribute
    line = "  ".join(
        [
            message.sent_at.isoformat(timespec="milliseconds"),
            f"{event_type:<36}",
            f"{_text(envelope, 'source'):<22}",
            f"{_text(envelope, 'subject'):<40}",
            inspected.correlation_id or _text(envelope, "correlationid"),
        ]
    ).rstrip()
    if inspected.problem is None:
        return line
    return f"{line}\n  ! {inspected.problem}"


def format_event(event: CloudEvent) -> str:
    """One line for a Rocket CloudEvent: time, type, source, subject, correlation id."""
    return format_message(
        BusMessage(body=bus.to_json(event), type_attribute=event.type, sent_at=event.time)
    )


def message_json(message: BusMessage) -> str:
    """``rocket events --json``: one object per message, flagged ones included."""
    inspected = message.inspected
    shown: dict[str, Any] = {
        "sent_at": message.sent_at.isoformat(),
        "type_attribute": message.type_attribute,
        "correlation_id": inspected.correlation_id,
        "problem": inspected.problem,
    }
    if inspected.envelope is not None:
        shown["event"] = inspected.envelope
    else:
        shown["body"] = message.body
    return json.dumps(shown, sort_keys=True)


def read_journal(path: Path) -> list[BusMessage]:
    """Messages a running `rocket up` recorded, oldest first."""
    if not path.exists():
        return []
    with path.open() as journal:
        # a last line without its newline is still being written: it is read next time
        return [
            BusMessage.from_json(line) for line in journal if line.endswith("\n") and line.strip()
        ]


def select(messages: Iterable[BusMessage], correlation_id: str | None) -> list[BusMessage]:
    return [
        m
        for m in messages
        if correlation_id is None or m.inspected.correlation_id == correlation_id
    ]


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


def receive(sqs: Any, queue_url: str, wait_seconds: int = 0) -> Iterator[BusMessage]:
    """Read and delete everything waiting on the queue (one long poll at most)."""
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            MessageAttributeNames=["All"],
            AttributeNames=["SentTimestamp"],
        ).get("Messages", [])
        if not messages:
            return
        wait_seconds = 0
        yield from (BusMessage.from_sqs(message) for message in messages)
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ],
        )


class BusTap:
    """Keeps every message that crossed the shared topic; a background thread drains the tap
    queue so it stays shallow (the emulator's SQS slows down with depth)."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        journal: Path | None = None,
        on_message: Callable[[BusMessage], None] | None = None,
        interval: float = 0.2,
    ) -> None:
        self._sqs = sqs
        self.queue_url = queue_url
        self._journal = journal
        self._on_message = on_message
        self._interval = interval
        self._messages: list[BusMessage] = []
        # One reader at a time, so no message is ever held by a reader that a caller of
        # messages() does not wait for. Short polls with a pause between them keep the lock fair.
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rocket-bus-tap", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def drain(self) -> list[BusMessage]:
        """Read what is waiting now; returns the new messages."""
        with self._lock:
            new = list(receive(self._sqs, self.queue_url))
            self._messages.extend(new)
            if self._journal is not None and new:
                with self._journal.open("a") as journal:
                    journal.writelines(m.to_json() + "\n" for m in new)
        for message in new:
            if self._on_message is not None:
                self._on_message(message)
        return new

    def messages(self) -> list[BusMessage]:
        """Every message so far, valid or flagged, in arrival order."""
        self.drain()
        with self._lock:
            return list(self._messages)

    def events(self) -> list[CloudEvent]:
        """The messages that are Rocket CloudEvents (what Rocket's producers write)."""
        return [e for m in self.messages() if (e := m.inspected.event) is not None]

    @property
    def not_cloudevents(self) -> list[str]:
        """Bodies on the bus that are not Rocket CloudEvents (after messages() or events())."""
        with self._lock:
            return [m.body for m in self._messages if m.inspected.event is None]

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.drain()
            except Exception:  # the emulator going away at shutdown must not kill the process
                if self._stop.is_set():
                    return
                logger.exception("bus tap read failed")
