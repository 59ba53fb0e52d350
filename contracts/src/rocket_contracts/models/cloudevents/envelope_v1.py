# GENERATED from contracts/schemas by `make models` (datamodel-code-generator). Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AnyUrl, AwareDatetime, BaseModel, ConfigDict, Field


class CloudEvent(BaseModel):
    """
    The CloudEvents 1.0 structured-mode JSON envelope every message on the Rocket bus travels in. The event payload is in data and is described by the schema named in dataschema; correlationid is a CloudEvents extension attribute carried unchanged from the message that caused this one.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    specversion: Annotated[
        Literal["1.0"],
        Field(description="CloudEvents specification version; always 1.0."),
    ]
    id: Annotated[
        str,
        Field(
            description="Unique id of this event, chosen by the producer (a UUID). source + id identify the event; a redelivery carries the same id.",
            max_length=128,
            min_length=1,
        ),
    ]
    source: Annotated[
        str,
        Field(
            description="The service that produced the event, as rocket/<service> (for example rocket/ingest-gate).",
            pattern="^rocket/[a-z][a-z0-9-]{0,62}$",
        ),
    ]
    type: Annotated[
        str,
        Field(
            description="Event type <domain>.<entity>.<verb>.v<N>; selects the schema of data and is copied to the SNS message attribute type used by subscription filter policies.",
            pattern="^[a-z][a-z0-9]*\\.[a-z][a-z0-9]*\\.[a-z][a-z0-9]*\\.v[1-9][0-9]*$",
        ),
    ]
    time: Annotated[
        AwareDatetime,
        Field(description="When the event happened (RFC 3339 with a time zone)."),
    ]
    subject: Annotated[
        str | None,
        Field(
            description="What the event is about within the source, for filtering and tracing without opening data (for example the transaction id or the object key).",
            max_length=1024,
            min_length=1,
        ),
    ] = None
    dataschema: Annotated[
        AnyUrl, Field(description="The $id of the JSON Schema that data conforms to.")
    ]
    datacontenttype: Annotated[
        Literal["application/json"],
        Field(description="Media type of data; always application/json."),
    ]
    data: Annotated[
        dict[str, Any],
        Field(
            description="The event payload, valid against the schema named in dataschema."
        ),
    ]
    correlationid: Annotated[
        str,
        Field(
            description="Id of the request this event belongs to, copied from the message that caused it so one request can be traced through every service.",
            pattern="^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$",
        ),
    ]
    traceparent: Annotated[
        str | None,
        Field(
            description="Distributed Tracing extension: the W3C Trace Context traceparent carried from the message that caused this one, when it had one.",
            pattern="^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
        ),
    ] = None
    tracestate: Annotated[
        str | None,
        Field(
            description="Distributed Tracing extension: the W3C Trace Context tracestate that goes with traceparent.",
            max_length=512,
        ),
    ] = None
