"""etl-layers on the local platform, wired by its own template.

RAW files of every kind are uploaded the way a producer would (plain S3 puts; the bucket's
notification feeds the ETL queue): a Brazilian CSV (semicolon, Latin-1, decimal comma, a bad
row and a duplicate), an NDJSON of payments, an empty file and a file no dataset claims. Then
TRUSTED, DELIVERY, QUARANTINE, the Glue partitions and the published events must be exactly
what the files hold; uploading the same files again must change nothing; and the Glue job
`reprocess`, requested through ingest-gate over the same prefix, must run and find nothing left
to do.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from rocket_contracts.models.etl.delivery_published_v1 import EtlDeliveryPublishedV1
from rocket_contracts.models.ingest.job_requested_v1 import IngestJobRequestedV1
from rocket_infra.local import LocalPlatform

pytestmark = pytest.mark.e2e


def _inputs(token: str, base: int) -> dict[str, bytes]:
    csv = (
        "id;nome;valor;data;categoria\n"
        f"{base + 1};Café São Paulo;1.234,50;15/01/2024;Alimentação\n"
        f"{base + 2};Pão;3,20;15/01/2024;Alimentação\n"
        f"{base + 2};Pão;3,20;15/01/2024;Alimentação\n"
        f"{base + 3};Erro;abc;16/01/2024;Outros\n"
        f"{base + 4};Reembolso;-10,00;16/01/2024;Devoluções\n"
    ).encode("latin-1")
    ndjson = "".join(
        json.dumps(
            {
                "payment_id": f"{token}-p{n}",
                "merchant_id": 42,
                "paid_at": f"2024-03-0{1 + n % 2}T10:00:00Z",
                "method": "PIX" if n != 3 else "CHEQUE",
                "amount": 10.0 * (n + 1),
            }
        )
        + "\n"
        for n in range(4)
    ).encode()
    return {
        f"transactions/{token}/vendas de janeiro (São Paulo).csv": csv,
        f"payments/{token}/pix+cartão.ndjson": ndjson,
        f"transactions/{token}/vazio.csv": b"",
        f"invoices/{token}/nota.csv": b"a,b\n1,2\n",
    }


def _snapshot(platform: LocalPlatform, buckets: list[str], token: str) -> dict[str, list[Any]]:
    s3 = platform.client("s3")
    snapshot: dict[str, list[Any]] = {}
    for bucket in buckets:
        pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
        snapshot[bucket] = sorted(
            (v["Key"], v["ETag"], v["VersionId"])
            for page in pages
            for v in page.get("Versions", [])
            if token in v["Key"] or "_manifests/" in v["Key"] or "_unrouted/" in v["Key"]
        )
    return snapshot


def _mine(platform: LocalPlatform, token: str) -> list[EtlDeliveryPublishedV1]:
    return [
        EtlDeliveryPublishedV1.model_validate(e.data)
        for e in platform.bus_events()
        if e.type == "etl.delivery.published.v1" and token in (e.subject or "")
    ]


def test_raw_files_through_the_layers_once(platform: LocalPlatform) -> None:
    token = f"e2e-{uuid.uuid4().hex[:8]}"
    base = random.Random(token).randrange(10**9, 10**10)
    out = platform.outputs("etl-layers")
    raw, trusted, delivery, quarantine = (
        out[k]
        for k in (
            "RawBucketName",
            "TrustedBucketName",
            "DeliveryBucketName",
            "QuarantineBucketName",
        )
    )
    s3 = platform.client("s3")
    inputs = _inputs(token, base)
    for key, body in inputs.items():
        s3.put_object(Bucket=raw, Key=key, Body=body)
    assert platform.wait_idle(timeout=120)

    events = {e.dataset: e for e in _mine(platform, token)}
    assert sorted(events) == ["payments", "transactions"]
    tx = events["transactions"]
    assert tx.source.key == f"transactions/{token}/vendas de janeiro (São Paulo).csv"
    assert (tx.rows.in_, tx.rows.out, tx.rows.quarantined, tx.rows.duplicates) == (5, 3, 1, 1)
    assert [p.root for p in tx.partitions.trusted] == [
        "year=2024/month=01/day=15",
        "year=2024/month=01/day=16",
    ]
    pay = events["payments"]
    assert (pay.rows.in_, pay.rows.out, pay.rows.quarantined) == (4, 3, 1)

    def keys(bucket: str, prefix: str) -> list[str]:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
        return [o["Key"] for o in listed]

    for event in (tx, pay):
        for uri in [u.root for u in event.outputs.trusted]:
            assert uri.startswith(f"s3://{trusted}/{event.dataset}/year=")
        written = [f"s3://{trusted}/{k}" for k in keys(trusted, f"{event.dataset}/year=")]
        assert {u.root for u in event.outputs.trusted} <= set(written)
        assert len(event.outputs.delivery) == 2 * len(event.outputs.trusted)
        (rows_uri,) = [u.root for u in event.outputs.quarantine]
        assert rows_uri.startswith(f"s3://{quarantine}/{event.dataset}/rows/")

    quarantined_files = keys(quarantine, "transactions/files/") + keys(quarantine, "_unrouted/")
    reasons = [
        json.loads(s3.get_object(Bucket=quarantine, Key=k)["Body"].read())["reason"]
        for k in quarantined_files
        if k.endswith("reason.json")
        and token in json.loads(s3.get_object(Bucket=quarantine, Key=k)["Body"].read())["source"]
    ]
    assert sorted(reasons) == ["empty file", "no dataset declared for this key"]

    glue = platform.client("glue")
    database = out["GlueDatabaseName"]
    partitions = {
        table: sorted(
            tuple(p["Values"])
            for p in glue.get_partitions(DatabaseName=database, TableName=table)["Partitions"]
        )
        for table in ("transactions_trusted", "transactions_delivery", "payments_trusted")
    }
    assert {("2024", "01", "15"), ("2024", "01", "16")} <= set(partitions["transactions_trusted"])
    assert ("DAILY_SUMMARY", "2024", "01", "16") in partitions["transactions_delivery"]
    assert {("2024", "03", "01"), ("2024", "03", "02")} <= set(partitions["payments_trusted"])

    # The same upload again: new RAW versions with the same bytes change nothing downstream.
    buckets = [trusted, delivery, quarantine]
    before = _snapshot(platform, buckets, token)
    for key, body in inputs.items():
        s3.put_object(Bucket=raw, Key=key, Body=body)
    assert platform.wait_idle(timeout=120)
    assert _snapshot(platform, buckets, token) == before
    assert len(_mine(platform, token)) == 2

    # The reprocess job, started the way it is meant to be (a request through ingest-gate),
    # runs the same code over the same prefix and finds everything done.
    job = out["ReprocessJobName"]
    transaction_id = f"{token}-reprocess"
    platform.publish(
        IngestJobRequestedV1(
            transaction_id=transaction_id,
            job_name=job,
            arguments={"prefix": f"transactions/{token}/"},
            requested_by="e2e/etl-layers",
            requested_at=datetime.now(UTC),
        ),
        correlation_id=transaction_id,
    )
    assert platform.wait_idle(timeout=120)
    (run,) = [
        r
        for r in platform.runtime.glue_runs(job)
        if r.arguments.get("--transaction_id") == transaction_id
    ]
    assert run.state == "SUCCEEDED", run.log
    assert '"already_done": 2' in run.log
    assert _snapshot(platform, buckets, token) == before
    assert len(_mine(platform, token)) == 2
