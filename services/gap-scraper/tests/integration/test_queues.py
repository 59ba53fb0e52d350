"""The work queue and DLQ adapters on moto: CloudEvents in batches, entries SQS refused sent
again, quarantine with the reason as message attributes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from gap_scraper.adapters.queues import SqsDeferrer, SqsQuarantine, SqsRequestQueue
from gap_scraper.domain import QueueError
from gap_scraper_aws import Aws
from rocket_contracts.bus import parse_message
from rocket_contracts.models.gapscraper.download_requested_v1 import (
    GapscraperDownloadRequestedV1,
)


def request(day: int) -> GapscraperDownloadRequestedV1:
    return GapscraperDownloadRequestedV1(
        run_id="run-1",
        series_key="CURRENCY#USD",
        sgs_code=1,
        frequency="daily",
        start_date=date(2025, 3, day),
        end_date=date(2025, 3, day),
        missing_days=1,
        requested_at=datetime(2025, 3, 20, tzinfo=UTC),
    )


class RefusingFirst:
    """SendMessageBatch that fails the entries in `refuse` on its first `times` calls."""

    def __init__(self, client: Any, refuse: set[str], times: int) -> None:
        self._client, self._refuse, self.left = client, refuse, times

    def send_message_batch(self, QueueUrl: str, Entries: list[Any]) -> dict[str, Any]:  # noqa: N803
        if self.left <= 0:
            return dict(self._client.send_message_batch(QueueUrl=QueueUrl, Entries=Entries))
        self.left -= 1
        kept = [e for e in Entries if e["Id"] not in self._refuse]
        if kept:
            self._client.send_message_batch(QueueUrl=QueueUrl, Entries=kept)
        failed = [
            {"Id": e["Id"], "SenderFault": False, "Code": "InternalError"}
            for e in Entries
            if e["Id"] in self._refuse
        ]
        return {"Successful": [{"Id": e["Id"]} for e in kept], "Failed": failed}


def received(aws: Aws, url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        got = aws.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not got:
            return found
        found.extend(got)
        for m in got:
            aws.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_requests_arrive_as_contract_events_with_their_type(aws: Aws) -> None:
    queue = SqsRequestQueue(aws.work_queue_url, client=aws.sqs)
    queue.send_batch([request(d) for d in range(3, 13)], correlation_id="run-1")
    messages = received(aws, aws.work_queue_url)
    assert len(messages) == 10
    for m in messages:
        event_type = m["MessageAttributes"]["type"]["StringValue"]
        parsed = parse_message(m["Body"], type_attribute=event_type)
        assert parsed.data_as(GapscraperDownloadRequestedV1).series_key == "CURRENCY#USD"
        assert parsed.correlation_id == "run-1"
    with pytest.raises(ValueError, match="at most 10"):
        queue.send_batch([request(d) for d in range(3, 14)], correlation_id="run-1")


def test_entries_refused_once_are_sent_again_and_twice_fail_the_run(aws: Aws) -> None:
    flaky = RefusingFirst(aws.sqs, {"1", "4"}, times=1)
    SqsRequestQueue(aws.work_queue_url, client=flaky).send_batch(  # type: ignore[arg-type]
        [request(d) for d in range(3, 9)], correlation_id="run-1"
    )
    assert len(received(aws, aws.work_queue_url)) == 6
    stuck = RefusingFirst(aws.sqs, {"2"}, times=2)
    with pytest.raises(QueueError, match="1 requests refused twice"):
        SqsRequestQueue(aws.work_queue_url, client=stuck).send_batch(  # type: ignore[arg-type]
            [request(d) for d in range(3, 6)], correlation_id="run-1"
        )


def test_quarantine_keeps_the_body_and_says_why(aws: Aws) -> None:
    SqsQuarantine(aws.dlq_url, client=aws.sqs).quarantine(
        "the body", reason="unknown_series", detail="HTTP 404"
    )
    (message,) = received(aws, aws.dlq_url)
    assert message["Body"] == "the body"
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes == {"reason": "unknown_series", "detail": "HTTP 404"}


def test_a_deferred_record_is_invisible_for_the_delay(aws: Aws) -> None:
    aws.sqs.send_message(QueueUrl=aws.work_queue_url, MessageBody="x")
    (message,) = aws.sqs.receive_message(QueueUrl=aws.work_queue_url)["Messages"]
    SqsDeferrer(aws.work_queue_url, client=aws.sqs).defer(message["ReceiptHandle"], 0)
    again = aws.sqs.receive_message(QueueUrl=aws.work_queue_url).get("Messages", [])
    assert [m["Body"] for m in again] == ["x"]
