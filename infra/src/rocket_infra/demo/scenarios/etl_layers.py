"""etl-layers in the demo: a day of RAW files landing, with the usual mess.

A store's sales export in the Brazilian way (semicolon, Latin-1, decimal comma, dd/MM/yyyy)
with two unreadable amounts, a repeated line, a refund and a date in the future; the acquirer's
payments as NDJSON with a payment method nobody declared and a repeated payment; a small xlsx
of card payments; an empty file; and, later, the sales export uploaded a second time.
Expected: three delivery events with exactly those counts, the bad rows and the empty file in
QUARANTINE, catalog partitions for every day written, and nothing new from the second upload.
"""

from __future__ import annotations

import io
import json
import random
import uuid
import zipfile
from collections import Counter
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from rocket_infra.demo.report import ScenarioReport

if TYPE_CHECKING:
    from rocket_infra.local import LocalPlatform

PUBLISHED = "etl.delivery.published.v1"
CATEGORIES = ("Alimentação", "Eletrônicos", "Vestuário", "Farmácia")


def _sales_csv(rng: random.Random, base: int) -> bytes:
    lines = ["id;nome;valor;data;categoria"]
    for n in range(1, 41):
        value = f"{rng.uniform(5, 2500):.2f}".replace(".", ",")
        lines.append(f"{base + n};Venda {n};{value};{1 + n % 3:02d}/03/2024;{CATEGORIES[n % 4]}")
    lines[5] = f"{base + 5};Venda 5;R$ ???;02/03/2024;Farmácia"  # unreadable amount
    lines[9] = f"{base + 9};Venda 9;;03/03/2024;Farmácia"  # missing amount
    lines.append(lines[12])  # the same line exported twice
    lines.append(f"{base + 41};Estorno;-120,00;03/03/2024;Eletrônicos")  # refund: flagged
    lines.append(f"{base + 42};Pré-venda;99,90;01/03/2099;Eletrônicos")  # future: flagged
    return ("\n".join(lines) + "\n").encode("latin-1")


def _payments_ndjson(rng: random.Random, token: str) -> bytes:
    rows = [
        {
            "payment_id": f"{token}-pix-{n}",
            "merchant_id": 1000 + n % 4,
            "paid_at": f"2024-03-0{1 + n % 2}T{8 + n % 10:02d}:15:00-03:00",
            "method": "PIX" if n % 3 else "DEBIT_CARD",
            "amount": round(rng.uniform(1, 800), 2),
        }
        for n in range(30)
    ]
    rows[7]["method"] = "CHEQUE"  # not an allowed method: quarantined
    rows.append(dict(rows[3]))  # the acquirer resent one payment
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def _xlsx(rows: list[list[Any]]) -> bytes:
    """A minimal one-sheet workbook (inline strings and numbers), written with zipfile alone."""

    def cell(value: Any) -> str:
        if isinstance(value, int | float):
            return f"<c><v>{value}</v></c>"
        return f'<c t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'

    sheet = "".join(f"<row>{''.join(cell(v) for v in row)}</row>" for row in rows)
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
            '<sheet name="pagamentos" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns="{main}"><sheetData>{sheet}</sheetData></worksheet>'
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in parts.items():
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + xml)
    return buffer.getvalue()


def _payments_xlsx(token: str) -> bytes:
    header = ["Payment ID", "Merchant ID", "Paid At", "Method", "Amount", "Installments"]
    rows = [
        [f"{token}-card-{n}", 2000, f"01/03/2024 14:0{n}", "CREDIT_CARD", 150.0 * n, 3]
        for n in range(5)
    ]
    return _xlsx([header, *rows])


def _snapshot(platform: LocalPlatform, buckets: list[str], token: str) -> list[Any]:
    s3 = platform.client("s3")
    found = []
    for bucket in buckets:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            found += [
                (bucket, v["Key"], v["VersionId"])
                for v in page.get("Versions", [])
                if token in v["Key"] or v["Key"].startswith("_manifests/")
            ]
    return sorted(found)


def run(platform: LocalPlatform) -> ScenarioReport:
    out = platform.outputs("etl-layers")
    raw = out["RawBucketName"]
    layers = [out["TrustedBucketName"], out["DeliveryBucketName"], out["QuarantineBucketName"]]
    token = f"demo-{uuid.uuid4().hex[:6]}"
    rng = random.Random(7)
    files = {
        f"transactions/loja-42/{token}/vendas março.csv": _sales_csv(rng, rng.randrange(10**9)),
        f"payments/adquirente/{token}/pix 2024-03-01.ndjson": _payments_ndjson(rng, token),
        f"payments/adquirente/{token}/cartões.xlsx": _payments_xlsx(token),
        f"transactions/loja-42/{token}/vazio.csv": b"",
    }
    s3 = platform.client("s3")
    for key, body in files.items():
        s3.put_object(Bucket=raw, Key=key, Body=body)

    report = ScenarioReport(
        service="etl-layers",
        came_in={"RAW csv": 2, "RAW ndjson": 1, "RAW xlsx": 1},
    )
    report.expect(platform.wait_idle(120), "the platform did not go idle within 120 s")
    events = [
        e.data
        for e in platform.bus_events()
        if e.type == PUBLISHED and token in (e.subject or "") and e.data
    ]
    by_format = {e["source"]["format"]: e["rows"] for e in events}
    report.went_out = dict(Counter(PUBLISHED for _ in events))
    report.went_out["TRUSTED rows"] = sum(e["rows"]["out"] for e in events)
    report.went_out["TRUSTED partitions"] = sum(len(e["partitions"]["trusted"]) for e in events)
    report.went_out["DELIVERY objects"] = sum(len(e["outputs"]["delivery"]) for e in events)
    report.went_out["duplicates dropped"] = sum(e["rows"]["duplicates"] for e in events)
    quarantine = s3.list_objects_v2(Bucket=layers[2]).get("Contents", [])
    report.quarantined = {
        "rows": sum(e["rows"]["quarantined"] for e in events),
        "whole files": sum(
            o["Key"].endswith("reason.json") and token in _source(s3, layers[2], o["Key"])
            for o in quarantine
        ),
    }
    expected = {
        "csv": {"in": 43, "out": 40, "quarantined": 2, "duplicates": 1},
        "ndjson": {"in": 31, "out": 29, "quarantined": 1, "duplicates": 1},
        "xlsx": {"in": 5, "out": 5, "quarantined": 0, "duplicates": 0},
    }
    report.expect(len(events) == 3, f"expected 3 {PUBLISHED} events, saw {len(events)}")
    for fmt, rows in expected.items():
        report.expect(
            by_format.get(fmt) == rows, f"{fmt}: expected rows {rows}, saw {by_format.get(fmt)}"
        )
    report.expect(report.quarantined["whole files"] == 1, "the empty file was not quarantined")
    report.sent_on_purpose(
        "2 unreadable sales amounts, 1 payment method nobody declared",
        f"QUARANTINE {layers[2]}/<dataset>/rows/: {report.quarantined['rows']} rows",
    )
    report.sent_on_purpose(
        "1 empty file",
        f"QUARANTINE {layers[2]}/<dataset>/files/: {report.quarantined['whole files']} file",
    )

    glue = platform.client("glue")
    registered = glue.get_partitions(
        DatabaseName=out["GlueDatabaseName"], TableName="payments_trusted"
    )["Partitions"]
    report.expect(
        {("2024", "03", "01"), ("2024", "03", "02")} <= {tuple(p["Values"]) for p in registered},
        "payments partitions missing from the Glue catalog",
    )

    before = _snapshot(platform, layers, token)
    sales = next(k for k in files if k.endswith(".csv") and files[k])
    s3.put_object(Bucket=raw, Key=sales, Body=files[sales])
    report.came_in["RAW csv (uploaded again)"] = 1
    report.expect(platform.wait_idle(120), "the platform did not go idle after the re-upload")
    report.expect(
        _snapshot(platform, layers, token) == before,
        "uploading the same file again changed TRUSTED, DELIVERY or QUARANTINE",
    )
    again = [e for e in platform.bus_events() if e.type == PUBLISHED and token in (e.subject or "")]
    report.expect(len(again) == 3, "uploading the same file again published another event")
    return report


def _source(s3: Any, bucket: str, key: str) -> str:
    return str(json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).get("source"))
