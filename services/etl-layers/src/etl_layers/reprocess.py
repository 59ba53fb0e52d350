"""The Glue job `reprocess`: run the ETL transformation over every RAW object under a prefix.

Started through ingest-gate with `--transaction_id`, which becomes the correlation id of every
event it publishes. Objects already processed at the same ETag are skipped (their manifest
exists), so a rerun of the same prefix only processes what is new or changed.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from etl_layers.bootstrap import build
from etl_layers.events import RawObject
from etl_layers.pipeline import Pipeline
from etl_layers.ports import EtlError
from etl_layers.settings import Settings

SETTINGS_ARGUMENTS = (
    "raw_bucket",
    "trusted_bucket",
    "delivery_bucket",
    "quarantine_bucket",
    "event_topic_arn",
    "glue_database",
    "work_dir",
    "duckdb_memory_limit",
    "duckdb_threads",
    "lock_ttl_seconds",
    "lock_wait_seconds",
)


class ReprocessArgumentsError(ValueError):
    """The job was started without what it needs."""


def parse_arguments(argv: Sequence[str]) -> dict[str, str]:
    """Glue passes `--name value` (or `--name=value`) pairs; other tokens are ignored."""
    arguments: dict[str, str] = {}
    pending: str | None = None
    for token in argv:
        if token.startswith("--"):
            name, equals, value = token[2:].partition("=")
            arguments[name] = value
            pending = None if equals else name
        elif pending is not None:
            arguments[pending] = token
            pending = None
    return arguments


@dataclass
class ReprocessReport:
    prefix: str
    statuses: Counter[str] = field(default_factory=Counter)
    failed: dict[str, str] = field(default_factory=dict)


def reprocess(
    pipeline: Pipeline, *, raw_bucket: str, prefix: str, correlation_id: str
) -> ReprocessReport:
    """Process every object under `prefix`; a failing object is reported, the rest go on."""
    report = ReprocessReport(prefix)
    for listed in pipeline.store.list_objects(raw_bucket, prefix):
        if listed.key.endswith("/"):
            continue
        raw = RawObject(raw_bucket, listed.key, listed.etag, size=listed.size)
        try:
            outcome = pipeline.process(raw, correlation_id=correlation_id)
        except EtlError as exc:
            report.failed[listed.key] = str(exc)
            continue
        report.statuses[outcome.status.value] += 1
    return report


def main(argv: Sequence[str], pipeline: Pipeline | None = None) -> int:
    arguments = parse_arguments(argv)
    for required in ("prefix", "transaction_id"):
        if not arguments.get(required):
            raise ReprocessArgumentsError(f"--{required} is required")
    settings = Settings(**{k: arguments[k] for k in SETTINGS_ARGUMENTS if arguments.get(k)})  # type: ignore[arg-type]
    active = pipeline or build(settings)
    report = reprocess(
        active,
        raw_bucket=settings.raw_bucket,
        prefix=arguments["prefix"],
        correlation_id=arguments["transaction_id"],
    )
    print(
        json.dumps(
            {
                "message": "reprocess finished",
                "prefix": report.prefix,
                "statuses": dict(report.statuses),
                "failed": report.failed,
                "transaction_id": arguments["transaction_id"],
            },
            sort_keys=True,
        )
    )
    return 1 if report.failed else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
