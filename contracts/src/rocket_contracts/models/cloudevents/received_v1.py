# GENERATED from contracts/schemas by `make models` (datamodel-code-generator). Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AnyUrl, AwareDatetime, BaseModel, ConfigDict, Field


class ReceivedCloudEvent(BaseModel):
    """
    A CloudEvents 1.0 structured-mode JSON event as any producer may send it: what Rocket's consumers accept at the edge. Only what the CloudEvents specification requires is required (specversion, id, source, type) plus a JSON object in data; every optional context attribute and any extension attribute may be present. Rocket's own producers write the stricter envelope.v1.json, which every instance of it satisfies.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    specversion: Annotated[
        Literal["1.0"], Field(description="CloudEvents specification version; 1.0.")
    ]
    id: Annotated[
        str,
        Field(
            description="Id of the event, unique within its source; a redelivery carries the same id. Serves as the correlation id when the event carries no correlationid.",
            min_length=1,
        ),
    ]
    source: Annotated[
        str,
        Field(
            description="The context in which the event happened, any non-empty URI-reference (rocket/ingest-gate, https://airflow.example.com/dags/daily, /cron/nightly).",
            min_length=1,
        ),
    ]
    type: Annotated[
        str,
        Field(
            description="Event type; it must name a Rocket contract (<domain>.<entity>.<verb>.v<N>) for a consumer to act on it.",
            min_length=1,
        ),
    ]
    time: Annotated[
        AwareDatetime | None,
        Field(
            description="When the event happened (RFC 3339), when the producer says."
        ),
    ] = None
    subject: Annotated[
        str | None,
        Field(
            description="What the event is about within the source, when the producer says.",
            min_length=1,
        ),
    ] = None
    dataschema: Annotated[
        AnyUrl | None,
        Field(
            description="The schema data conforms to, when the producer says; when present it must be the $id of the type's contract schema."
        ),
    ] = None
    datacontenttype: Annotated[
        str | None,
        Field(
            description="Media type of data; a JSON media type when present (absent means JSON in the structured JSON format).",
            pattern="^application/([A-Za-z0-9.+-]+\\+)?json(\\s*;.*)?$",
        ),
    ] = None
    data: Annotated[
        dict[str, Any],
        Field(
            description="The event payload, a JSON object valid against the type's contract schema."
        ),
    ]
    correlationid: Annotated[
        str | None,
        Field(
            description="Rocket's correlation extension: the id of the request this event belongs to. When absent, the event's id is the correlation id.",
            pattern="^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$",
        ),
    ] = None
    traceparent: Annotated[
        str | None,
        Field(
            description="Distributed Tracing extension: the W3C Trace Context traceparent of the operation that produced the event; carried onto the events this one causes.",
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
