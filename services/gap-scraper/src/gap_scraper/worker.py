"""The worker: download one stream, write its values and markers, announce the update."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from rocket_contracts.models.gapscraper.download_requested_v1 import (
    GapscraperDownloadRequestedV1,
)
from rocket_contracts.models.gapscraper.series_updated_v1 import GapscraperSeriesUpdatedV1

from gap_scraper.business_calendar import BRASILIA, EXPECTED, ExpectedDates
from gap_scraper.catalogue import Catalogue, Periodicity
from gap_scraper.domain import (
    ItemStatus,
    PermanentSourceError,
    SeriesItem,
    SgsRow,
    TransientSourceError,
    WindowTooLargeError,
)
from gap_scraper.parsing import read_answer
from gap_scraper.ports import SeriesSource, SeriesTable, UpdatePublisher, WriteReport

MAX_SPLITS = 6
"""A refused window is halved at most this often (ten years -> under two months)."""
SPLIT_TIMEOUTS_OVER_DAYS = 366
"""A range that timed out is halved only when longer than a year."""


class WindowRefusedError(PermanentSourceError):
    reason = "window_refused"


@dataclass(frozen=True)
class Outcome:
    event: GapscraperSeriesUpdatedV1
    write: WriteReport
    source_calls: int
    outside_range: int
    undated: tuple[tuple[str, str], ...]  # (raw row, reason) of rows without a readable date


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Worker:
    catalogue: Catalogue
    source: SeriesSource
    table: SeriesTable
    publisher: UpdatePublisher
    clock: Callable[[], datetime] = _utc_now
    expected: ExpectedDates = EXPECTED

    def handle(self, request: GapscraperDownloadRequestedV1, *, correlation_id: str) -> Outcome:
        calls: list[int] = []
        rows = self._fetch(request.sgs_code, request.start_date, request.end_date, calls)
        answer = read_answer(request.series_key, rows, request.start_date, request.end_date)
        periodicity = (
            Periodicity.MONTHLY if request.frequency == "monthly" else Periodicity.BUSINESS_DAILY
        )
        expected = self.expected.between(request.start_date, request.end_date, periodicity)
        answered = {d.isoformat() for d in (*answer.values, *answer.quarantined)}
        without_value = [date.fromisoformat(d) for d in expected if d not in answered]
        cutoff = self._marker_cutoff(request.series_key)
        markers = [
            SeriesItem(request.series_key, day, ItemStatus.NO_DATA)
            for day in without_value
            if cutoff is not None and day <= cutoff
        ]
        items = sorted(
            [*answer.values.values(), *answer.quarantined.values(), *markers],
            key=lambda item: item.day,
        )
        report = self.table.write(items)
        written = sorted(answer.values)
        event = GapscraperSeriesUpdatedV1(
            run_id=request.run_id,
            series_key=request.series_key,
            sgs_code=request.sgs_code,
            start_date=request.start_date,
            end_date=request.end_date,
            points_written=len(written),
            first_date=written[0] if written else None,
            last_date=written[-1] if written else None,
            days_without_value=len(without_value),
            days_marked_no_data=len(markers),
            values_quarantined=len(answer.quarantined) + len(answer.undated),
            updated_at=self.clock(),
        )
        self.publisher.series_updated(event, correlation_id=correlation_id)
        return Outcome(
            event=event,
            write=report,
            source_calls=len(calls),
            outside_range=answer.outside_range,
            undated=tuple(answer.undated),
        )

    def _marker_cutoff(self, info_type: str) -> date | None:
        """Days up to this one that still have no value are recorded as having none. A series
        no longer in the catalogue has no known publication lag, so it gets no markers."""
        try:
            series = self.catalogue.get(info_type)
        except KeyError:
            return None
        today = self.clock().astimezone(BRASILIA).date()
        return today - timedelta(days=series.no_data_after_days)

    def _fetch(
        self, code: int, start: date, end: date, calls: list[int], depth: int = 0
    ) -> list[SgsRow]:
        calls.append(1)
        try:
            return self.source.fetch(code, start, end)
        except WindowTooLargeError as exc:
            if start == end or depth >= MAX_SPLITS:
                raise WindowRefusedError(
                    f"the API refused {start}..{end} as too long after {depth} splits"
                ) from exc
        except TransientSourceError as exc:
            # A long window that keeps timing out is answered in halves; a short one that
            # times out is the API's trouble, and the record comes back later.
            if not exc.timed_out or (end - start).days < SPLIT_TIMEOUTS_OVER_DAYS:
                raise
            if depth >= MAX_SPLITS:
                raise
        middle = start + (end - start) // 2
        first = self._fetch(code, start, middle, calls, depth + 1)
        return first + self._fetch(code, middle + timedelta(days=1), end, calls, depth + 1)
