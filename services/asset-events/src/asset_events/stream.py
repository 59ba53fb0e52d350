"""One Kinesis batch in: agent events decoded and checked, running reports decided together
(batched reads and writes), completed runs after them; bad records quarantined, never retried."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import (
    KinesisStreamRecord,
)
from rocket_contracts.bus import ContractViolation

from asset_events import agent_events
from asset_events.decisor import Decisor
from asset_events.domain import (
    Decision,
    DropVerdict,
    Observation,
    Quarantined,
    RunCompleted,
    StoreUnavailableError,
)
from asset_events.hashing import DEFAULT_VOLATILE_PROPERTIES
from asset_events.observability import logger, metrics
from asset_events.ports import ContentStore

_DECISION_METRICS = {
    Decision.NEW: "AssetsNew",
    Decision.CHANGED: "AssetsChanged",
    Decision.UNCHANGED: "AssetsUnchanged",
    Decision.PENDING: "AssetsPending",
    Decision.STALE: "ReportsStale",
}


@dataclass
class BatchResult:
    """Sequence numbers to report as failed (Lambda retries from the lowest)."""

    failed: list[str] = field(default_factory=list)
    decisions: dict[Decision, int] = field(default_factory=dict)
    verdicts: list[DropVerdict] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StreamConsumer:
    decisor: Decisor
    content: ContentStore
    volatile: frozenset[str] = DEFAULT_VOLATILE_PROPERTIES

    def handle(self, records: Sequence[KinesisStreamRecord]) -> BatchResult:
        """Raises StoreUnavailableError when the running reports cannot be decided at all (the
        batch is retried, or bisected, by the event source mapping)."""
        result = BatchResult()
        observations: list[tuple[str, Observation]] = []
        completions: list[tuple[str, RunCompleted]] = []
        for record in records:
            event = self._parse(record, result)
            if isinstance(event, Observation):
                observations.append((record.kinesis.sequence_number, event))
            elif isinstance(event, RunCompleted):
                completions.append((record.kinesis.sequence_number, event))
        if observations:
            decided = self.decisor.observe([o for _, o in observations])
            for (sequence_number, _), outcome in zip(observations, decided, strict=True):
                result.decisions[outcome.decision] = result.decisions.get(outcome.decision, 0) + 1
                if outcome.failed:
                    result.failed.append(sequence_number)
            for decision, count in result.decisions.items():
                metrics.add_metric(
                    name=_DECISION_METRICS[decision], unit=MetricUnit.Count, value=count
                )
        for sequence_number, run in completions:
            try:
                result.verdicts.append(self._complete(run))
            except StoreUnavailableError as exc:
                logger.error(
                    "completed run not decided",
                    extra={"agent": run.agent, "run_id": run.run_id, "error": str(exc)},
                )
                result.failed.append(sequence_number)
        return result

    def _parse(
        self, record: KinesisStreamRecord, result: BatchResult
    ) -> Observation | RunCompleted | None:
        try:
            data = base64.b64decode(record.kinesis.data, validate=True)
        except (binascii.Error, ValueError):
            data = record.kinesis.data.encode("utf-8", "replace")
            self._quarantine(record, data, "not base64", (), result)
            return None
        try:
            return agent_events.parse(data, volatile=self.volatile)
        except ContractViolation as exc:
            self._quarantine(record, data, exc.summary, tuple(exc.errors), result)
            return None

    def _quarantine(
        self,
        record: KinesisStreamRecord,
        data: bytes,
        reason: str,
        errors: tuple[str, ...],
        result: BatchResult,
    ) -> None:
        shard = record.event_id.split(":", 1)[0]
        key = f"stream/{shard}/{record.kinesis.sequence_number}"
        uri = self.content.quarantine(
            Quarantined(
                key=key,
                reason=reason,
                errors=errors,
                body=data,
                detail={
                    "partition_key": record.kinesis.partition_key,
                    "sequence_number": record.kinesis.sequence_number,
                    "event_source_arn": record.event_source_arn,
                },
            )
        )
        logger.error(
            "invalid record quarantined",
            extra={
                "sequence_number": record.kinesis.sequence_number,
                "partition_key": record.kinesis.partition_key,
                "reason": reason,
                "errors": list(errors),
                "quarantined_at": uri,
            },
        )
        metrics.add_metric(name="InvalidRecords", unit=MetricUnit.Count, value=1)
        result.quarantined.append(uri)

    def _complete(self, run: RunCompleted) -> DropVerdict:
        verdict = self.decisor.complete(run)
        keys = {
            "correlation_id": run.correlation_id,
            "agent": run.agent,
            "run_id": run.run_id,
            "active": verdict.active,
            "seen_in_run": verdict.seen_in_run,
            "tables_reported": run.tables_reported,
            "tables_failed": run.tables_failed,
            "not_seen": len(verdict.candidates),
        }
        if verdict.withheld is not None:
            # For a human: the catalogue keeps these assets until a later good run.
            document = {
                **keys,
                "reason": verdict.withheld.value,
                "not_seen": list(verdict.candidates),
            }
            uri = self.content.keep_withheld(
                run.agent, run.run_id, json.dumps(document, indent=2).encode("utf-8")
            )
            logger.warning(
                "drops withheld",
                extra={
                    **keys,
                    "reason": verdict.withheld.value,
                    "not_seen_sample": list(verdict.candidates[:20]),
                    "decision_at": uri,
                },
            )
            metrics.add_metric(name="DropsWithheld", unit=MetricUnit.Count, value=1)
            return verdict
        logger.info("run completed", extra={**keys, "drops_requested": len(verdict.requests)})
        metrics.add_metric(
            name="DropsRequested", unit=MetricUnit.Count, value=len(verdict.requests)
        )
        return verdict
