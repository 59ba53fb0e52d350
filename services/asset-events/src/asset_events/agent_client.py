"""What an agent does to report: PutRecords on the input stream, the asset id as partition key
(so one asset's reports stay in order on one shard), the records Kinesis refused sent again."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from asset_events.agent_events import asset_ref

if TYPE_CHECKING:
    from mypy_boto3_kinesis import KinesisClient

PUT_RECORDS_LIMIT = 500


def partition_key(event: Mapping[str, Any]) -> str:
    """The asset id for a running event; the run for a completed one."""
    if event.get("status") == "running":
        ref = asset_ref(
            str(event["system"]), str(event["database"]), event.get("schema"), str(event["table"])
        )
        return ref.asset_id
    return f"{event.get('agent')}:{event.get('run_id')}"


def put_events(
    client: KinesisClient,
    stream_name: str,
    events: Sequence[Mapping[str, Any] | bytes],
    *,
    max_rounds: int = 10,
) -> int:
    """Put every event, in order within each call; returns how many records were put."""
    records: list[Any] = [
        {
            "Data": e if isinstance(e, bytes) else json.dumps(e).encode("utf-8"),
            "PartitionKey": "raw" if isinstance(e, bytes) else partition_key(e),
        }
        for e in events
    ]
    for start in range(0, len(records), PUT_RECORDS_LIMIT):
        pending = records[start : start + PUT_RECORDS_LIMIT]
        for attempt in range(max_rounds):
            response = client.put_records(StreamName=stream_name, Records=pending)
            pending = [
                record
                for record, result in zip(pending, response["Records"], strict=True)
                if "ErrorCode" in result
            ]
            if not pending:
                break
            time.sleep(min(1.0, 0.05 * 2**attempt))
        if pending:
            raise RuntimeError(f"{len(pending)} records not accepted by the stream")
    return len(records)
