"""The series table in DynamoDB: one paginated Query per series, BatchWriteItem 25 at a time."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from gap_scraper.domain import ItemStatus, SeriesItem, StoreError, WriteIncompleteError
from gap_scraper.ports import PresentDates, WriteReport

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BATCH = 25
"""BatchWriteItem takes at most 25 puts."""
PK, SK = "info_type", "date"


def to_item(item: SeriesItem) -> dict[str, Any]:
    """The DynamoDB item: keys, status, and the exact number as text (no float on the way)."""
    attributes: dict[str, Any] = {
        PK: {"S": item.info_type},
        SK: {"S": item.day.isoformat()},
        "status": {"S": item.status.value},
    }
    if item.status is ItemStatus.VALUE and item.value_text is not None:
        attributes["value"] = {"N": item.value_text}
    if item.reason is not None:
        attributes["reason"] = {"S": item.reason}
    if item.raw is not None:
        attributes["raw"] = {"S": item.raw}
    return attributes


def _error(exc: ClientError | BotoCoreError) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    return type(exc).__name__


class DynamoSeriesTable:
    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient | None = None,
        max_rounds: int = 8,
        page_size: int | None = None,
        backoff_seconds: float = 0.05,
        max_backoff_seconds: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._table = table_name
        self._client: DynamoDBClient = client or boto3.client("dynamodb")
        self._max_rounds = max_rounds
        self._page_size = page_size  # None: DynamoDB's own 1 MB pages
        self._backoff = backoff_seconds
        self._max_backoff = max_backoff_seconds
        self._sleep = sleep
        self._rng = rng or random.Random()

    def present_dates(self, info_type: str, since: date) -> PresentDates:
        """Every sort key of the series from `since` on: one Query, followed page by page, that
        reads only the key (values, markers and quarantined rows all count as present)."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk AND #sk >= :since",
            "ProjectionExpression": "#sk",
            "ExpressionAttributeNames": {"#pk": PK, "#sk": SK},
            "ExpressionAttributeValues": {
                ":pk": {"S": info_type},
                ":since": {"S": since.isoformat()},
            },
        }
        if self._page_size is not None:
            query["Limit"] = self._page_size
        dates: set[str] = set()
        pages = 0
        try:
            while True:
                page = self._client.query(**query)
                pages += 1
                dates.update(item[SK]["S"] for item in page.get("Items", []))
                last = page.get("LastEvaluatedKey")
                if not last:
                    return PresentDates(frozenset(dates), pages)
                query["ExclusiveStartKey"] = last
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"query {info_type}: {_error(exc)}") from exc

    def write(self, items: Sequence[SeriesItem]) -> WriteReport:
        calls = resent = 0
        for first in range(0, len(items), BATCH):
            chunk: list[Any] = [
                {"PutRequest": {"Item": to_item(i)}} for i in items[first : first + BATCH]
            ]
            chunk_calls, chunk_resent = self._write_chunk(chunk)
            calls += chunk_calls
            resent += chunk_resent
        return WriteReport(items=len(items), calls=calls, resent=resent)

    def _write_chunk(self, requests: list[Any]) -> tuple[int, int]:
        """Send one chunk and re-send what comes back unprocessed, with backoff and full jitter,
        until nothing is left; puts of whole items make a re-send harmless."""
        resent = 0
        pending: list[Any] = requests
        for calls in range(1, self._max_rounds + 1):
            if calls > 1:
                ceiling = min(self._max_backoff, self._backoff * 2 ** (calls - 1))
                self._sleep(self._rng.uniform(0, ceiling))
            try:
                response = self._client.batch_write_item(RequestItems={self._table: pending})
            except (ClientError, BotoCoreError) as exc:
                raise StoreError(f"batch write: {_error(exc)}") from exc
            pending = list(response.get("UnprocessedItems", {}).get(self._table, []))
            if not pending:
                return calls, resent
            resent += len(pending)
        raise WriteIncompleteError(
            f"{len(pending)} items still unprocessed after {self._max_rounds} BatchWriteItem calls"
        )
