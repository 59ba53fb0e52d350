"""Put contract events on the shared topic and read them back off a queue.

Producers call :func:`publish`: the model is wrapped in a CloudEvent, validated against its
schema, and published with the SNS message attribute ``type`` that subscription filter policies
match on. Consumers call :func:`parse_record` on each SQS record: it accepts raw-delivered bodies
(the CloudEvent itself) and SNS-enveloped bodies (a Notification whose ``Message`` is the
CloudEvent), validates envelope and data against their schemas, and returns the typed envelope
and model. Anything that is not a valid contract message raises :class:`ContractViolation`, the
one exception type, carrying every error found.

Writers are strict and readers tolerant: ``publish`` writes Rocket's full envelope and refuses
any property its schema does not declare, while ``parse_record`` accepts any CloudEvents 1.0
producer (only ``specversion``, ``id``, ``source``, ``type`` and JSON ``data`` required; extension
attributes kept in ``ParsedMessage.extensions``) and leaves out (and lists in
``ParsedMessage.ignored``) data properties the consumer's copy of the schema does not declare,
so a consumer built on an older schema reads what producers of a newer, compatible version of
the same major send (see ``compat``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser.models import SnsNotificationModel, SqsRecordModel
from pydantic import BaseModel, RootModel, ValidationError

from rocket_contracts import edge, invariants, registry
from rocket_contracts.envelope import (
    CONTEXT_ATTRIBUTES,
    DATA_CONTENT_TYPE,
    SPEC_VERSION,
    CloudEvent,
    ReceivedCloudEvent,
    correlation_id_of,
)
from rocket_contracts.validation import errors as schema_errors
from rocket_contracts.validation import known_part

TYPE_ATTRIBUTE = "type"
"""SNS/SQS message attribute holding the event type; subscription filter policies match it."""

MAX_MESSAGE_BYTES = 256 * 1024
"""SNS refuses messages larger than this: no contract message is bigger, on publish or parse."""

MAX_BODY_BYTES = 1024 * 1024
"""Largest SQS body read at all: SQS's own limit, room for an SNS Notification (its escaping
and signature) around a CloudEvent of MAX_MESSAGE_BYTES."""

ModelT = TypeVar("ModelT", bound=BaseModel)


class ContractViolation(ValueError):  # noqa: N818 (the contract's name for it)
    """A message that is not a valid contract message; ``errors`` says every way it is not."""

    def __init__(self, summary: str, errors: Sequence[str]) -> None:
        self.summary = summary
        self.errors = list(errors)
        super().__init__(f"{summary}: {'; '.join(self.errors)}" if self.errors else summary)


class SnsPublishClient(Protocol):
    """The part of a boto3 SNS client that :func:`publish` uses."""

    def publish(
        self,
        *,
        TopicArn: str,  # noqa: N803 (boto3's parameter names)
        Message: str,  # noqa: N803
        MessageAttributes: Mapping[str, Any],  # noqa: N803
    ) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class ParsedMessage:
    """A validated bus message: the envelope, its typed payload, and the event type.

    ``ignored`` lists the JSON paths of data properties this consumer's schema does not declare
    (added by a newer producer within the same major version); they were left out, not failed.
    ``extensions`` holds every attribute beyond the CloudEvents context attributes and ``data``
    (``correlationid``, ``traceparent``, a producer's own), as received.
    """

    envelope: ReceivedCloudEvent
    data: BaseModel
    event_type: str
    ignored: tuple[str, ...] = ()
    extensions: Mapping[str, Any] = field(default_factory=dict)

    @property
    def correlation_id(self) -> str:
        """The ``correlationid`` extension, else the event's id (see ``correlation_id_of``)."""
        return correlation_id_of(self.envelope)

    @property
    def traceparent(self) -> str | None:
        """The W3C traceparent to carry onto the events this one causes, if it has one."""
        return self.envelope.traceparent

    def data_as(self, model: type[ModelT]) -> ModelT:
        """The payload as ``model``; ContractViolation if this message carries another type."""
        if isinstance(self.data, model):
            return self.data
        expected = registry.event_type_for(model)
        raise ContractViolation(
            "unexpected event type", [f"$.type: expected {expected!r}, got {self.event_type!r}"]
        )


def _drop_unset_optionals(value: object, dumped: object) -> None:
    # An optional field left at None is absent on the wire (schemas type such fields without
    # null); a required field that is None stays, as null, because its schema allows null.
    if isinstance(value, RootModel):
        _drop_unset_optionals(value.root, dumped)
    elif isinstance(value, BaseModel) and isinstance(dumped, dict):
        _drop_in_model(value, dumped)
    elif isinstance(value, list | tuple) and isinstance(dumped, list):
        for item, dumped_item in zip(value, dumped, strict=False):
            _drop_unset_optionals(item, dumped_item)
    elif isinstance(value, dict) and isinstance(dumped, dict):
        for item_key, item in value.items():
            if str(item_key) in dumped:
                _drop_unset_optionals(item, dumped[str(item_key)])


def _drop_in_model(model: BaseModel, dumped: dict[str, Any]) -> None:
    for name, info in type(model).model_fields.items():
        key = info.serialization_alias or info.alias or name
        if key not in dumped:
            continue
        child = getattr(model, name)
        if child is None and not info.is_required():
            del dumped[key]
        else:
            _drop_unset_optionals(child, dumped[key])


def payload(event_model: BaseModel) -> dict[str, Any]:
    """The JSON ``data`` of ``event_model`` as it goes on the wire."""
    dumped: dict[str, Any] = event_model.model_dump(mode="json", by_alias=True)
    _drop_unset_optionals(event_model, dumped)
    return dumped


def wrap(
    event_model: BaseModel,
    *,
    correlation_id: str,
    source: str,
    subject: str | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
    traceparent: str | None = None,
) -> CloudEvent:
    """The validated CloudEvent that carries ``event_model`` (what :func:`publish` sends).

    ``traceparent`` is the W3C trace context of the message that caused this one, carried on.
    """
    event_type = registry.event_type_for(event_model)
    data = payload(event_model)
    envelope: dict[str, Any] = {
        "specversion": SPEC_VERSION,
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": event_type,
        "time": (time or datetime.now(UTC)).isoformat(),
        "dataschema": registry.schema_id(event_type),
        "datacontenttype": DATA_CONTENT_TYPE,
        "data": data,
        "correlationid": correlation_id,
    }
    if subject is not None:
        envelope["subject"] = subject
    if traceparent is not None:
        envelope["traceparent"] = traceparent
    problems = schema_errors(registry.envelope_schema(), envelope)
    problems += schema_errors(registry.schema_for(event_type), data, at="$.data")
    if not problems:
        problems = invariants.errors(event_type, data)
    if problems:
        raise ContractViolation(f"refusing to publish an invalid {event_type}", problems)
    return CloudEvent.model_validate(envelope)


def to_json(event: CloudEvent) -> str:
    """The bus wire form of a CloudEvent (compact JSON, absent optional attributes omitted)."""
    return json.dumps(
        event.model_dump(mode="json", exclude_none=True), separators=(",", ":"), sort_keys=True
    )


def publish(
    topic_arn: str,
    event_model: BaseModel,
    *,
    correlation_id: str,
    sns_client: SnsPublishClient,
    source: str,
    subject: str | None = None,
    traceparent: str | None = None,
) -> CloudEvent:
    """Wrap, validate and publish ``event_model`` to ``topic_arn``; return the sent CloudEvent.

    Raises ContractViolation (nothing is sent) when the event does not match its schema or is
    too large for SNS; SNS errors (botocore ``ClientError``) propagate to the caller's adapter.
    """
    event = wrap(
        event_model,
        correlation_id=correlation_id,
        source=source,
        subject=subject,
        traceparent=traceparent,
    )
    message = to_json(event)
    size = len(message.encode("utf-8"))
    if size > MAX_MESSAGE_BYTES:
        raise ContractViolation(
            f"refusing to publish an oversized {event.type}",
            [f"$: message is {size} bytes; SNS accepts at most {MAX_MESSAGE_BYTES}"],
        )
    sns_client.publish(
        TopicArn=topic_arn,
        Message=message,
        MessageAttributes={TYPE_ATTRIBUTE: {"DataType": "String", "StringValue": event.type}},
    )
    return event


def _pydantic_errors(exc: ValidationError, at: str) -> list[str]:
    return [
        f"{at}{''.join(f'[{part}]' if isinstance(part, int) else f'.{part}' for part in e['loc'])}"
        f": {e['msg']}"
        for e in exc.errors()
    ]


def _record_model(sqs_record: Mapping[str, Any] | SQSRecord | SqsRecordModel) -> SqsRecordModel:
    if isinstance(sqs_record, SqsRecordModel):
        return sqs_record
    raw = sqs_record.raw_event if isinstance(sqs_record, SQSRecord) else sqs_record
    try:
        return SqsRecordModel.model_validate(raw)
    except ValidationError as exc:
        raise ContractViolation("not an SQS record", _pydantic_errors(exc, "record")) from exc


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _too_large(what: str, size: int, limit: int) -> ContractViolation:
    return ContractViolation(f"{what} is too large", [f"$: {size} bytes; at most {limit}"])


def _json_object(text: str, what: str, max_bytes: int) -> dict[str, Any]:
    # Measured before decoding, so an oversized body costs no parse.
    size = _utf8_size(text)
    if size > max_bytes:
        raise _too_large(what, size, max_bytes)
    try:
        loaded = edge.loads(text)
    except edge.UnsafeInputError as exc:
        raise ContractViolation(f"{what} is not acceptable JSON", [f"$: {exc.reason}"]) from exc
    except ValueError as exc:
        raise ContractViolation(f"{what} is not JSON", [f"$: {exc}"]) from exc
    if not isinstance(loaded, dict):
        raise ContractViolation(f"{what} is not a JSON object", [f"$: got {type(loaded).__name__}"])
    return loaded


def _is_sns_notification(payload: Mapping[str, Any]) -> bool:
    return payload.get("Type") == "Notification" and "TopicArn" in payload


def _unwrap_sns(payload: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    try:
        notification = SnsNotificationModel.model_validate(payload)
    except ValidationError as exc:
        errors = _pydantic_errors(exc, "$")
        raise ContractViolation("malformed SNS notification", errors) from exc
    if not isinstance(notification.Message, str):
        raise ContractViolation("malformed SNS notification", ["$.Message: not a string"])
    attributes = notification.MessageAttributes or {}
    type_attribute = attributes[TYPE_ATTRIBUTE].Value if TYPE_ATTRIBUTE in attributes else None
    message = _json_object(notification.Message, "SNS Message", MAX_MESSAGE_BYTES)
    return message, type_attribute


def parse_message(body: str, *, type_attribute: str | None = None) -> ParsedMessage:
    """Parse a message body (raw CloudEvent or SNS Notification around one).

    The CloudEvent may be at most MAX_MESSAGE_BYTES (what ``publish`` and SNS allow), the body
    around it MAX_BODY_BYTES; JSON with duplicate keys or nested deeper than
    ``edge.MAX_JSON_DEPTH`` is refused (``edge.loads``).
    """
    payload = _json_object(body, "message body", MAX_BODY_BYTES)
    if _is_sns_notification(payload):
        payload, type_attribute = _unwrap_sns(payload)
    elif (size := _utf8_size(body)) > MAX_MESSAGE_BYTES:
        raise _too_large("message body", size, MAX_MESSAGE_BYTES)
    return parse_envelope(payload, type_attribute=type_attribute)


def parse_envelope(
    payload: Mapping[str, Any], *, type_attribute: str | None = None
) -> ParsedMessage:
    """Validate a decoded CloudEvent and its data; return the typed message.

    Tolerant reader: the envelope is checked against what CloudEvents 1.0 allows from any
    producer (``received.v1.json``), extension attributes are kept in ``extensions``, and data
    properties that the type's schema (the copy this consumer was built with) does not declare
    are left out and listed in ``ignored``; everything declared is validated strictly.
    """
    envelope_payload = dict(payload)
    problems = schema_errors(registry.received_schema(), envelope_payload)
    if problems:
        raise ContractViolation("not a CloudEvent", problems)
    event_type: str = envelope_payload["type"]
    if event_type not in registry.event_types():
        raise ContractViolation(
            "unknown event type", [f"$.type: no contract schema for {event_type!r}"]
        )
    if type_attribute is not None and type_attribute != event_type:
        raise ContractViolation(
            "type attribute does not match the event",
            [f"$.type: is {event_type!r} but the message attribute type is {type_attribute!r}"],
        )
    expected_schema = registry.schema_id(event_type)
    dataschema = envelope_payload.get("dataschema")
    if dataschema is not None and dataschema != expected_schema:
        problems.append(f"$.dataschema: expected {expected_schema!r} for {event_type}")
    schema = registry.schema_for(event_type)
    known_data, ignored = known_part(schema, envelope_payload["data"], at="$.data")
    problems += schema_errors(schema, known_data, at="$.data")
    if not problems:
        # The rules between fields trust the types the schema just checked.
        problems = invariants.errors(event_type, known_data)
    if problems:
        raise ContractViolation(f"invalid {event_type}", problems)
    declared = ReceivedCloudEvent.model_fields
    try:
        envelope = ReceivedCloudEvent.model_validate(
            {
                **{k: v for k, v in envelope_payload.items() if k in declared},
                "data": known_data,
            }
        )
        data = registry.model_for(event_type).model_validate(known_data)
    except ValidationError as exc:
        raise ContractViolation(f"invalid {event_type}", _pydantic_errors(exc, "$")) from exc
    extensions = {
        name: value
        for name, value in envelope_payload.items()
        if name not in CONTEXT_ATTRIBUTES and name != "data"
    }
    return ParsedMessage(
        envelope=envelope,
        data=data,
        event_type=event_type,
        ignored=tuple(ignored),
        extensions=extensions,
    )


def parse_record(sqs_record: Mapping[str, Any] | SQSRecord | SqsRecordModel) -> ParsedMessage:
    """Parse one SQS record (a Lambda event record dict, a Powertools ``SQSRecord`` or model).

    Raw delivery puts the CloudEvent in the body and the SNS attribute ``type`` in the record's
    message attributes; without raw delivery the body is an SNS Notification around it. Either
    way the ``type`` attribute, when present, must name the envelope's type.
    """
    record = _record_model(sqs_record)
    if not isinstance(record.body, str):
        raise ContractViolation("not an SQS record", ["record.body: not a string"])
    attribute = record.messageAttributes.get(TYPE_ATTRIBUTE)
    type_attribute = attribute.stringValue if attribute is not None else None
    return parse_message(record.body, type_attribute=type_attribute)
