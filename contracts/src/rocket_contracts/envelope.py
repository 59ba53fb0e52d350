"""The CloudEvents 1.0 envelope every message on the Rocket bus travels in.

``CloudEvent`` is generated from ``contracts/schemas/cloudevents/envelope.v1.json``; this module
is its stable import path and holds the constants producers fill it with.
"""

from __future__ import annotations

from rocket_contracts.models.cloudevents.envelope_v1 import CloudEvent

SPEC_VERSION = "1.0"
DATA_CONTENT_TYPE = "application/json"
SOURCE_PREFIX = "rocket/"

__all__ = ["DATA_CONTENT_TYPE", "SOURCE_PREFIX", "SPEC_VERSION", "CloudEvent"]
