"""Which landing files make a domain's day, and how they are cut into compaction ranges.

Pure functions over listed objects. A plan is the day's files in key order, cut into ranges by
bytes so each range's Parquet file lands near the domain's target size. Its id is a hash of the
files it covers, so the same input always gives the same plan id and the same output names: a
retried step or a re-run of the day overwrites its files instead of adding new ones.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from compactor.domains import DaySource, DomainSpec
from compactor.landing import is_gzipped

_KEY_DAY = re.compile(r"/year=(\d{4})/month=(\d{2})/day=(\d{2})/")
# What a sink writes: JSON lines, or the same gzipped (`s3.compression.type=gzip`).
COMPACTED_SUFFIXES = (".json", ".json.gz")
# A gzipped object counts this many times its size when ranges are cut: JSON lines compress
# about that much, so a range of them lands near the target once read.
GZIP_EXPANSION = 8


@dataclass(frozen=True)
class LandingObject:
    key: str
    size: int
    etag: str
    last_modified: datetime

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "size": self.size, "etag": self.etag}


@dataclass(frozen=True)
class ManifestEntry:
    key: str
    size: int
    etag: str


@dataclass(frozen=True)
class Plan:
    domain: str
    day: date
    plan_id: str
    ranges: tuple[tuple[ManifestEntry, ...], ...]
    # The day's objects that are not compacted, by what their key ends with (`.json.snappy`,
    # `.avro`, or `empty` for an object of no bytes): the Plan step says so, the manifest does
    # not carry them.
    skipped: dict[str, int] = field(default_factory=dict, compare=False)

    @property
    def files(self) -> int:
        return sum(len(r) for r in self.ranges)

    @property
    def bytes(self) -> int:
        return sum(e.size for r in self.ranges for e in r)

    def to_json(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "date": self.day.isoformat(),
            "plan_id": self.plan_id,
            "ranges": [
                [{"key": e.key, "size": e.size, "etag": e.etag} for e in r] for r in self.ranges
            ],
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Plan:
        return cls(
            domain=str(body["domain"]),
            day=date.fromisoformat(str(body["date"])),
            plan_id=str(body["plan_id"]),
            ranges=tuple(
                tuple(ManifestEntry(str(e["key"]), int(e["size"]), str(e["etag"])) for e in r)
                for r in body["ranges"]
            ),
        )


def key_day(key: str) -> date | None:
    """The day in a time-based partitioner's key, or None when the key carries none."""
    match = _KEY_DAY.search(key)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _of_day(spec: DomainSpec, obj: LandingObject, day: date) -> bool:
    if spec.day_source is DaySource.KEY_PATH:
        return key_day(obj.key) == day
    return obj.last_modified.date() == day  # the store reports LastModified in UTC


def belongs_to_day(spec: DomainSpec, obj: LandingObject, day: date) -> bool:
    return obj.key.endswith(COMPACTED_SUFFIXES) and obj.size > 0 and _of_day(spec, obj, day)


_COMPRESSIONS = frozenset({"gz", "bz2", "xz", "zst", "zstd", "snappy", "lz4"})


def _kind(key: str) -> str:
    """What a key ends with, as said of an object that is not compacted: `.json.snappy`,
    `.avro`."""
    parts = key.rsplit("/", 1)[-1].split(".")[1:]
    if not parts:
        return "no suffix"
    kept = parts[-2:] if parts[-1] in _COMPRESSIONS else parts[-1:]
    return "." + ".".join(kept)


def cut_ranges(
    entries: Sequence[ManifestEntry], target_bytes: int
) -> tuple[tuple[ManifestEntry, ...], ...]:
    """Consecutive ranges whose bytes stay at or under the target, except a single file larger
    than the target, which is a range of its own (a file is never split: it is one sink flush)."""
    ranges: list[tuple[ManifestEntry, ...]] = []
    current: list[ManifestEntry] = []
    size = 0
    for entry in entries:
        weight = entry.size * (GZIP_EXPANSION if is_gzipped(entry.key) else 1)
        if current and size + weight > target_bytes:
            ranges.append(tuple(current))
            current, size = [], 0
        current.append(entry)
        size += weight
    if current:
        ranges.append(tuple(current))
    return tuple(ranges)


def plan_id_of(entries: Iterable[ManifestEntry], target_bytes: int) -> str:
    digest = hashlib.sha256(f"target={target_bytes}\n".encode())
    for e in entries:
        digest.update(f"{e.key}\t{e.size}\t{e.etag}\n".encode())
    return digest.hexdigest()[:16]


def plan_day(spec: DomainSpec, day: date, listed: Iterable[LandingObject]) -> Plan:
    entries: list[ManifestEntry] = []
    skipped: Counter[str] = Counter()
    for obj in listed:
        if not _of_day(spec, obj, day):
            continue
        if belongs_to_day(spec, obj, day):
            entries.append(ManifestEntry(obj.key, obj.size, obj.etag))
        else:
            skipped["empty" if obj.key.endswith(COMPACTED_SUFFIXES) else _kind(obj.key)] += 1
    entries.sort(key=lambda e: e.key)
    return Plan(
        domain=spec.name,
        day=day,
        plan_id=plan_id_of(entries, spec.target_bytes),
        ranges=cut_ranges(entries, spec.target_bytes),
        skipped=dict(sorted(skipped.items())),
    )
