"""The CloudEvents 1.0 envelope every message on the Rocket bus travels in.

Strict writers, tolerant readers: Rocket's producers write ``CloudEvent`` (generated from
``contracts/schemas/cloudevents/envelope.v1.json``: every attribute set, ``source`` as
``rocket/<service>``); consumers accept ``ReceivedCloudEvent`` (``received.v1.json``: what the
CloudEvents specification allows from any producer). This module is their stable import path
and holds the constants producers fill them with.
"""

from __future__ import annotations

import hashlib
import re

from rocket_contracts.models.cloudevents.envelope_v1 import CloudEvent
from rocket_contracts.models.cloudevents.received_v1 import ReceivedCloudEvent

SPEC_VERSION = "1.0"
DATA_CONTENT_TYPE = "application/json"
SOURCE_PREFIX = "rocket/"

CONTEXT_ATTRIBUTES = frozenset(
    {"specversion", "id", "source", "type", "datacontenttype", "dataschema", "subject", "time"}
)
"""The attributes the CloudEvents 1.0 specification defines; every other one is an extension."""

_CORRELATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")


def correlation_id_of(event: ReceivedCloudEvent) -> str:
    """The correlation id of a received event: its ``correlationid`` extension, else its ``id``.

    An ``id`` that cannot travel as a correlation id (Rocket's writers require
    ``^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$``; the specification allows any string) becomes
    ``ce-`` and a digest of source and id, so every redelivery of the event gets the same one.
    """
    if event.correlationid is not None:
        return event.correlationid
    if _CORRELATION_ID.match(event.id):
        return event.id
    digest = hashlib.sha256(f"{event.source}\n{event.id}".encode()).hexdigest()
    return f"ce-{digest[:32]}"


__all__ = [
    "CONTEXT_ATTRIBUTES",
    "DATA_CONTENT_TYPE",
    "SOURCE_PREFIX",
    "SPEC_VERSION",
    "CloudEvent",
    "ReceivedCloudEvent",
    "correlation_id_of",
]
