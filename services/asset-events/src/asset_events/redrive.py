"""Redrive: move a DLQ's messages back to their queue, counting attempts in a message
attribute; past the limit a message is parked in the content bucket with its history."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from asset_events.domain import utc_text
from asset_events.ports import Clock, ContentStore, Mailbox, QueueMessage

ATTEMPTS_ATTRIBUTE = "redrive_attempts"
HISTORY_ATTRIBUTE = "redrive_history"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RedriveReport:
    queue: str
    moved: int
    parked: tuple[str, ...]


def attempts_of(message: QueueMessage) -> int:
    try:
        return max(0, int(message.attributes.get(ATTEMPTS_ATTRIBUTE, "0")))
    except ValueError:
        return 0


def parked_document(queue: str, message: QueueMessage, attempts: int, now: str) -> bytes:
    history = [t for t in message.attributes.get(HISTORY_ATTRIBUTE, "").split(",") if t]
    return json.dumps(
        {
            "queue": queue,
            "message_id": message.message_id,
            "attempts": attempts,
            "redriven_at": history,
            "parked_at": now,
            "attributes": dict(message.attributes),
            "body": message.body,
        },
        sort_keys=True,
        indent=2,
    ).encode("utf-8")


def redrive(
    queue: str,
    mailbox: Mailbox,
    content: ContentStore,
    *,
    max_attempts: int,
    limit: int = 1000,
    clock: Clock = _now,
) -> RedriveReport:
    """Move up to `limit` messages; each is sent back before it is deleted from the DLQ, so a
    crash leaves at worst a copy in both (the producers ignore a request applied before)."""
    moved = 0
    parked: list[str] = []
    while moved + len(parked) < limit:
        messages = mailbox.receive_dead(min(10, limit - moved - len(parked)))
        if not messages:
            break
        for message in messages:
            attempts = attempts_of(message)
            now = utc_text(clock())
            if attempts >= max_attempts:
                key = f"parked/{queue}/{message.message_id}.json"
                parked.append(content.park(key, parked_document(queue, message, attempts, now)))
            else:
                earlier = message.attributes.get(HISTORY_ATTRIBUTE, "").split(",")
                attributes = {
                    **message.attributes,
                    ATTEMPTS_ATTRIBUTE: str(attempts + 1),
                    # Bounded: SQS message attributes are part of the 256 KiB message.
                    HISTORY_ATTRIBUTE: ",".join([*(t for t in earlier if t), now][-20:]),
                }
                mailbox.send_back(message, attributes)
                moved += 1
            mailbox.delete_dead(message)
    return RedriveReport(queue=queue, moved=moved, parked=tuple(parked))
