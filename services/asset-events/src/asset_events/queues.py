"""SQS record handlers: the upsert and drop producers, and the platform-assets consumer of the
shared topic. Each validates against the contract and raises to fail just its record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from rocket_contracts.bus import ContractViolation, ParsedMessage, parse_record

from asset_events import messages, platform_assets
from asset_events.decisor import Decisor
from asset_events.domain import (
    AssetEventsError,
    Decision,
    DropRequest,
    Outcome,
    UpsertRequest,
)
from asset_events.observability import logger, metrics
from asset_events.producers import DropProducer, UpsertProducer


def parse(record: SQSRecord | dict[str, Any]) -> tuple[SQSRecord, ParsedMessage]:
    sqs_record = record if isinstance(record, SQSRecord) else SQSRecord(record)
    try:
        parsed = parse_record(sqs_record)
    except ContractViolation as exc:
        logger.error(
            "invalid message",
            extra={
                "message_id": sqs_record.message_id,
                "summary": exc.summary,
                "errors": exc.errors,
            },
        )
        metrics.add_metric(name="InvalidMessages", unit=MetricUnit.Count, value=1)
        raise
    if parsed.ignored:
        logger.warning(
            "unknown properties ignored",
            extra={"message_id": sqs_record.message_id, "ignored": list(parsed.ignored)},
        )
    return sqs_record, parsed


def _applied(kind: str, outcome: Outcome, asset_id: str, correlation_id: str) -> Outcome:
    logger.info(
        "request handled",
        extra={
            "request": kind,
            "asset_id": asset_id,
            "outcome": outcome.value,
            "correlation_id": correlation_id,
        },
    )
    name = f"{kind.title()}{outcome.value.title().replace('_', '')}"
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    return outcome


def _failing(kind: str, asset_id: str, correlation_id: str, exc: AssetEventsError) -> None:
    logger.error(
        "request failed",
        extra={
            "request": kind,
            "asset_id": asset_id,
            "correlation_id": correlation_id,
            "error": repr(exc),
        },
    )
    metrics.add_metric(name=f"{kind.title()}Failures", unit=MetricUnit.Count, value=1)


RequestT = TypeVar("RequestT", UpsertRequest, DropRequest)


@dataclass(frozen=True)
class RequestConsumer(Generic[RequestT]):
    """A producer's record handler: the request read from its contract, then applied."""

    kind: str  # upsert | drop
    read: Callable[[ParsedMessage], RequestT]
    apply: Callable[[RequestT], Outcome]

    def __call__(self, record: SQSRecord | dict[str, Any]) -> Outcome:
        _, parsed = parse(record)
        try:
            request = self.read(parsed)
        except ContractViolation:
            metrics.add_metric(name="InvalidMessages", unit=MetricUnit.Count, value=1)
            raise
        try:
            outcome = self.apply(request)
        except AssetEventsError as exc:
            _failing(self.kind, request.asset_id, request.correlation_id, exc)
            raise
        return _applied(self.kind, outcome, request.asset_id, request.correlation_id)


def upsert_consumer(producer: UpsertProducer) -> RequestConsumer[UpsertRequest]:
    return RequestConsumer("upsert", messages.upsert_request, producer.apply)


def drop_consumer(producer: DropProducer) -> RequestConsumer[DropRequest]:
    return RequestConsumer("drop", messages.drop_request, producer.apply)


@dataclass(frozen=True)
class PlatformConsumer:
    """etl-layers and compactor announcements: the lake's tables on the decisor's path."""

    decisor: Decisor

    def __call__(self, record: SQSRecord | dict[str, Any]) -> list[Decision]:
        sqs_record, parsed = parse(record)
        try:
            return self._decide(sqs_record, parsed)
        except Exception as exc:
            # The batch processor keeps the failure for the response but logs nothing: a
            # record retried until its DLQ must say why each time.
            logger.error(
                "platform announcement failed",
                extra={
                    "message_id": sqs_record.message_id,
                    "correlation_id": parsed.correlation_id,
                    "event_type": parsed.event_type,
                    "error": repr(exc),
                },
            )
            raise

    def _decide(self, sqs_record: SQSRecord, parsed: ParsedMessage) -> list[Decision]:
        translate = platform_assets.TRANSLATORS.get(parsed.event_type)
        if translate is None:
            metrics.add_metric(name="InvalidMessages", unit=MetricUnit.Count, value=1)
            raise ContractViolation(
                "not a platform announcement", [f"$.type: {parsed.event_type} is not consumed"]
            )
        observations = translate(parsed)
        decided = self.decisor.observe(observations) if observations else []
        if any(d.failed for d in decided):
            raise AssetEventsError("upsert request not queued")
        logger.info(
            "platform assets decided",
            extra={
                "message_id": sqs_record.message_id,
                "correlation_id": parsed.correlation_id,
                "event_type": parsed.event_type,
                "assets": {d.observation.asset_id: d.decision.value for d in decided},
            },
        )
        return [d.decision for d in decided]
