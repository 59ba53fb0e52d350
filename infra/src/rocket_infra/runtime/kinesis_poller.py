"""A Kinesis event source mapping: one reader per shard, in order, checkpointing on success."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

from rocket_infra.runtime import log
from rocket_infra.runtime.discovery import KinesisMapping
from rocket_infra.runtime.events import (
    correlation_ids,
    failed_item_ids,
    kinesis_record,
    matches_filters,
)
from rocket_infra.runtime.records import Invoker

_IDLE_WAIT = 0.5  # an idle shard is read twice a second (Lambda: once a second)
_RETRY_WAIT = 0.2

Batch = list[dict[str, Any]]


class _ShardReader:
    """Where one shard's reader is: its iterator, what it read but has not processed yet, and
    the last sequence number processed (so a lost iterator resumes right after it)."""

    def __init__(self, shard_id: str) -> None:
        self.shard_id = shard_id
        self.iterator: str | None = None
        self.pending: deque[dict[str, Any]] = deque()
        self.checkpoint: str | None = None

    def reset(self) -> None:
        self.iterator = None
        self.pending.clear()


class KinesisPoller:
    """Reads every shard from StartingPosition and invokes the handler with batches in order.
    A batch is checkpointed (never read again) when the handler succeeds. On a function error
    it is retried, split in halves first when BisectBatchOnFunctionError is set, until
    MaximumRetryAttempts; then its metadata goes to DestinationConfig.OnFailure and the shard
    moves on. With ReportBatchItemFailures, the batch is checkpointed up to the lowest failed
    sequence number and retried from there."""

    def __init__(
        self, mapping: KinesisMapping, *, clients: Any, invoke: Invoker, region: str
    ) -> None:
        self.mapping = mapping
        self._kinesis = clients["kinesis"]
        self._clients = clients
        self._invoke = invoke
        self._region = region
        self._stop = threading.Event()
        self._busy: dict[str, bool] = {}
        self._next_iterators: dict[str, str] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        started = self.sync_shards()
        log.info(
            "poller started",
            source=self.mapping.stream_arn,
            function=self.mapping.function_name,
            shards=started,
        )

    def sync_shards(self) -> int:
        """Start a reader for every shard without one (new shards after a reshard); how many."""
        shards = self._kinesis.list_shards(StreamName=self.mapping.stream_name)["Shards"]
        started = 0
        for shard in shards:
            shard_id = shard["ShardId"]
            with self._lock:
                if shard_id in self._busy:
                    continue
                self._busy[shard_id] = True
            thread = threading.Thread(
                target=self._run, args=(shard_id,), name=f"kinesis-{shard_id}", daemon=True
            )
            self._threads.append(thread)
            thread.start()
            started += 1
        return started

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        for thread in self._threads:
            thread.join(timeout)

    def is_drained(self) -> bool:
        """No shard is processing and none has records past what was read (a peek with the
        shard's next iterator, which the reader keeps using, so nothing is skipped)."""
        with self._lock:
            if any(self._busy.values()):
                return False
            iterators = list(self._next_iterators.values())
        for iterator in iterators:
            if self._kinesis.get_records(ShardIterator=iterator, Limit=1).get("Records"):
                return False
        return True

    def _set_busy(self, shard_id: str, busy: bool) -> None:
        with self._lock:
            self._busy[shard_id] = busy

    def _set_idle(self, shard_id: str, next_iterator: str | None) -> None:
        with self._lock:
            self._busy[shard_id] = False
            if next_iterator:
                self._next_iterators[shard_id] = next_iterator

    def _run(self, shard_id: str) -> None:
        reader = _ShardReader(shard_id)
        while not self._stop.is_set():
            try:
                if not self._step(reader):
                    return  # a closed shard (after a split or merge), fully read
            except Exception as exc:  # keep the shard reader alive across emulator hiccups
                log.error(
                    "poll failed",
                    source=self.mapping.stream_arn,
                    shard_id=shard_id,
                    error=repr(exc),
                )
                reader.reset()  # read again after the checkpoint, with a fresh iterator
                self._stop.wait(1.0)

    def _step(self, reader: _ShardReader) -> bool:
        """Read or process one batch; False once the shard is closed and done."""
        shard_id = reader.shard_id
        if reader.iterator is None:
            reader.iterator = self._iterator(shard_id, reader.checkpoint)
        if not reader.pending:
            response = self._kinesis.get_records(ShardIterator=reader.iterator, Limit=10000)
            reader.pending.extend(response.get("Records", []))
            next_iterator = response.get("NextShardIterator")
            if next_iterator is None and not reader.pending:
                self._set_idle(shard_id, None)
                return False
            reader.iterator = next_iterator
        if not reader.pending:
            self._set_idle(shard_id, reader.iterator)
            self._stop.wait(_IDLE_WAIT)
            return True
        self._set_busy(shard_id, True)
        size = min(self.mapping.batch_size, len(reader.pending))
        batch = [reader.pending.popleft() for _ in range(size)]
        wanted = self._filtered(shard_id, batch)
        if wanted:
            self._process(shard_id, wanted)
        reader.checkpoint = batch[-1]["SequenceNumber"]
        return True

    def _filtered(self, shard_id: str, batch: Batch) -> Batch:
        """The records the mapping's FilterCriteria keep (the others are skipped, as on AWS)."""
        if not self.mapping.filters:
            return batch
        mapping = self.mapping
        return [
            record
            for record in batch
            if matches_filters(
                kinesis_record(
                    record,
                    shard_id=shard_id,
                    stream_arn=mapping.stream_arn,
                    function_arn=mapping.function_arn,
                    region=self._region,
                ),
                mapping.filters,
            )
        ]

    def _iterator(self, shard_id: str, checkpoint: str | None) -> str:
        kwargs: dict[str, Any] = {"ShardIteratorType": self.mapping.starting_position}
        if checkpoint is not None:
            kwargs = {
                "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                "StartingSequenceNumber": checkpoint,
            }
        elif self.mapping.starting_position == "AT_TIMESTAMP":
            kwargs["Timestamp"] = datetime.now(UTC)
        response = self._kinesis.get_shard_iterator(
            StreamName=self.mapping.stream_name, ShardId=shard_id, **kwargs
        )
        iterator: str = response["ShardIterator"]
        return iterator

    def _process(self, shard_id: str, batch: Batch) -> None:
        work: deque[tuple[Batch, int]] = deque([(batch, 0)])
        while work and not self._stop.is_set():
            records, attempts = work.popleft()
            retry = self._attempt(shard_id, records)
            if not retry:
                continue
            retry_records, halves = retry
            attempts += 1
            limit = self.mapping.max_retry_attempts
            if limit >= 0 and attempts > limit:
                self._send_on_failure(shard_id, retry_records, attempts)
                continue
            if halves and len(retry_records) > 1:
                middle = len(retry_records) // 2
                work.appendleft((retry_records[middle:], attempts))
                work.appendleft((retry_records[:middle], attempts))
            else:
                work.appendleft((retry_records, attempts))
            self._stop.wait(_RETRY_WAIT)

    def _attempt(self, shard_id: str, records: Batch) -> tuple[Batch, bool] | None:
        """Invoke once; None when the batch is done, else (records to retry, bisect?)."""
        mapping = self.mapping
        sequence_numbers = [r["SequenceNumber"] for r in records]
        event = {
            "Records": [
                kinesis_record(
                    r,
                    shard_id=shard_id,
                    stream_arn=mapping.stream_arn,
                    function_arn=mapping.function_arn,
                    region=self._region,
                )
                for r in records
            ]
        }
        bodies = [bytes(r["Data"]).decode("utf-8", "replace") for r in records]
        result = self._invoke(
            mapping.function_name,
            event,
            source=mapping.stream_arn,
            item_ids=sequence_numbers,
            correlation_ids=correlation_ids(bodies),
            partial=mapping.report_failures,
        )
        if result.error is not None:
            return records, mapping.bisect_on_error
        if not mapping.report_failures:
            return None
        failed = failed_item_ids(result.payload, sequence_numbers)
        if failed is None:
            return records, mapping.bisect_on_error
        if not failed:
            return None
        first = min(sequence_numbers.index(item) for item in failed)
        log.info(
            "records left for retry",
            source=mapping.stream_arn,
            shard_id=shard_id,
            from_sequence_number=sequence_numbers[first],
        )
        return records[first:], False

    def _send_on_failure(self, shard_id: str, records: Batch, attempts: int) -> None:
        mapping = self.mapping
        log.warning(
            "batch discarded",
            source=mapping.stream_arn,
            shard_id=shard_id,
            batch_size=len(records),
            start_sequence_number=records[0]["SequenceNumber"],
            destination=mapping.on_failure_arn,
        )
        if not mapping.on_failure_arn:
            return
        body = json.dumps(on_failure_message(mapping, shard_id, records, attempts))
        destination = mapping.on_failure_arn
        if destination.startswith("arn:aws:sqs:"):
            sqs = self._clients["sqs"]
            url = sqs.get_queue_url(QueueName=destination.split(":")[5])["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=body)
        elif destination.startswith("arn:aws:sns:"):
            self._clients["sns"].publish(TopicArn=destination, Message=body)


def on_failure_message(
    mapping: KinesisMapping, shard_id: str, records: Batch, attempts: int
) -> dict[str, Any]:
    """The invocation record Lambda sends to a Kinesis mapping's on-failure destination."""

    def arrival(record: dict[str, Any]) -> str:
        value = record.get("ApproximateArrivalTimestamp")
        moment = value if isinstance(value, datetime) else datetime.now(UTC)
        return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    return {
        "requestContext": {
            "requestId": f"local-{int(time.time() * 1000)}",
            "functionArn": mapping.function_arn,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": attempts,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "KinesisBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": records[0]["SequenceNumber"],
            "endSequenceNumber": records[-1]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": arrival(records[0]),
            "approximateArrivalOfLastRecord": arrival(records[-1]),
            "batchSize": len(records),
            "streamArn": mapping.stream_arn,
        },
    }
