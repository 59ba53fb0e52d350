"""In-memory fakes of the service's ports, recording what they were asked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from gap_scraper.domain import ItemStatus, SeriesItem, SgsRow
from gap_scraper.ports import PresentDates, WriteReport
from rocket_contracts.models.gapscraper.download_requested_v1 import (
    GapscraperDownloadRequestedV1,
)
from rocket_contracts.models.gapscraper.series_updated_v1 import GapscraperSeriesUpdatedV1


@dataclass
class FakeTable:
    items: dict[tuple[str, str], SeriesItem] = field(default_factory=dict)
    queries: list[tuple[str, date]] = field(default_factory=list)
    writes: list[list[SeriesItem]] = field(default_factory=list)
    fail_after: int | None = None  # write only this many items, then raise (a crash mid-way)

    def present_dates(self, info_type: str, since: date) -> PresentDates:
        self.queries.append((info_type, since))
        dates = frozenset(d for pk, d in self.items if pk == info_type and d >= since.isoformat())
        return PresentDates(dates, 1)

    def write(self, items: Sequence[SeriesItem]) -> WriteReport:
        self.writes.append(list(items))
        for count, item in enumerate(items):
            if self.fail_after is not None and count >= self.fail_after:
                raise RuntimeError("crashed mid-way")
            self.items[(item.info_type, item.day.isoformat())] = item
        return WriteReport(items=len(items), calls=-(-len(items) // 25), resent=0)

    def seed(self, info_type: str, days: Sequence[str]) -> None:
        for day in days:
            self.items[(info_type, day)] = SeriesItem(
                info_type, date.fromisoformat(day), ItemStatus.VALUE
            )


@dataclass
class FakeQueue:
    batches: list[list[GapscraperDownloadRequestedV1]] = field(default_factory=list)

    def send_batch(
        self, requests: Sequence[GapscraperDownloadRequestedV1], *, correlation_id: str
    ) -> None:
        assert len(requests) <= 10
        self.batches.append(list(requests))

    @property
    def requests(self) -> list[GapscraperDownloadRequestedV1]:
        return [r for batch in self.batches for r in batch]


@dataclass
class FakeQuarantine:
    messages: list[tuple[str, str, str]] = field(default_factory=list)

    def quarantine(self, body: str, *, reason: str, detail: str) -> None:
        self.messages.append((body, reason, detail))


@dataclass
class FakePublisher:
    events: list[tuple[GapscraperSeriesUpdatedV1, str]] = field(default_factory=list)

    def series_updated(self, event: GapscraperSeriesUpdatedV1, *, correlation_id: str) -> None:
        self.events.append((event, correlation_id))


Answer = Callable[[int, date, date], list[SgsRow]]


@dataclass
class FakeSource:
    """Answers with `answer(code, start, end)`; an exception in `errors` is raised instead, once
    per call, in order."""

    answer: Answer
    errors: list[Exception] = field(default_factory=list)
    calls: list[tuple[int, date, date]] = field(default_factory=list)

    def fetch(self, code: int, start: date, end: date) -> list[SgsRow]:
        self.calls.append((code, start, end))
        if self.errors:
            raise self.errors.pop(0)
        return self.answer(code, start, end)


@dataclass
class FakeLambdaContext:
    function_name: str = "rocket-test-gap-scraper-worker"
    function_version: str = "$LATEST"
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:rocket-test-gap-scraper-worker"
    )
    memory_limit_in_mb: int = 512
    aws_request_id: str = "0f4f0c1e-4d8a-4f0e-9b4e-1d2c3b4a5f6e"
    log_group_name: str = "/aws/lambda/rocket-test-gap-scraper-worker"
    log_stream_name: str = "2026/12/02/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


@dataclass
class FakeDeferrer:
    deferred: list[tuple[str, int]] = field(default_factory=list)

    def defer(self, receipt_handle: str, seconds: int) -> None:
        self.deferred.append((receipt_handle, seconds))
