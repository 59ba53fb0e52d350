"""One work-queue record in, one stream downloaded and written, with logs and metrics around."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from rocket_contracts.bus import ContractViolation, parse_record
from rocket_contracts.models.gapscraper.download_requested_v1 import (
    GapscraperDownloadRequestedV1,
)

from gap_scraper.domain import GapScraperError, PermanentSourceError
from gap_scraper.observability import logger, metrics
from gap_scraper.ports import Deferrer, Quarantine
from gap_scraper.worker import Outcome, Worker

MAX_DELAY_SECONDS = 900


def retry_delay(base_seconds: int, receive_count: int) -> int:
    """Seconds before a transiently failed request is delivered again: doubling from
    `base_seconds` (30, 60, 120, 240 s by default), so a struggling API gets room, instead of
    the queue's visibility timeout (sized for the slowest download, an hour)."""
    return int(min(MAX_DELAY_SECONDS, base_seconds * 2 ** max(0, receive_count - 1)))


@dataclass(frozen=True)
class Consumer:
    """The worker function's record handler: `Consumer(worker, quarantine)(record)`.

    A message that breaks the contract, and a request the API will never answer (unknown
    series, refused window), go to the DLQ at once with their reason and the record succeeds;
    anything transient raises, so only that record fails and SQS delivers it again.
    """

    worker: Worker
    quarantine: Quarantine
    deferrer: Deferrer | None = None
    retry_base_seconds: int = 30

    def __call__(self, record: SQSRecord | dict[str, Any]) -> Outcome | None:
        sqs_record = record if isinstance(record, SQSRecord) else SQSRecord(record)
        try:
            parsed = parse_record(sqs_record)
            request = parsed.data_as(GapscraperDownloadRequestedV1)
        except ContractViolation as exc:
            logger.error(
                "invalid message",
                extra={"message_id": sqs_record.message_id, "errors": exc.errors},
            )
            metrics.add_metric(name="InvalidMessages", unit=MetricUnit.Count, value=1)
            self.quarantine.quarantine(
                sqs_record.body, reason="contract_violation", detail="; ".join(exc.errors)
            )
            return None
        keys = {
            "correlation_id": parsed.correlation_id,
            "series_key": request.series_key,
            "start_date": request.start_date.isoformat(),
            "end_date": request.end_date.isoformat(),
        }
        try:
            outcome = self.worker.handle(request, correlation_id=parsed.correlation_id)
        except PermanentSourceError as exc:
            logger.error("request quarantined", extra={**keys, "reason": exc.reason})
            metrics.add_metric(name="QuarantinedRequests", unit=MetricUnit.Count, value=1)
            self.quarantine.quarantine(sqs_record.body, reason=exc.reason, detail=str(exc))
            return None
        except GapScraperError as exc:
            count = int(sqs_record.attributes.approximate_receive_count or 1)
            delay = retry_delay(self.retry_base_seconds, count)
            logger.warning(
                "request failed",
                extra={**keys, "error": type(exc).__name__, "detail": str(exc), "retry_in": delay},
            )
            metrics.add_metric(name="FailedRequests", unit=MetricUnit.Count, value=1)
            if self.deferrer is not None:
                self.deferrer.defer(sqs_record.receipt_handle, delay)
            raise
        self._report(outcome, keys, sqs_record.body)
        return outcome

    def _report(self, outcome: Outcome, keys: dict[str, str], body: str) -> None:
        event = outcome.event
        logger.info(
            "series updated",
            extra={
                **keys,
                "points_written": event.points_written,
                "days_without_value": event.days_without_value,
                "days_marked_no_data": event.days_marked_no_data,
                "values_quarantined": event.values_quarantined,
                "source_calls": outcome.source_calls,
                "batch_write_calls": outcome.write.calls,
                "items_resent": outcome.write.resent,
                "rows_outside_range": outcome.outside_range,
            },
        )
        metrics.add_metric(name="PointsWritten", unit=MetricUnit.Count, value=event.points_written)
        metrics.add_metric(name="SourceCalls", unit=MetricUnit.Count, value=outcome.source_calls)
        metrics.add_metric(
            name="BatchWriteItemCalls", unit=MetricUnit.Count, value=outcome.write.calls
        )
        metrics.add_metric(name="ItemsResent", unit=MetricUnit.Count, value=outcome.write.resent)
        metrics.add_metric(
            name="NoDataMarked", unit=MetricUnit.Count, value=event.days_marked_no_data or 0
        )
        metrics.add_metric(
            name="RowsQuarantined", unit=MetricUnit.Count, value=event.values_quarantined or 0
        )
        if outcome.undated:
            # Rows without a readable date have no place in the table: keep them for a person.
            rows = [{"row": raw, "reason": reason} for raw, reason in outcome.undated]
            logger.error("rows without a readable date", extra={**keys, "rows": rows})
            self.quarantine.quarantine(
                json.dumps({"request": json.loads(body), "rows": rows}),
                reason="rows_unreadable",
                detail=f"{len(rows)} rows without a readable date",
            )
