"""`rocket publish <type> --data @file.json`: put one contract event on the shared topic.

The event is what a consumer accepts (validated with the consumers' own reader before anything
is sent) and goes out with the SNS message attribute ``type``, which every subscription's filter
policy matches on: the same message as ``aws sns publish`` with the attribute set by hand.
"""

from __future__ import annotations

import json
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from rocket_contracts import bus, registry
from rocket_contracts.envelope import DATA_CONTENT_TYPE, SPEC_VERSION

from rocket_infra import deploy

DEFAULT_SOURCE = "rocket/cli"


class PublishError(ValueError):
    """The event cannot be published as asked; the message says why."""


def read_data(argument: str, stdin: TextIO | None = None) -> dict[str, Any]:
    """``@path`` (a JSON file), ``-`` (standard input) or the JSON text itself."""
    if argument == "-":
        text = (stdin or sys.stdin).read()
    elif argument.startswith("@"):
        path = Path(argument[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PublishError(f"cannot read {path}: {exc.strerror}") from exc
    else:
        text = argument
    try:
        loaded = json.loads(text)
    except ValueError as exc:
        raise PublishError(f"--data is not JSON: {exc}") from exc
    if not isinstance(loaded, dict):
        raise PublishError("--data must be a JSON object (the event's data)")
    return loaded


@dataclass(frozen=True)
class Outgoing:
    """A validated event ready for SNS: the message and its attributes."""

    event_type: str
    event_id: str
    correlation_id: str
    message: str

    @property
    def attributes(self) -> dict[str, dict[str, str]]:
        return {bus.TYPE_ATTRIBUTE: {"DataType": "String", "StringValue": self.event_type}}


def build(
    event_type: str,
    data: dict[str, Any],
    *,
    source: str = DEFAULT_SOURCE,
    correlation_id: str | None = None,
    subject: str | None = None,
) -> Outgoing:
    """The CloudEvent for ``data``; PublishError with the first problems when a consumer would
    refuse it (unknown type, data outside the contract, a source that is no URI-reference)."""
    if event_type not in registry.event_types():
        known = ", ".join(registry.event_types())
        raise PublishError(f"no contract for {event_type!r}; known types: {known}")
    event_id = str(uuid.uuid4())
    envelope: dict[str, Any] = {
        "specversion": SPEC_VERSION,
        "id": event_id,
        "source": source,
        "type": event_type,
        "time": datetime.now(UTC).isoformat(),
        "dataschema": registry.schema_id(event_type),
        "datacontenttype": DATA_CONTENT_TYPE,
        "data": data,
        "correlationid": correlation_id or event_id,
    }
    if subject is not None:
        envelope["subject"] = subject
    try:
        parsed = bus.parse_envelope(envelope, type_attribute=event_type)
    except bus.ContractViolation as exc:
        raise PublishError(f"{exc.summary}: {'; '.join(exc.errors[:5])}") from exc
    message = json.dumps(envelope, separators=(",", ":"), sort_keys=True)
    if len(message.encode("utf-8")) > bus.MAX_MESSAGE_BYTES:
        raise PublishError(f"the event is over {bus.MAX_MESSAGE_BYTES} bytes, which SNS refuses")
    return Outgoing(event_type, event_id, parsed.correlation_id, message)


def topic_arn(cfn: Any, stage: str) -> str:
    """The shared topic of ``stage``, as the platform stack exports it."""
    name = f"rocket-{stage}-EventTopicArn"
    found = deploy.exports(cfn).get(name)
    if found is None:
        raise PublishError(f"no export {name}: is the platform stack of {stage} deployed?")
    return found


def send(sns: Any, topic: str, outgoing: Outgoing) -> str:
    """Publish; the SNS message id."""
    response = sns.publish(
        TopicArn=topic, Message=outgoing.message, MessageAttributes=outgoing.attributes
    )
    message_id: str = response["MessageId"]
    return message_id
