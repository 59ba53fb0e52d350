"""The orchestrator: one Query per series, its gaps as streams, one download request each."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from rocket_contracts.models.gapscraper.download_requested_v1 import (
    GapscraperDownloadRequestedV1,
)

from gap_scraper.business_calendar import BRASILIA, EXPECTED, ExpectedDates
from gap_scraper.catalogue import Catalogue, Series
from gap_scraper.domain import StoreError
from gap_scraper.gaps import first_expected_day, plan
from gap_scraper.ports import RequestQueue, SeriesTable

BATCH = 10
"""SendMessageBatch takes at most ten messages."""


@dataclass(frozen=True)
class SeriesPlan:
    info_type: str
    present: int
    query_pages: int
    missing: int
    requests: int


@dataclass
class RunSummary:
    run_id: str
    today: date
    series: list[SeriesPlan] = field(default_factory=list)
    batches: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # info_type -> why it was not read

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.series)


class SeriesUnreadableError(StoreError):
    """Some series could not be read; the others' requests were sent (`summary`)."""

    def __init__(self, summary: RunSummary) -> None:
        super().__init__(f"series not read: {', '.join(sorted(summary.failed))}")
        self.summary = summary


def _batches(
    items: Sequence[GapscraperDownloadRequestedV1],
) -> Iterator[Sequence[GapscraperDownloadRequestedV1]]:
    for first in range(0, len(items), BATCH):
        yield items[first : first + BATCH]


@dataclass(frozen=True)
class Orchestrator:
    catalogue: Catalogue
    table: SeriesTable
    queue: RequestQueue
    earliest: date | None = None
    expected: ExpectedDates = EXPECTED

    def run(self, *, run_id: str, now: datetime) -> RunSummary:
        """Find every series' gaps and send their download requests (run_id is the correlation
        id of everything they cause). Re-running before the worker caught up only asks for the
        same days again, which the worker writes as the same items."""
        today = now.astimezone(BRASILIA).date()
        summary = RunSummary(run_id=run_id, today=today)
        pending: list[GapscraperDownloadRequestedV1] = []
        for series in self.catalogue.series:
            try:
                requests, planned = self._plan(series, run_id=run_id, now=now, today=today)
            except StoreError as exc:
                # One unreadable series must not keep the others' gaps open; the run still
                # fails at the end, so the errors alarm says so.
                summary.failed[series.info_type] = str(exc)
                continue
            summary.series.append(planned)
            pending.extend(requests)
        for batch in _batches(pending):
            self.queue.send_batch(batch, correlation_id=run_id)
            summary.batches += 1
        if summary.failed:
            raise SeriesUnreadableError(summary)
        return summary

    def _plan(
        self, series: Series, *, run_id: str, now: datetime, today: date
    ) -> tuple[list[GapscraperDownloadRequestedV1], SeriesPlan]:
        since = first_expected_day(series, self.earliest)
        present = self.table.present_dates(series.info_type, since)
        streams = plan(
            series, present.dates, today=today, earliest=self.earliest, expected=self.expected
        )
        requests = [
            GapscraperDownloadRequestedV1(
                run_id=run_id,
                series_key=series.info_type,
                sgs_code=series.sgs_code,
                frequency=series.periodicity.frequency,
                start_date=stream.start,
                end_date=stream.end,
                missing_days=stream.missing,
                requested_at=now,
            )
            for stream in streams
        ]
        return requests, SeriesPlan(
            info_type=series.info_type,
            present=len(present.dates),
            query_pages=present.pages,
            missing=sum(s.missing for s in streams),
            requests=len(requests),
        )
