"""The edge of the local platform as an outside producer meets it.

An event written by the official CloudEvents SDK (source a URL, no dataschema, no correlationid,
a traceparent) and published to the shared topic with the `type` attribute, exactly as the root
README shows with `aws sns publish`, must start the Glue job through ingest-gate, and the gate's
started event must carry the SDK event's id as correlation id and its traceparent.
"""

from __future__ import annotations

import io
import json
import re
import shlex
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cloudevents.core.bindings.http import to_structured_event
from cloudevents.core.v1.event import CloudEvent as SdkCloudEvent
from rocket_contracts.models.ingest.job_started_v1 import IngestJobStartedV1
from rocket_infra import cli, events, query
from rocket_infra.demo import runner
from rocket_infra.demo.scenarios import etl_layers as etl_layers_scenario
from rocket_infra.local import LocalPlatform

pytestmark = pytest.mark.e2e

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_cloudevents_sdk_event_drives_ingest_gate(platform: LocalPlatform) -> None:
    job = platform.outputs("ingest-gate")["CanaryJobName"]
    transaction_id = f"e2e-sdk-{uuid.uuid4().hex[:8]}"
    event = SdkCloudEvent(
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "type": "ingest.job.requested.v1",
            "source": "https://airflow.example.com/dags/daily",
            "traceparent": TRACEPARENT,
        },
        {
            "transaction_id": transaction_id,
            "job_name": job,
            "arguments": {"dataset": "stores"},
            "requested_by": "airflow/daily",
            "requested_at": datetime.now(UTC).isoformat(),
        },
    )
    body = to_structured_event(event).body.decode("utf-8")

    platform.client("sns").publish(
        TopicArn=platform.topic_arn,
        Message=body,
        MessageAttributes={
            "type": {"DataType": "String", "StringValue": "ingest.job.requested.v1"}
        },
    )
    assert platform.wait_idle(timeout=60)

    pages = platform.client("glue").get_paginator("get_job_runs").paginate(JobName=job)
    runs = [run for page in pages for run in page["JobRuns"]]  # earlier tests' runs too
    assert [r for r in runs if r.get("Arguments", {}).get("--transaction_id") == transaction_id], (
        "the gate started no run for the SDK's request"
    )
    [started] = [
        e
        for e in platform.bus_events()
        if e.type == "ingest.job.started.v1" and e.subject == transaction_id
    ]
    assert IngestJobStartedV1.model_validate(started.data).job_name == job
    assert started.correlationid == json.loads(body)["id"]
    assert started.traceparent == TRACEPARENT


def _readme_sns_publish() -> dict[str, str]:
    """The `aws sns publish` command of the root README: its options by name."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```bash\n(.*?)```", readme, re.S) if "sns publish" in b]
    words = shlex.split(block.replace("\\\n", " "))
    return {
        word[2:]: words[index + 1]
        for index, word in enumerate(words)
        if word.startswith("--") and index + 1 < len(words)
    }


def test_the_readmes_aws_sns_publish_starts_the_job_and_without_type_is_flagged(
    platform: LocalPlatform,
) -> None:
    command = _readme_sns_publish()
    assert command["endpoint-url"] == "http://127.0.0.1:4566"  # what `make up` listens on
    assert command["topic-arn"] == platform.topic_arn
    message = json.loads(command["message"])
    transaction_id = f"{message['data']['transaction_id']}-{uuid.uuid4().hex[:6]}"
    message["data"]["transaction_id"] = transaction_id
    message["id"] = f"readme-{uuid.uuid4().hex[:8]}"
    sns = platform.client("sns")

    sns.publish(
        TopicArn=platform.topic_arn,
        Message=json.dumps(message),
        MessageAttributes=json.loads(command["message-attributes"]),
    )
    stray = {**message, "id": f"stray-{uuid.uuid4().hex[:8]}"}
    sns.publish(TopicArn=platform.topic_arn, Message=json.dumps(stray))
    sns.publish(TopicArn=platform.topic_arn, Message="{not json " + transaction_id)
    assert platform.wait_idle(timeout=60)

    assert [
        e
        for e in platform.bus_events()
        if e.type == "ingest.job.started.v1" and e.subject == transaction_id
    ]
    mine = [m for m in platform.bus_messages() if transaction_id in m.body]
    problems = sorted(str(m.inspected.problem) for m in mine if not m.inspected.ok)
    assert len(mine) == 4  # the request, the stray copy, the broken one, the started event
    assert problems[0] == events.NO_SUBSCRIPTION
    assert problems[1].startswith(events.NO_SUBSCRIPTION + "; message body is not JSON")


# The source document's sample transactions (id, name, amount, date, category).
SEED_ROWS = [
    (1, "Transaction A", "150.50", "2024-01-15", "Sales"),
    (2, "Transaction B", "75.25", "2024-01-16", "Marketing"),
    (3, "Transaction C", "300.00", "2024-01-17", "Sales"),
    (4, "Transaction D", "20.00", "2024-01-15", "Marketing"),
    (5, "", "10.00", "2024-01-15", ""),
    (6, "Transaction F", "-5.00", "2024-02-01", "Sales"),
]
SEED_SAMPLE = "id,name,amount,date,category\n" + "".join(
    ",".join(str(v) for v in row) + "\n" for row in SEED_ROWS
)
ETL_README = Path(__file__).parents[2] / "services" / "etl-layers" / "README.md"


def _seed_queries() -> list[str]:
    """The three Athena queries of the etl-layers README."""
    readme = ETL_README.read_text(encoding="utf-8")
    return re.findall(r"```sql\n(.*?)```", readme, re.S)


@pytest.fixture(scope="module")
def lake_platform() -> Iterator[LocalPlatform]:
    """A platform of its own: the demo's etl-layers scenario and the seed's sample file, and no
    other test's rows in the tables, so the seed queries' answers are exact."""
    with LocalPlatform.start(port=0, services=["etl-layers"], out=io.StringIO()) as local:
        report = etl_layers_scenario.run(local)
        assert report.ok, report.failures
        raw = local.outputs("etl-layers")["RawBucketName"]
        key = f"transactions/seed/{uuid.uuid4().hex[:6]}/amostra.csv"
        local.client("s3").put_object(Bucket=raw, Key=key, Body=SEED_SAMPLE.encode())
        assert local.wait_idle(timeout=120)
        yield local


def test_the_seeds_athena_queries_run_unchanged_with_rocket_query(
    lake_platform: LocalPlatform,
) -> None:
    queries = _seed_queries()
    assert len(queries) == 3
    glue, s3 = lake_platform.client("glue"), lake_platform.client("s3")

    with query.lake(glue, s3) as con:
        processed, quality, categories = (query.run(con, sql) for sql in queries)

    # 2024-01-15 holds only the seed's sample: three detail rows and a summary per category.
    assert sorted(processed.rows) == [("DAILY_SUMMARY", 3), ("DETAIL", 3)]
    # January is the sample's too: row 5 lacks name and category (0.6 x 0.8 = 0.48).
    ((average, lowest, highest),) = quality.rows
    assert (average, lowest, highest) == pytest.approx(((4 * 1.0 + 0.48) / 5, 0.48, 1.0))
    # 2024: the sample's categories and the demo's sales export of March.
    by_category = {row[0]: row[1:] for row in categories.rows}
    assert by_category["Sales"] == (pytest.approx(445.5), 3)
    assert by_category["Marketing"] == (pytest.approx(95.25), 2)
    assert by_category["UNCATEGORIZED"] == (pytest.approx(10.0), 1)
    assert {"Alimentação", "Eletrônicos", "Vestuário", "Farmácia"} <= set(by_category)
    totals = [row[1] for row in categories.rows]
    assert totals == sorted(totals, reverse=True)


def test_every_catalog_table_is_a_view_typed_as_the_catalog_declares(
    lake_platform: LocalPlatform, capsys: pytest.CaptureFixture[str]
) -> None:
    database = lake_platform.outputs("etl-layers")["GlueDatabaseName"]
    argv = ["query", "--endpoint-url", lake_platform.endpoint_url, "--format", "json"]
    sql = (
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns"
        f" WHERE table_schema = '{database}' AND column_name IN ('year', 'merchant_id')"
    )

    assert cli.main([*argv, sql]) == 0

    columns = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    tables = {c["table_name"] for c in columns}
    catalog = lake_platform.client("glue").get_tables(DatabaseName=database)["TableList"]
    assert tables == {t["Name"] for t in catalog}
    assert {(c["column_name"], c["data_type"]) for c in columns} == {
        ("year", "VARCHAR"),
        ("merchant_id", "BIGINT"),
    }


def test_the_demo_prints_tables_and_sends_logs_to_its_log_file(tmp_path: Path) -> None:
    # `rocket demo` itself: its own platform, started after the log is in place, so the handler
    # processes inherit it (a warm worker of another platform would keep the terminal).
    log = tmp_path / ".rocket" / "local-demo.log"
    out = io.StringIO()

    code = runner.run_demo(out=out, log=log)

    printed = out.getvalue()
    assert code == 0, printed
    assert [line for line in printed.splitlines() if line.lstrip().startswith("{")] == []
    assert "sent on purpose; expected to be refused" in printed
    logged = log.read_text()
    assert "request handled" in logged  # ingest-gate's handler log lines
    assert "CloudWatchMetrics" in logged  # and its metric lines
    assert "No application metrics to publish" not in logged
