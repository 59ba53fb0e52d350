"""Where everything lives in the lake bucket. Names derive from the domain, the day and the
plan id only, so a retried step writes the same keys again."""

from __future__ import annotations

MANIFESTS = "_manifests/"
QUARANTINE = "_quarantine/"
STATE = "_state/"


def table_prefix(domain: str) -> str:
    return f"{domain}/"


def partition_prefix(domain: str, day: str) -> str:
    return f"{domain}/dt={day}/"


def part_key(domain: str, day: str, index: int, plan_id: str) -> str:
    return f"{partition_prefix(domain, day)}part-{index:05d}-{plan_id}.parquet"


def plan_dir(domain: str, day: str, plan_id: str) -> str:
    return f"{MANIFESTS}{domain}/dt={day}/{plan_id}/"


def manifest_key(domain: str, day: str, plan_id: str) -> str:
    return f"{plan_dir(domain, day, plan_id)}plan.json"


def ranges_key(manifest: str) -> str:
    """The plan's range indices as a JSON array: the Distributed Map's items."""
    return f"{manifest.rsplit('/', 1)[0]}/ranges.json"


def result_key(manifest: str, index: int) -> str:
    return f"{manifest.rsplit('/', 1)[0]}/range-{index:05d}.json"


def quarantine_prefix(domain: str, day: str) -> str:
    return f"{QUARANTINE}{domain}/dt={day}/"


def quarantine_key(domain: str, day: str, index: int, plan_id: str) -> str:
    return f"{quarantine_prefix(domain, day)}range-{index:05d}-{plan_id}.ndjson"


def marker_key(domain: str, day: str) -> str:
    """The day's record of its last compaction: the event data it published."""
    return f"{STATE}{domain}/dt={day}.json"


def uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"
