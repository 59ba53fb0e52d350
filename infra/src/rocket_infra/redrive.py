"""Move a dead-letter queue's messages back to the queue that dead-lettered them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class RedriveError(ValueError):
    """No such queue in the stack, or no dead-letter queue behind it."""


@dataclass(frozen=True)
class QueuePair:
    source_url: str
    source_arn: str
    dlq_url: str
    dlq_arn: str


def _arn(sqs: Any, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def _url(sqs: Any, arn: str) -> str:
    return str(sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"])


def find_pair(sqs: Any, queue_urls: dict[str, str], queue: str) -> QueuePair:
    """`queue` names a source queue or its DLQ, by logical id, queue name or name suffix."""
    matches = [
        url
        for logical_id, url in queue_urls.items()
        if queue in (logical_id, url.rsplit("/", 1)[-1]) or url.endswith(f"-{queue}")
    ]
    if len(matches) != 1:
        known = ", ".join(sorted(queue_urls))
        raise RedriveError(f"{queue!r} matches {len(matches)} queues (queues: {known})")
    named = _url(sqs, _arn(sqs, matches[0]))
    for url in queue_urls.values():
        local_url = _url(sqs, _arn(sqs, url))
        policy = sqs.get_queue_attributes(QueueUrl=local_url, AttributeNames=["RedrivePolicy"])
        raw = policy.get("Attributes", {}).get("RedrivePolicy")
        if not raw:
            continue
        dlq_arn = json.loads(raw)["deadLetterTargetArn"]
        dlq_url = _url(sqs, dlq_arn)
        if named in (local_url, dlq_url):
            return QueuePair(local_url, _arn(sqs, local_url), dlq_url, dlq_arn)
    raise RedriveError(f"{queue!r} has no dead-letter queue and is no queue's dead-letter queue")


def move_messages(sqs: Any, pair: QueuePair, limit: int | None = None) -> int:
    """Receive from the DLQ, send to the source (body and attributes), delete; the emulator's
    way, since moto 5.2.5 does not implement StartMessageMoveTask. Returns how many moved."""
    moved = 0
    while limit is None or moved < limit:
        messages = sqs.receive_message(
            QueueUrl=pair.dlq_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            VisibilityTimeout=60,
        ).get("Messages", [])
        if not messages:
            break
        entries = []
        for i, message in enumerate(messages):
            entry: dict[str, Any] = {"Id": str(i), "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                entry["MessageAttributes"] = message["MessageAttributes"]
            entries.append(entry)
        sent = sqs.send_message_batch(QueueUrl=pair.source_url, Entries=entries)
        ok = {s["Id"] for s in sent.get("Successful", [])}
        done = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(messages)
            if str(i) in ok
        ]
        if done:
            sqs.delete_message_batch(QueueUrl=pair.dlq_url, Entries=done)
        moved += len(done)
        if len(done) < len(messages):
            break
    return moved


def start_move_task(sqs: Any, pair: QueuePair) -> str:
    """AWS's own redrive (StartMessageMoveTask); returns the task handle."""
    response = sqs.start_message_move_task(SourceArn=pair.dlq_arn, DestinationArn=pair.source_arn)
    return str(response["TaskHandle"])
