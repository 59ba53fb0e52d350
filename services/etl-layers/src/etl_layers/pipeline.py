"""Process one RAW object through the layers: the service's one use case.

Effects are idempotent per object version (bucket, key, ETag): every output name is derived
from them, so a redelivered message rewrites the same objects. A manifest written last marks
the version done; a version whose manifest exists is skipped. The manifest is written after
the event is published, so a crash in between republishes (at-least-once) rather than losing
the event.

The TRUSTED days a file writes are locked (`locks.py`) from before they are read for dedupe
until the manifest is written, so files of the same day go one at a time: no key is written
twice, and each day's summary is recomputed over every row the day has.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any

from rocket_contracts.bus import payload
from rocket_contracts.edge import key_problem, segment_problem
from rocket_contracts.models.etl.delivery_published_v1 import (
    Column,
    Columns,
    DeliveryItem,
    DeliveryItem1,
    EtlDeliveryPublishedV1,
    Outputs,
    Partitions,
    QuarantineItem,
    Rows,
    Source,
    Table,
    TrustedItem,
    TrustedItem1,
)
from rocket_contracts.scratch import scratch_dir, sweep

from etl_layers.datasets import DatasetCatalog, DatasetSpec, UnknownDatasetError
from etl_layers.events import RawObject
from etl_layers.locks import LockPolicy, PartitionLocks
from etl_layers.observability import logger, metrics
from etl_layers.ports import Catalog, ObjectChangedError, ObjectStore, PartitionSpec, Publisher
from etl_layers.readers import UnreadableFileError, detect_format
from etl_layers.transform import (
    EngineLimits,
    TransformRequest,
    TransformResult,
    delivery_columns,
    transform,
    trusted_columns,
)

UNROUTED = "_unrouted"
# One object's local directory (its raw file, the engine's spill) under the work dir.
SCRATCH_PREFIX = "etl-scratch-"
# SNS takes 256 KB; past this the event's lists are cut (the manifest keeps them whole).
MAX_EVENT_BYTES = 200_000
KEPT_WHEN_TRUNCATED = 100
DEFAULT_LIMITS = EngineLimits()
DEFAULT_LOCKS = LockPolicy()


class Status(StrEnum):
    PUBLISHED = "published"
    NO_ROWS = "no_rows"
    FILE_QUARANTINED = "file_quarantined"
    ALREADY_DONE = "already_done"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class Outcome:
    status: Status
    stem: str
    event: EtlDeliveryPublishedV1 | None = None
    reason: str | None = None
    # How the file was read (e.g. the day/month order of each date column), for the manifest.
    read: dict[str, Any] | None = None


@dataclass(frozen=True)
class PipelineConfig:
    trusted_bucket: str
    delivery_bucket: str
    quarantine_bucket: str
    glue_database: str
    work_dir: Path
    pipeline_version: str
    limits: EngineLimits = DEFAULT_LIMITS
    locks: LockPolicy = DEFAULT_LOCKS


class _DoneMeanwhileError(Exception):
    """Another delivery of the same object finished while this one waited for its locks."""


def stem_for(obj: RawObject) -> str:
    """Deterministic output name of one object version: readable name + hash of its identity."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", PurePosixPath(obj.key).stem).strip("_.")[:80]
    digest = hashlib.sha256(f"{obj.bucket}\n{obj.key}\n{obj.etag}".encode()).hexdigest()[:16]
    return f"{name or 'object'}-{digest}"


def _local_name(key: str) -> str:
    # S3 takes a segment of up to 1024 bytes, a file system 255 (and readers add suffixes such
    # as `.lf`): a long name is downloaded as `object<suffix>`, the suffix naming its format.
    name = PurePosixPath(key).name
    if name and len(name.encode("utf-8")) <= 128:
        return name
    return "object" + PurePosixPath(key).suffix[:16]


def trusted_table(dataset: str) -> str:
    return f"{dataset}_trusted"


def delivery_table(dataset: str) -> str:
    return f"{dataset}_delivery"


def _partition_values(partition: str) -> tuple[str, ...]:
    return tuple(part.split("=", 1)[1] for part in partition.split("/"))


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _lock_names(dataset: str, partitions: Sequence[str]) -> list[str]:
    return [f"{dataset}/{partition}" for partition in partitions]


class Pipeline:
    def __init__(
        self,
        *,
        datasets: DatasetCatalog,
        store: ObjectStore,
        catalog: Catalog,
        publisher: Publisher,
        config: PipelineConfig,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.datasets = datasets
        self.store = store
        self.catalog = catalog
        self.publisher = publisher
        self.config = config
        self.clock = clock

    def manifest_key(self, dataset: str, stem: str) -> str:
        return f"_manifests/{dataset}/{stem}.json"

    def process(self, obj: RawObject, *, correlation_id: str | None = None) -> Outcome:
        stem = stem_for(obj)
        correlation = correlation_id or f"raw-{stem.rsplit('-', 1)[1]}"
        logger.append_keys(correlation_id=correlation, raw_key=obj.key, stem=stem)
        # An unsafe key routes nowhere: `ds/../x` must not count as dataset `ds`.
        unsafe = key_problem(obj.key) is not None
        try:
            spec: DatasetSpec | None = None if unsafe else self.datasets.route(obj.key)
        except UnknownDatasetError:
            spec = None
        dataset = spec.name if spec else UNROUTED
        manifest = self.manifest_key(dataset, stem)
        if self.store.exists(self.config.trusted_bucket, manifest):
            logger.info("raw object already processed")
            return Outcome(Status.ALREADY_DONE, stem)
        swept = sweep(self.config.work_dir, SCRATCH_PREFIX)
        if swept.directories:
            logger.warning(
                "removed the scratch directories of invocations that ended without removing them",
                extra={"directories": swept.directories, "bytes": swept.bytes},
            )
        locks = PartitionLocks(
            self.store,
            self.config.trusted_bucket,
            owner=stem,
            clock=self.clock,
            policy=self.config.locks,
        )
        try:
            with scratch_dir(self.config.work_dir, SCRATCH_PREFIX) as workdir, locks:
                outcome = self._process(obj, spec, stem, correlation, workdir, locks)
                if outcome.status is not Status.SUPERSEDED:
                    self.store.put_json(
                        self.config.trusted_bucket,
                        manifest,
                        {
                            "status": outcome.status.value,
                            "reason": outcome.reason,
                            "event": None if outcome.event is None else payload(outcome.event),
                            "read": outcome.read,
                        },
                    )
        except _DoneMeanwhileError:
            logger.info("raw object processed by another delivery meanwhile")
            outcome = Outcome(Status.ALREADY_DONE, stem)
        metrics.add_metric(name=f"Objects_{outcome.status.value}", unit="Count", value=1)
        return outcome

    def _process(
        self,
        obj: RawObject,
        spec: DatasetSpec | None,
        stem: str,
        correlation: str,
        workdir: Path,
        locks: PartitionLocks,
    ) -> Outcome:
        if spec is None:
            problem = key_problem(obj.key)
            reason = (
                "no dataset declared for this key" if problem is None else f"unsafe key: {problem}"
            )
            return self._quarantine_file(obj, UNROUTED, stem, reason)
        local = workdir / "raw" / _local_name(obj.key)
        try:
            fmt = detect_format(obj.key)
            self.store.download(
                obj.bucket, obj.key, local, etag=obj.etag, version_id=obj.version_id
            )
            result = transform(
                TransformRequest(
                    path=local,
                    format=fmt,
                    spec=spec,
                    stem=stem,
                    source_uri=f"s3://{obj.bucket}/{obj.key}",
                    workdir=workdir / "engine",
                    now=self.clock().replace(tzinfo=None),
                    pipeline_version=self.config.pipeline_version,
                    limits=self.config.limits,
                ),
                existing=lambda partitions: self._existing(spec, stem, partitions, workdir, locks),
            )
        except ObjectChangedError:
            logger.info("raw object replaced since the event; its own event will follow")
            return Outcome(Status.SUPERSEDED, stem)
        except UnreadableFileError as exc:
            return self._quarantine_file(obj, spec.name, stem, exc.reason)
        return self._deliver(obj, spec, stem, correlation, result)

    def _existing(
        self,
        spec: DatasetSpec,
        stem: str,
        partitions: Sequence[str],
        workdir: Path,
        locks: PartitionLocks,
    ) -> list[tuple[str, Path]]:
        """TRUSTED files already in the partitions, except this object's own earlier outputs,
        read once the partitions are locked (and held until the manifest is written)."""
        locks.acquire(_lock_names(spec.name, partitions))
        if self.store.exists(self.config.trusted_bucket, self.manifest_key(spec.name, stem)):
            raise _DoneMeanwhileError
        files = []
        for partition in partitions:
            prefix = f"{spec.name}/{partition}/"
            for key in self.store.list_keys(self.config.trusted_bucket, prefix):
                name = key[len(prefix) :]
                if "/" in name or not name.endswith(".parquet") or name.startswith(stem + "_"):
                    continue
                dest = workdir / "existing" / partition / name
                self.store.download(
                    self.config.trusted_bucket, key, dest, etag=None, version_id=None
                )
                files.append((partition, dest))
        return files

    def _quarantine_file(self, obj: RawObject, dataset: str, stem: str, reason: str) -> Outcome:
        prefix = f"{dataset}/files/{stem}/"
        bucket = self.config.quarantine_bucket
        name = PurePosixPath(obj.key).name
        self.store.copy(
            obj.bucket,
            obj.key,
            bucket,
            prefix + (name if segment_problem(name) is None else "object"),
            version_id=obj.version_id,
        )
        self.store.put_json(
            bucket,
            prefix + "reason.json",
            {
                "source": f"s3://{obj.bucket}/{obj.key}",
                "etag": obj.etag,
                "version_id": obj.version_id,
                "dataset": dataset,
                "reason": reason,
                "quarantined_at": self.clock().isoformat(),
            },
        )
        logger.warning("raw file quarantined", extra={"reason": reason, "dataset": dataset})
        return Outcome(Status.FILE_QUARANTINED, stem, reason=reason)

    def _upload(
        self, result: TransformResult, spec: DatasetSpec, stem: str
    ) -> dict[str, list[str]]:
        cfg = self.config
        uris: dict[str, list[str]] = {"trusted": [], "delivery": [], "quarantine": []}
        for layer, bucket, outputs in (
            ("trusted", cfg.trusted_bucket, result.trusted),
            ("delivery", cfg.delivery_bucket, result.delivery),
        ):
            for output in outputs:
                key = f"{spec.name}/{output.relative}"
                self.store.upload(output.path, bucket, key)
                uris[layer].append(f"s3://{bucket}/{key}")
        if result.quarantine is not None:
            key = f"{spec.name}/rows/{stem}.parquet"
            self.store.upload(result.quarantine, cfg.quarantine_bucket, key)
            uris["quarantine"].append(f"s3://{cfg.quarantine_bucket}/{key}")
        return uris

    def _register(self, spec: DatasetSpec, result: TransformResult) -> None:
        cfg = self.config
        for table, bucket, partitions in (
            (trusted_table(spec.name), cfg.trusted_bucket, result.trusted_partitions),
            (delivery_table(spec.name), cfg.delivery_bucket, result.delivery_partitions),
        ):
            self.catalog.add_partitions(
                cfg.glue_database,
                table,
                [
                    PartitionSpec(_partition_values(p), f"s3://{bucket}/{spec.name}/{p}/")
                    for p in partitions
                ],
            )

    def _deliver(
        self,
        obj: RawObject,
        spec: DatasetSpec,
        stem: str,
        correlation: str,
        result: TransformResult,
    ) -> Outcome:
        uris = self._upload(result, spec, stem)
        self._register(spec, result)
        counts = {
            "rows_in": result.rows_in,
            "rows_out": result.rows_out,
            "rows_quarantined": result.rows_quarantined,
            "rows_duplicates": result.rows_duplicates,
        }
        for name, value in counts.items():
            metrics.add_metric(name=name, unit="Count", value=value)
        log: dict[str, object] = {"dataset": spec.name, **counts, "seconds": result.seconds}
        read = {
            "encoding": result.read.encoding,
            "header_line": result.read.header_line,
            "date_orders": {k: v.describe() for k, v in result.date_orders.items()},
            "decimal": result.decimal.describe(),
        }
        if result.rows_in == 0:
            logger.info("raw file had no rows", extra=log)
            return Outcome(Status.NO_ROWS, stem, read=read)
        event = self._event(obj, spec, stem, result, uris)
        self.publisher.publish(fit_for_sns(event), correlation_id=correlation, subject=obj.key)
        logger.info("delivery published", extra=log)
        return Outcome(Status.PUBLISHED, stem, event=event, read=read)

    def _event(
        self,
        obj: RawObject,
        spec: DatasetSpec,
        stem: str,
        result: TransformResult,
        uris: dict[str, list[str]],
    ) -> EtlDeliveryPublishedV1:
        """The contract's own model, so a field the schema renames or drops fails here (and in
        type checking), not later at the edge of the bus."""
        cfg = self.config
        return EtlDeliveryPublishedV1(
            dataset=spec.name,
            source=Source(
                bucket=obj.bucket,
                key=obj.key,
                etag=obj.etag,
                version_id=obj.version_id,
                size=obj.size,
                format=result.read.format.value,
            ),
            partitions=Partitions(
                trusted=[TrustedItem(p) for p in result.trusted_partitions],
                delivery=[DeliveryItem(p) for p in result.delivery_partitions],
            ),
            # `in` is a Python keyword: the field is only reachable through its alias.
            rows=Rows.model_validate(
                {
                    "in": result.rows_in,
                    "out": result.rows_out,
                    "quarantined": result.rows_quarantined,
                    "duplicates": result.rows_duplicates,
                }
            ),
            mean_quality_score=result.mean_quality_score,
            outputs=Outputs(
                trusted=[TrustedItem1(u) for u in uris["trusted"]],
                delivery=[DeliveryItem1(u) for u in uris["delivery"]],
                quarantine=[QuarantineItem(u) for u in uris["quarantine"]],
                trusted_table=Table(
                    database=cfg.glue_database,
                    name=trusted_table(spec.name),
                    location=f"s3://{cfg.trusted_bucket}/{spec.name}/",
                ),
                delivery_table=Table(
                    database=cfg.glue_database,
                    name=delivery_table(spec.name),
                    location=f"s3://{cfg.delivery_bucket}/{spec.name}/",
                ),
            ),
            columns=Columns(
                trusted=[Column(name=n, type=t) for n, t in trusted_columns(spec)],
                delivery=[Column(name=n, type=t) for n, t in delivery_columns(spec)],
            ),
            manifest=f"s3://{cfg.trusted_bucket}/{self.manifest_key(spec.name, stem)}",
            pipeline_version=cfg.pipeline_version,
            processed_at=self.clock(),
        )


def _size(event: EtlDeliveryPublishedV1) -> int:
    return len(json.dumps(payload(event), separators=(",", ":")).encode())


def fit_for_sns(event: EtlDeliveryPublishedV1) -> EtlDeliveryPublishedV1:
    """`event`, with its output lists (then partition lists) cut if it is too large for SNS."""
    if _size(event) <= MAX_EVENT_BYTES:
        return event
    outputs, partitions = event.outputs, event.partitions
    fitted = event.model_copy(
        update={
            "truncated": True,
            "outputs": outputs.model_copy(
                update={
                    layer: getattr(outputs, layer)[:KEPT_WHEN_TRUNCATED]
                    for layer in ("trusted", "delivery", "quarantine")
                }
            ),
        }
    )
    if _size(fitted) <= MAX_EVENT_BYTES:
        return fitted
    return fitted.model_copy(
        update={
            "partitions": partitions.model_copy(
                update={
                    layer: getattr(partitions, layer)[:KEPT_WHEN_TRUNCATED]
                    for layer in ("trusted", "delivery")
                }
            )
        }
    )
