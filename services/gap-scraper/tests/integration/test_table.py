"""The DynamoDB adapter on moto: one paginated Query per series, writes that survive
UnprocessedItems, and puts that change nothing when repeated."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from gap_scraper.adapters.table import DynamoSeriesTable
from gap_scraper.domain import ItemStatus, SeriesItem, WriteIncompleteError
from gap_scraper_aws import TABLE, Aws


def values(info_type: str, start: date, days: int) -> list[SeriesItem]:
    return [
        SeriesItem(
            info_type,
            start + timedelta(days=n),
            ItemStatus.VALUE,
            value=Decimal(f"5.{n:04d}"),
            value_text=f"5.{n:04d}",
        )
        for n in range(days)
    ]


class UnprocessedHalf:
    """A DynamoDB client whose BatchWriteItem writes only the first half of each batch for its
    first `times` calls and returns the rest as UnprocessedItems, as DynamoDB does when a
    partition is hot; moto alone never returns any."""

    def __init__(self, client: Any, times: int) -> None:
        self._client = client
        self.left = times

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_write_item(self, RequestItems: dict[str, list[Any]]) -> dict[str, Any]:  # noqa: N803
        if self.left <= 0:
            return dict(self._client.batch_write_item(RequestItems=RequestItems))
        self.left -= 1
        ((table, requests),) = RequestItems.items()
        keep, back = requests[: len(requests) // 2], requests[len(requests) // 2 :]
        if keep:
            self._client.batch_write_item(RequestItems={table: keep})
        return {"UnprocessedItems": {table: back}}


def test_present_dates_follow_every_page_of_one_query(aws: Aws) -> None:
    table = DynamoSeriesTable(TABLE, client=aws.dynamodb, page_size=100)
    table.write(values("CURRENCY#USD", date(2020, 1, 1), 1050))
    table.write(values("CURRENCY#EUR", date(2020, 1, 1), 10))
    found = table.present_dates("CURRENCY#USD", date(2020, 1, 1))
    assert len(found.dates) == 1050
    assert found.pages == 11
    assert "2020-01-01" in found.dates
    assert table.present_dates("CURRENCY#USD", date(2022, 11, 10)).dates == {
        (date(2022, 11, 10) + timedelta(days=n)).isoformat() for n in range(6)
    }


def test_present_dates_read_only_the_sort_key(aws: Aws) -> None:
    seen: list[dict[str, Any]] = []
    aws.dynamodb.meta.events.register(
        "provide-client-params.dynamodb.Query", lambda params, **_: seen.append(params)
    )
    DynamoSeriesTable(TABLE, client=aws.dynamodb).present_dates("CURRENCY#USD", date(2020, 1, 1))
    assert seen[0]["ProjectionExpression"] == "#sk"
    assert seen[0]["ExpressionAttributeNames"]["#sk"] == "date"


def test_items_are_written_25_at_a_time_with_exact_numbers(aws: Aws) -> None:
    table = DynamoSeriesTable(TABLE, client=aws.dynamodb)
    report = table.write(values("CURRENCY#USD", date(2025, 1, 1), 60))
    assert (report.items, report.calls, report.resent) == (60, 3, 0)
    assert aws.batch_writes == [25, 25, 10]
    item = aws.items("CURRENCY#USD")["2025-01-03"]
    assert item["value"] == {"N": "5.0002"}
    assert item["status"] == {"S": "VALUE"}


def test_unprocessed_items_are_resent_until_none_remain(aws: Aws) -> None:
    client = UnprocessedHalf(aws.dynamodb, times=3)
    sleeps: list[float] = []
    table = DynamoSeriesTable(TABLE, client=client, sleep=sleeps.append)  # type: ignore[arg-type]
    report = table.write(values("CURRENCY#USD", date(2025, 1, 1), 25))
    # 25 -> 13 back -> 7 back -> 4 back -> written: four calls for the chunk, one backoff each.
    assert (report.calls, report.resent) == (4, 13 + 7 + 4)
    assert len(sleeps) == 3
    assert len(aws.items("CURRENCY#USD")) == 25


def test_items_still_unprocessed_after_every_round_fail_the_write(aws: Aws) -> None:
    client = UnprocessedHalf(aws.dynamodb, times=100)
    table = DynamoSeriesTable(TABLE, client=client, max_rounds=3, sleep=lambda _: None)  # type: ignore[arg-type]
    with pytest.raises(WriteIncompleteError, match="still unprocessed after 3"):
        table.write(values("CURRENCY#USD", date(2025, 1, 1), 8))


def test_writing_the_same_answer_again_changes_nothing(aws: Aws) -> None:
    table = DynamoSeriesTable(TABLE, client=aws.dynamodb)
    items = [
        *values("CURRENCY#USD", date(2025, 1, 1), 30),
        SeriesItem("CURRENCY#USD", date(2025, 3, 1), ItemStatus.NO_DATA),
        SeriesItem("CURRENCY#USD", date(2025, 3, 2), ItemStatus.QUARANTINED, reason="bad", raw="x"),
    ]
    table.write(items)
    before = aws.items("CURRENCY#USD")
    table.write(items)
    assert aws.items("CURRENCY#USD") == before
    assert before["2025-03-01"] == {
        "info_type": {"S": "CURRENCY#USD"},
        "date": {"S": "2025-03-01"},
        "status": {"S": "NO_DATA"},
    }
