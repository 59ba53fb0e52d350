"""The service's value types and errors, shared by the logic and the adapters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple


class GapScraperError(Exception):
    """Base of the errors this service raises on purpose."""


class CatalogueError(GapScraperError):
    """The series catalogue file is missing or malformed."""


class SourceError(GapScraperError):
    """The SGS API did not give a usable answer."""


class TransientSourceError(SourceError):
    """Worth asking again: a timeout, a 5xx, a throttle, an error page instead of JSON."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, timed_out: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.timed_out = timed_out


class WindowTooLargeError(SourceError):
    """The API refused the range as longer than it serves in one call (406/400)."""


class PermanentSourceError(SourceError):
    """An answer that will not change by asking again; `reason` is a stable code for the DLQ."""

    reason = "source_refused"


class UnknownSeriesError(PermanentSourceError):
    """HTTP 404: the SGS has no series with that code."""

    reason = "unknown_series"


class StoreError(GapScraperError):
    """The series table could not be read or written (after the SDK's retries)."""


class WriteIncompleteError(StoreError):
    """BatchWriteItem still returned unprocessed items after every re-send."""


class QueueError(GapScraperError):
    """A message could not be sent to the work queue or the dead-letter queue."""


class PublishFailedError(GapScraperError):
    """The series.updated event could not be published to the shared topic."""


@dataclass(frozen=True)
class SgsRow:
    """One row of an SGS answer, exactly as the API sent it (strings, nothing interpreted)."""

    data: object
    valor: object


class ItemStatus(StrEnum):
    VALUE = "VALUE"
    NO_DATA = "NO_DATA"
    QUARANTINED = "QUARANTINED"


@dataclass(frozen=True)
class SeriesItem:
    """One item of the series table: a value, a no-data marker or a quarantined row.

    Only fields that the source determines are stored, so writing the same day again with the
    same answer puts an identical item: a redelivered request changes nothing.
    """

    info_type: str
    day: date
    status: ItemStatus
    value: Decimal | None = None
    value_text: str | None = None  # the decimal as the source wrote it, stored as the number
    reason: str | None = None
    raw: str | None = None


class Stream(NamedTuple):
    """A contiguous run of missing expected dates: one API call from `start` to `end`.

    A tuple rather than a dataclass: a backfill makes tens of thousands of them."""

    start: date
    end: date
    missing: int
