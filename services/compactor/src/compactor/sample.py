"""A realistic day of Kafka Connect S3 sink output, for the end-to-end test, the demo and the
benchmark: `python -m compactor.sample DIR [--files N]` writes it under DIR.

Files hold 1-20 newline-delimited records (mean ~10.5: 70,000 files make ~735,000 records),
with nested objects and arrays, nullable fields, and about 1% of files drifting (a field
appears, a field is missing, an integer amount becomes a float). `broken_every` puts a broken
line in every n-th file. The orders topic follows Kafka Connect's default partitioner
(`topics/orders/partition=<n>/orders+<n>+<offset>.json`); the clicks topic a time-based one
(`topics/clicks/year=YYYY/month=MM/day=DD/hour=HH/clicks+<n>+<offset>.json`).
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

PARTITIONS = 12
STATUSES = ("PLACED", "PAID", "SHIPPED", "CANCELLED")
PAGES = ("/", "/search", "/product", "/cart", "/checkout")


@dataclass(frozen=True)
class SampleFile:
    key: str
    body: bytes
    records: int
    broken: int


def _clock(rng: random.Random, hour: int) -> str:
    return f"{hour:02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"


def _order(rng: random.Random, n: int, day: date, drift: bool) -> dict[str, Any]:
    items = [
        {
            "sku": f"SKU-{rng.randrange(10_000):05d}",
            "qty": rng.randint(1, 5),
            "price": rng.randint(100, 99_900) / 100,
        }
        for _ in range(rng.randint(1, 4))
    ]
    record: dict[str, Any] = {
        "order_id": f"o-{day:%Y%m%d}-{n:08d}",
        "customer_id": rng.randrange(1, 500_000),
        "amount": rng.randrange(100, 500_000),
        "status": rng.choice(STATUSES),
        "created_at": f"{day.isoformat()}T{_clock(rng, rng.randrange(24))}Z",
        "items": items,
        "shipping": {
            "city": rng.choice(("São Paulo", "Recife", "Curitiba")),
            "zip": f"{rng.randrange(10**8):08d}",
        },
        "note": None if rng.random() < 0.8 else "deixar na portaria",
        # Codes that look like numbers must stay strings (pandas turns "1E6226" into inf).
        "promo_code": f"{rng.randrange(10)}E{rng.randrange(10_000)}",
    }
    if drift:
        kind = rng.randrange(3)
        if kind == 0:
            record["coupon"] = {"code": f"C{rng.randrange(1000)}", "percent": rng.randint(5, 30)}
        elif kind == 1:
            del record["shipping"]
        else:
            record["amount"] = record["amount"] + 0.5
    return record


def _click(rng: random.Random, n: int, day: date, hour: int, drift: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        "event_id": f"c-{day:%Y%m%d}-{n:08d}",
        "session_id": f"s-{rng.randrange(10**6):06d}",
        "occurred_at": f"{day.isoformat()}T{_clock(rng, hour)}.{rng.randrange(1000):03d}Z",
        "page": rng.choice(PAGES),
        "duration_ms": rng.randrange(10, 60_000),
        "device": {
            "os": rng.choice(("android", "ios", "linux")),
            "width": rng.choice((360, 390, 1920)),
        },
    }
    if drift:
        record["experiment"] = {"name": "checkout-v2", "arm": rng.choice(("a", "b"))}
        record["duration_ms"] = None
    return record


def generate(
    topic: str,
    day: date,
    files: int,
    *,
    seed: int = 7,
    drift_rate: float = 0.01,
    broken_every: int = 0,
    max_records: int = 20,
) -> Iterator[SampleFile]:
    rng = random.Random(seed)
    n = 0
    offsets = [0] * PARTITIONS
    for index in range(files):
        partition = index % PARTITIONS
        count = rng.randint(1, max_records)
        drift = rng.random() < drift_rate
        hour = index * 24 // max(files, 1)
        lines = []
        for _ in range(count):
            if topic == "clicks":
                record = _click(rng, n, day, hour, drift)
            else:
                record = _order(rng, n, day, drift)
            lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
            n += 1
        broken = 0
        if broken_every and index % broken_every == broken_every - 1:
            lines.insert(rng.randrange(len(lines) + 1), '{"order_id": "truncated", "amount": 1')
            broken = 1
        start = offsets[partition]
        offsets[partition] += count
        if topic == "clicks":
            prefix = f"topics/{topic}/year={day:%Y}/month={day:%m}/day={day:%d}/hour={hour:02d}/"
        else:
            prefix = f"topics/{topic}/partition={partition}/"
        key = f"{prefix}{topic}+{partition}+{start:019d}.json"
        yield SampleFile(key, ("\n".join(lines) + "\n").encode(), count, broken)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--topic", default="orders", choices=("orders", "clicks"))
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 11, 21))
    parser.add_argument("--files", type=int, default=70_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    records = 0
    for sample in generate(args.topic, args.day, args.files, seed=args.seed):
        path = args.out / sample.key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(sample.body)
        records += sample.records
    print(json.dumps({"files": args.files, "records": records, "out": str(args.out)}))


if __name__ == "__main__":
    main()
