"""What the logic needs from the outside world; adapters/ implements them over AWS and HTTP."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from rocket_contracts.models.gapscraper.download_requested_v1 import (
    GapscraperDownloadRequestedV1,
)
from rocket_contracts.models.gapscraper.series_updated_v1 import GapscraperSeriesUpdatedV1

from gap_scraper.domain import SeriesItem, SgsRow


@dataclass(frozen=True)
class PresentDates:
    """Sort keys of one series read by one paginated Query, and how many pages it took."""

    dates: frozenset[str]
    pages: int


@dataclass(frozen=True)
class WriteReport:
    items: int
    calls: int  # BatchWriteItem calls, re-sends of unprocessed items included
    resent: int  # items that came back unprocessed at least once


class SeriesSource(Protocol):
    def fetch(self, code: int, start: date, end: date) -> list[SgsRow]:
        """Rows of series `code` for the range; raises the domain's SourceErrors."""
        ...


class SeriesTable(Protocol):
    def present_dates(self, info_type: str, since: date) -> PresentDates: ...

    def write(self, items: Sequence[SeriesItem]) -> WriteReport:
        """Put every item (BatchWriteItem, 25 at a time) or raise; puts are idempotent."""
        ...


class RequestQueue(Protocol):
    def send_batch(
        self, requests: Sequence[GapscraperDownloadRequestedV1], *, correlation_id: str
    ) -> None:
        """Send up to 10 requests in one call, or raise QueueError."""
        ...


class Deferrer(Protocol):
    def defer(self, receipt_handle: str, seconds: int) -> None:
        """Make a failed record visible again after `seconds` instead of the queue default."""
        ...


class Quarantine(Protocol):
    def quarantine(self, body: str, *, reason: str, detail: str) -> None:
        """Keep a message that can never succeed in the DLQ, with why."""
        ...


class UpdatePublisher(Protocol):
    def series_updated(self, event: GapscraperSeriesUpdatedV1, *, correlation_id: str) -> None: ...
