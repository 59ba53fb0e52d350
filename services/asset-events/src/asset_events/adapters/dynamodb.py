"""The control table: one item per asset for its state (sk STATE, written by the producers on a
version) and one for when it was last seen (sk SEEN, written by the decisor in batches), both
under pk ASSET#<asset id>, plus an index on `agent` for the completed runs."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from asset_events.domain import (
    ASSET_PREFIX,
    SEEN_SK,
    STATE_SK,
    AssetRecord,
    AssetRef,
    AssetState,
    Column,
    HistoryEntry,
    SeenMark,
    Status,
    StoreUnavailableError,
    VersionConflictError,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]
AGENT_INDEX = "agent-index"
BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
_EMPTY = {"S": "[]"}
# What deciding needs of an item: not its columns and history, the bulk of a state item.
DECISION_ATTRIBUTES = (
    "pk", "sk", "asset_id", "agent", "system", "database", "table", "status", "version",
    "content_hash", "content_uri", "observed_at", "updated_at", "previous_hash", "location",
    "run_id", "seen_at",
)  # fmt: skip


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _key(asset_id: str, sk: str) -> Item:
    return {"pk": {"S": f"{ASSET_PREFIX}{asset_id}"}, "sk": {"S": sk}}


def state_item(state: AssetState) -> Item:
    item: Item = {
        **_key(state.asset_id, STATE_SK),
        "asset_id": {"S": state.asset_id},
        "agent": {"S": state.agent},
        "system": {"S": state.asset.system},
        "database": {"S": state.asset.database},
        "table": {"S": state.asset.table},
        "status": {"S": state.status.value},
        "version": {"N": str(state.version)},
        "content_hash": {"S": state.content_hash},
        "content_uri": {"S": state.content_uri},
        "observed_at": {"S": state.observed_at},
        "updated_at": {"S": state.updated_at},
        "columns": {"S": json.dumps([[c.name, c.type, c.nullable] for c in state.columns])},
        "history": {
            "S": json.dumps([[h.version, h.change, h.content_hash, h.at] for h in state.history])
        },
    }
    if state.previous_hash is not None:
        item["previous_hash"] = {"S": state.previous_hash}
    if state.location is not None:
        item["location"] = {"S": state.location}
    return item


def parse_state(item: Item) -> AssetState:
    return AssetState(
        asset=AssetRef(item["system"]["S"], item["database"]["S"], item["table"]["S"]),
        agent=item["agent"]["S"],
        status=Status(item["status"]["S"]),
        version=int(item["version"]["N"]),
        content_hash=item["content_hash"]["S"],
        content_uri=item["content_uri"]["S"],
        observed_at=item["observed_at"]["S"],
        updated_at=item["updated_at"]["S"],
        previous_hash=item.get("previous_hash", {}).get("S"),
        columns=tuple(
            Column(n, t, bool(x)) for n, t, x in json.loads(item.get("columns", _EMPTY)["S"])
        ),
        location=item.get("location", {}).get("S"),
        history=tuple(
            HistoryEntry(v, c, h, a) for v, c, h, a in json.loads(item.get("history", _EMPTY)["S"])
        ),
    )


def seen_item(mark: SeenMark) -> Item:
    return {
        **_key(mark.asset_id, SEEN_SK),
        "asset_id": {"S": mark.asset_id},
        "agent": {"S": mark.agent},
        "run_id": {"S": mark.run_id},
        "seen_at": {"S": mark.seen_at},
        "content_hash": {"S": mark.content_hash},
    }


def parse_seen(item: Item) -> SeenMark:
    return SeenMark(
        asset_id=item["asset_id"]["S"],
        agent=item["agent"]["S"],
        run_id=item["run_id"]["S"],
        seen_at=item["seen_at"]["S"],
        content_hash=item["content_hash"]["S"],
    )


def records_from_items(items: Sequence[Item]) -> dict[str, AssetRecord]:
    states: dict[str, AssetState] = {}
    seen: dict[str, SeenMark] = {}
    for item in items:
        asset_id = item["pk"]["S"].removeprefix(ASSET_PREFIX)
        if item["sk"]["S"] == STATE_SK:
            states[asset_id] = parse_state(item)
        elif item["sk"]["S"] == SEEN_SK:
            seen[asset_id] = parse_seen(item)
    return {
        asset_id: AssetRecord(states.get(asset_id), seen.get(asset_id))
        for asset_id in sorted(states.keys() | seen.keys())
    }


def _error(exc: ClientError | BotoCoreError) -> StoreUnavailableError:
    if isinstance(exc, ClientError):
        return StoreUnavailableError(str(exc.response.get("Error", {}).get("Code", "")))
    return StoreUnavailableError(type(exc).__name__)


class DynamoControlStore:
    """Batch reads and writes re-send what DynamoDB left unprocessed, with exponential backoff
    and jitter, up to `max_attempts` calls per batch."""

    def __init__(
        self,
        *,
        table_name: str,
        client: DynamoDBClient | None = None,
        max_attempts: int = 8,
        base_delay: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
        lean_reads: bool = False,
    ) -> None:
        """`lean_reads`: read only DECISION_ATTRIBUTES (the decisor's store); the states it
        returns then have no columns and history, so it must never write them back."""
        self._table = table_name
        self._client: DynamoDBClient = client or boto3.client("dynamodb")
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._sleep = sleep
        self._projection: dict[str, Any] = {}
        if lean_reads:
            names = {f"#a{n}": name for n, name in enumerate(DECISION_ATTRIBUTES)}
            self._projection = {
                "ProjectionExpression": ", ".join(names),
                "ExpressionAttributeNames": names,
            }

    def _backoff(self, attempt: int) -> None:
        self._sleep(min(2.0, self._base_delay * 2**attempt) * random.uniform(0.5, 1.0))

    def read(self, asset_ids: Sequence[str]) -> dict[str, AssetRecord]:
        keys = [_key(a, sk) for a in dict.fromkeys(asset_ids) for sk in (STATE_SK, SEEN_SK)]
        items: list[Item] = []
        for chunk in _chunks(keys, BATCH_GET_LIMIT):
            items += self._batch_get(list(chunk))
        return records_from_items(items)

    def _batch_get(self, keys: list[Item]) -> list[Item]:
        found: list[Item] = []
        pending: list[Item] = keys
        for attempt in range(self._max_attempts):
            try:
                request: Any = {"Keys": pending, "ConsistentRead": True, **self._projection}
                response = self._client.batch_get_item(RequestItems={self._table: request})
            except (ClientError, BotoCoreError) as exc:
                raise _error(exc) from exc
            found += response.get("Responses", {}).get(self._table, [])
            unprocessed: Any = response.get("UnprocessedKeys", {})
            pending = list(unprocessed.get(self._table, {}).get("Keys", []))
            if not pending:
                return found
            self._backoff(attempt)
        raise StoreUnavailableError(f"{len(pending)} keys still unprocessed")

    def mark_seen(self, marks: Sequence[SeenMark]) -> None:
        requests = [{"PutRequest": {"Item": seen_item(m)}} for m in marks]
        for chunk in _chunks(requests, BATCH_WRITE_LIMIT):
            self._batch_write(list(chunk))

    def _batch_write(self, requests: list[Item]) -> None:
        pending = requests
        for attempt in range(self._max_attempts):
            try:
                response = self._client.batch_write_item(
                    RequestItems={self._table: pending}  # type: ignore[dict-item]
                )
            except (ClientError, BotoCoreError) as exc:
                raise _error(exc) from exc
            left: Any = response.get("UnprocessedItems", {})
            pending = list(left.get(self._table, []))
            if not pending:
                return
            self._backoff(attempt)
        raise StoreUnavailableError(f"{len(pending)} items still unprocessed")

    def agent_records(self, agent: str) -> dict[str, AssetRecord]:
        items: list[Item] = []
        # With lean reads `agent` is already one of the projection's attribute names.
        key = f"#a{DECISION_ATTRIBUTES.index('agent')}" if self._projection else "agent"
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": AGENT_INDEX,
            "KeyConditionExpression": f"{key} = :agent",
            "ExpressionAttributeValues": {":agent": {"S": agent}},
            **self._projection,
        }
        try:
            while True:
                page = self._client.query(**kwargs)
                items += page.get("Items", [])
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc) from exc
        return records_from_items(items)

    def put_state(self, state: AssetState, *, expected_version: int | None) -> None:
        condition: dict[str, Any]
        if expected_version is None:
            condition = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
            }
        try:
            self._client.put_item(TableName=self._table, Item=state_item(state), **condition)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise VersionConflictError(state.asset_id) from exc
            raise _error(exc) from exc
        except BotoCoreError as exc:
            raise _error(exc) from exc
