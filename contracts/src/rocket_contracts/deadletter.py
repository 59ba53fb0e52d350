"""Putting a message that can never succeed into its queue's DLQ at once, with the reason.

A consumer that only raised on a poison message would see it ``maxReceiveCount`` times, and it
would reach the DLQ with nothing to say why. Sent here instead, it arrives with message
attributes an operator (and ``rocket redrive``) can read: ``reason`` (a stable code),
``detail`` (the validation errors, truncated) and ``source_message_id`` (the id in the logs).

If the send itself fails, the consumer raises as before: the record comes back, and after
``maxReceiveCount`` deliveries SQS moves it to the DLQ anyway, without the attributes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

REASON = "reason"
DETAIL = "detail"
SOURCE_MESSAGE_ID = "source_message_id"

# SQS counts attributes in the 256 KiB message size; the body is already the sender's choice.
MAX_DETAIL_CHARS = 1000

CONTRACT_VIOLATION = "contract_violation"

_log = logging.getLogger(__name__)


class SqsSendClient(Protocol):
    """The part of a boto3 SQS client that :class:`DeadLetters` uses."""

    def send_message(
        self,
        *,
        QueueUrl: str,  # noqa: N803 (boto3's parameter names)
        MessageBody: str,  # noqa: N803
        MessageAttributes: Mapping[str, Any],  # noqa: N803
    ) -> Mapping[str, Any]: ...


class DeadLetterSender(Protocol):
    """What a consumer needs: :class:`DeadLetters`, or a fake in unit tests."""

    def send(self, body: str, *, reason: str, detail: str, message_id: str | None) -> None: ...


def attributes(reason: str, detail: str, message_id: str | None) -> dict[str, Any]:
    """The SQS message attributes that carry why a message was dead-lettered."""
    values = {REASON: reason, DETAIL: detail[:MAX_DETAIL_CHARS] or "-"}
    if message_id:
        values[SOURCE_MESSAGE_ID] = message_id
    return {name: {"DataType": "String", "StringValue": value} for name, value in values.items()}


@dataclass(frozen=True)
class DeadLetters:
    """Sends a message body to one dead-letter queue with its reason attached."""

    client: SqsSendClient
    queue_url: str

    def send(self, body: str, *, reason: str, detail: str, message_id: str | None) -> None:
        self.client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=body,
            MessageAttributes=attributes(reason, detail, message_id),
        )


def dead_letter(
    sender: DeadLetterSender | None, body: str, *, reason: str, detail: str, message_id: str | None
) -> bool:
    """Whether ``body`` is now in the DLQ with its reason. False without a sender, or when the
    send failed (logged): the caller then fails the record, and SQS redrives it later."""
    if sender is None:
        return False
    try:
        sender.send(body, reason=reason, detail=detail, message_id=message_id)
    except Exception as exc:  # any SQS failure: the record's own retry covers it
        _log.warning(
            "dead-letter send failed, the record will be delivered again: %r (message %s)",
            exc,
            message_id,
        )
        return False
    return True
