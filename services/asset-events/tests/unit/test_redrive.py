"""Redrive counts attempts and parks a message past the limit."""

from __future__ import annotations

import json

from asset_events.ports import QueueMessage
from asset_events.redrive import ATTEMPTS_ATTRIBUTE, HISTORY_ATTRIBUTE, redrive
from asset_events_fakes import T0, FakeContentStore, FakeMailbox


def _message(n: int, attempts: int | None = None) -> QueueMessage:
    attributes = {"type": "assets.upsert.requested.v1"}
    if attempts is not None:
        attributes[ATTEMPTS_ATTRIBUTE] = str(attempts)
    return QueueMessage(f"m{n}", f"h{n}", f"body-{n}", attributes)


def test_messages_go_back_with_one_more_attempt() -> None:
    mailbox = FakeMailbox([_message(1), _message(2, attempts=1)])
    report = redrive("upsert", mailbox, FakeContentStore(), max_attempts=3, clock=lambda: T0)
    assert report.moved == 2
    assert report.parked == ()
    assert [(body, a[ATTEMPTS_ATTRIBUTE]) for body, a in mailbox.sent] == [
        ("body-1", "1"),
        ("body-2", "2"),
    ]
    assert all(a["type"] == "assets.upsert.requested.v1" for _, a in mailbox.sent)
    assert mailbox.dead == []


def test_past_the_limit_a_message_is_parked_with_its_history() -> None:
    content = FakeContentStore()
    parked = _message(7, attempts=3)
    parked = QueueMessage(
        parked.message_id,
        parked.receipt_handle,
        parked.body,
        {**parked.attributes, HISTORY_ATTRIBUTE: "2026-11-20T00:00:00.000000Z"},
    )
    mailbox = FakeMailbox([parked, _message(8, attempts=2)])
    report = redrive("upsert", mailbox, content, max_attempts=3, clock=lambda: T0)
    assert report.moved == 1
    assert report.parked == ("s3://content/parked/upsert/m7.json",)
    document = json.loads(content.objects["parked/upsert/m7.json"])
    assert document["body"] == "body-7"
    assert document["attempts"] == 3
    assert document["redriven_at"] == ["2026-11-20T00:00:00.000000Z"]
    assert mailbox.dead == []


def test_the_limit_bounds_one_invocation() -> None:
    mailbox = FakeMailbox([_message(n) for n in range(25)])
    report = redrive("drop", mailbox, FakeContentStore(), max_attempts=3, limit=12)
    assert report.moved == 12
    assert len(mailbox.dead) == 13
