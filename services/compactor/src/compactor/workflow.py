"""The compactor's steps, one per state of the workflow: plan, compact a range, finalize,
release. Each is idempotent: run again with the same input it writes the same keys.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from rocket_contracts.models.compactor.domain_processed_v1 import CompactorDomainProcessedV1
from rocket_contracts.scratch import scratch_dir, sweep

from compactor import layout
from compactor.compaction import (
    CaseConflictError,
    EngineLimits,
    RangeLines,
    RangeParseError,
    compact,
    conform,
)
from compactor.domains import DomainCatalog, DomainSpec
from compactor.ducktypes import DuckType, Schema, parse
from compactor.exact_numbers import Leaf
from compactor.fetching import fetched_in_order
from compactor.landing import UnreadableObjectError, lines_of
from compactor.landing_copy import LandingCopy
from compactor.locks import DayLocks, lock_key
from compactor.observability import logger, metrics
from compactor.planning import ManifestEntry, Plan, plan_day
from compactor.ports import (
    Catalog,
    CountMismatchError,
    FieldLostError,
    IncompleteRangesError,
    ObjectStore,
    Publisher,
    ViolationReport,
    Violations,
)
from compactor.schema import (
    Column,
    changes,
    columns_of,
    parquet_name,
    schema_hash,
    table_columns,
    unify,
)
from compactor.screening import CONTRACT_REASONS, Screened, Screener
from compactor.steps import Finalized, FinalizeTask, Job, Outcome, Planned, RangeDone, RangeTask


@dataclass(frozen=True)
class Way:
    """How a range is screened: fast (msgspec), exact (orjson), or strict (exact, and field
    names DuckDB cannot make one table of set aside, `spellings` saying which case is kept)."""

    fast: bool = True
    strict: bool = False
    spellings: dict[tuple[str, ...], str] = dataclasses.field(default_factory=dict)
    why: str = ""

    @property
    def name(self) -> str:
        return "fast" if self.fast else "strict" if self.strict else "exact"


# The ways a range is screened, in the order it may take them: fast, then exact when the chunk
# check flags what the fast way skips, then strict when the parse fails, then strict with the
# spellings to keep when records spell a field in more than one way.
_EXACT = Way(
    fast=False,
    why="a field that is not declared holds invalid UTF-8, a number past a double's range or "
    "an integer past BIGINT's",
)
_STRICT = Way(
    fast=False,
    strict=True,
    why="its lines do not parse into one table (field names empty, repeated in a record, or "
    "differing only by case)",
)
_MAX_PASSES = 4

# A range's (and a conform's) local directory under the work dir.
SCRATCH_PREFIX = "compactor-scratch-"
# The tag a landing object gets once its day's output is verified: <day>/<plan id>.
COMPACTED_TAG = "rocket:compacted"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CompactorConfig:
    landing_bucket: str
    lake_bucket: str
    glue_database: str
    work_dir: Path = Path("/tmp")
    limits: EngineLimits = dataclasses.field(default_factory=EngineLimits)
    fetch_concurrency: int = 32
    # More ranges than this go to the Distributed Map (their indices read from S3), so the
    # plan's payload stays far under Step Functions' 256 KB.
    inline_map_max_ranges: int = 1000
    # Longer than a whole execution: a live owner never loses its lock to a takeover.
    lock_ttl: timedelta = timedelta(hours=2)


@dataclass(frozen=True)
class RangeResult:
    """What one range wrote; kept in S3 next to the manifest, read by finalize."""

    index: int
    key: str | None
    bytes: int
    rows: int
    lines: int
    rejected: int
    reasons: dict[str, int]
    quarantine_key: str | None
    # The file's columns as DuckDB reads them back (name, type text); None without a file.
    columns: tuple[tuple[str, str], ...] | None
    # Its integer leaves (a column, or the path to a field inside one) holding a value a
    # double does not hold exactly (past 2^53).
    wide_integers: tuple[Leaf, ...] = ()

    @property
    def schema(self) -> list[tuple[str, DuckType]] | None:
        if self.columns is None:
            return None
        return [(name, parse(kind)) for name, kind in self.columns]

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "key": self.key,
            "bytes": self.bytes,
            "rows": self.rows,
            "lines": self.lines,
            "rejected": self.rejected,
            "reasons": self.reasons,
            "quarantine_key": self.quarantine_key,
            "columns": None if self.columns is None else [list(c) for c in self.columns],
            "wide_integers": [list(leaf) for leaf in self.wide_integers],
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> RangeResult:
        columns = body.get("columns")
        return cls(
            index=int(body["index"]),
            key=body.get("key"),
            bytes=int(body["bytes"]),
            rows=int(body["rows"]),
            lines=int(body["lines"]),
            rejected=int(body["rejected"]),
            reasons={str(k): int(v) for k, v in dict(body.get("reasons") or {}).items()},
            quarantine_key=body.get("quarantine_key"),
            columns=None if columns is None else tuple((str(n), str(t)) for n, t in columns),
            wide_integers=tuple(
                tuple(str(step) for step in leaf) for leaf in body.get("wide_integers") or ()
            ),
        )


def output_hash(files: Sequence[tuple[str, int]]) -> str:
    digest = hashlib.sha256()
    for uri, size in sorted(files):
        digest.update(f"{uri}\t{size}\n".encode())
    return digest.hexdigest()


class Compactor:
    def __init__(
        self,
        *,
        domains: DomainCatalog,
        store: ObjectStore,
        catalog: Catalog,
        publisher: Publisher,
        config: CompactorConfig,
        clock: Callable[[], datetime] = utc_now,
        violations: Violations | None = None,
    ) -> None:
        self.domains = domains
        self.violations = violations
        self.store = store
        self.catalog = catalog
        self.publisher = publisher
        self.config = config
        self.clock = clock
        self.locks = DayLocks(store, config.lake_bucket, config.lock_ttl)

    # --- plan -------------------------------------------------------------------------------

    def plan(self, job: Job) -> Planned:
        """Take the day's lock, then decide: already done, nothing there, or the ranges."""
        spec = self.domains.get(job.domain)
        day = job.date.isoformat()
        state = self.locks.acquire(lock_key(job.domain, day), job.execution, self.clock())
        if not state.acquired:
            logger.info(
                "day busy: another execution holds its lock",
                extra={"domain": job.domain, "date": day, "holder": state.holder},
            )
            return Planned(outcome=Outcome.BUSY, holder=state.holder)
        if not job.force and self.store.read_json(
            self.config.lake_bucket, layout.marker_key(job.domain, day)
        ):
            logger.info("day already compacted", extra={"domain": job.domain, "date": day})
            return Planned(outcome=Outcome.DONE)
        listed = self.store.list_objects(self.config.landing_bucket, spec.day_prefix(job.date))
        plan = plan_day(spec, job.date, listed)
        if plan.skipped:
            # Not a failure (the day's JSON objects are compacted), but nothing else of the
            # day is, and it must not go unsaid: a sink writing Avro lands nothing here.
            logger.warning(
                "objects of the day not compacted: only .json and .json.gz objects with bytes are",
                extra={"domain": job.domain, "date": day, "skipped": plan.skipped},
            )
            # Data in another format is what the alarm is for; an empty object or a marker
            # such as _SUCCESS is not.
            other_formats = sum(n for kind, n in plan.skipped.items() if kind.startswith("."))
            if other_formats:
                metrics.add_metric(name="ObjectsNotCompacted", unit="Count", value=other_formats)
        if not plan.ranges:
            return Planned(outcome=Outcome.EMPTY)
        key = layout.manifest_key(job.domain, day, plan.plan_id)
        self.store.put_json(self.config.lake_bucket, key, plan.to_json())
        count = len(plan.ranges)
        distributed = count > self.config.inline_map_max_ranges
        ranges_key = layout.ranges_key(key)
        self.store.put_bytes(self.config.lake_bucket, ranges_key, orjson.dumps(list(range(count))))
        logger.info(
            "day planned",
            extra={
                "domain": job.domain,
                "date": day,
                "plan_id": plan.plan_id,
                "files": plan.files,
                "bytes": plan.bytes,
                "ranges": count,
                "map": "distributed" if distributed else "inline",
            },
        )
        return Planned(
            outcome=Outcome.PLANNED,
            plan_id=plan.plan_id,
            manifest_key=key,
            ranges=[] if distributed else list(range(count)),
            range_count=count,
            ranges_key=ranges_key,
            distributed=distributed,
            files=plan.files,
            bytes=plan.bytes,
        )

    # --- compact one range ------------------------------------------------------------------

    def _read_plan(self, key: str) -> Plan:
        found = self.store.read_json(self.config.lake_bucket, key)
        if found is None:
            raise IncompleteRangesError(
                f"no manifest at {layout.uri(self.config.lake_bucket, key)}"
            )
        return Plan.from_json(found[0])

    def _scratch(self) -> AbstractContextManager[Path]:
        """A scratch directory, after removing those of invocations that were killed (Lambda
        keeps /tmp for the next invocation of the same environment)."""
        swept = sweep(self.config.work_dir, SCRATCH_PREFIX)
        if swept.directories:
            logger.warning(
                "removed the scratch directories of invocations that ended without removing them",
                extra={"directories": swept.directories, "bytes": swept.bytes},
            )
        return scratch_dir(self.config.work_dir, SCRATCH_PREFIX)

    def _fetch(self, entries: Sequence[ManifestEntry]) -> Iterator[tuple[str, bytes]]:
        bucket = self.config.landing_bucket

        def get(entry: ManifestEntry) -> bytes:
            return self.store.get_bytes(bucket, entry.key, etag=entry.etag)

        return fetched_in_order(get, entries, self.config.fetch_concurrency)

    def compact_range(self, task: RangeTask) -> RangeDone:
        job = task.job
        spec = self.domains.get(job.domain)
        plan = self._read_plan(task.manifest_key)
        entries = plan.ranges[task.index]
        day = job.date.isoformat()
        with self._scratch() as scratch:
            # The first pass keeps what it fetches: a pass after it reads no object again.
            copy = LandingCopy(scratch / "landing.bin")
            outcome: Way | RangeResult = Way()
            for attempt in range(_MAX_PASSES):
                assert isinstance(outcome, Way)
                work = scratch / f"pass-{attempt}"
                work.mkdir()
                outcome = self._screen_and_write(spec, plan, task.index, work, day, outcome, copy)
                if isinstance(outcome, RangeResult):
                    break
                # A pass's chunk files are not needed by the next: the disk holds one range.
                shutil.rmtree(work)
                logger.info(
                    f"range screened again the {outcome.name} way: {outcome.why}",
                    extra={"domain": job.domain, "date": day, "range": task.index},
                )
            # Each way comes after the one before (fast, exact, strict, strict with spellings).
            assert isinstance(outcome, RangeResult)
            result = outcome
        self.store.put_json(
            self.config.lake_bucket,
            layout.result_key(task.manifest_key, task.index),
            result.to_json(),
        )
        metrics.add_metric(name="RecordsCompacted", unit="Count", value=result.rows)
        metrics.add_metric(name="RecordsQuarantined", unit="Count", value=result.rejected)
        logger.info(
            "range compacted",
            extra={
                "domain": job.domain,
                "date": day,
                "range": task.index,
                "files": len(entries),
                "rows": result.rows,
                "rejected": result.rejected,
            },
        )
        return RangeDone(index=task.index, rows=result.rows, rejected=result.rejected)

    def _screen_and_write(
        self,
        spec: DomainSpec,
        plan: Plan,
        index: int,
        work: Path,
        day: str,
        way: Way,
        copy: LandingCopy,
    ) -> RangeResult | Way:
        """The range screened `way` and written, or the next way to screen it when this one
        cannot (nothing is written then). Its objects come from `copy` once a pass kept them
        all, else from the landing bucket, kept as they pass."""
        screener = Screener(spec.fields, fast=way.fast, strict=way.strict, spellings=way.spellings)
        screened = Screened()
        fetched = copy.objects() if copy.whole else copy.through(self._fetch(plan.ranges[index]))

        def readable() -> Iterator[tuple[str, bytes]]:
            for key, data in fetched:
                try:
                    yield key, lines_of(key, data)
                except UnreadableObjectError as unreadable:
                    screened.reject_object(key, unreadable.reason)

        with RangeLines(work, self.config.limits, check_skipped=way.fast) as lines:
            screener.screen_files(readable(), lines, screened)
            if way.fast and lines.exact_needed:
                return _EXACT
            try:
                return self._write_range(spec, plan, index, screened, lines, work, day)
            except CaseConflictError as conflict:
                if way.spellings:
                    raise  # the lines spelt otherwise were set aside
                return Way(
                    fast=False,
                    strict=True,
                    spellings=conflict.spellings,
                    why=f"{conflict}; the records that spell them otherwise are set aside",
                )
            except RangeParseError:
                if way.strict:
                    raise
                return _STRICT

    def _write_range(
        self,
        spec: DomainSpec,
        plan: Plan,
        index: int,
        screened: Screened,
        lines: RangeLines,
        work: Path,
        day: str,
    ) -> RangeResult:
        lake = self.config.lake_bucket
        written, parquet = None, work / "part.parquet"
        if screened.passed:
            # Parsed before anything is stored: a range another way screens again leaves
            # nothing behind.
            written = compact(lines, parquet, spec.fields, work_dir=work, limits=self.config.limits)
        quarantine = None
        if screened.rejections:
            quarantine = layout.quarantine_key(spec.name, day, index, plan.plan_id)
            body = b"".join(orjson.dumps(r.to_json()) + b"\n" for r in screened.rejections)
            self.store.put_bytes(lake, quarantine, body)
        key, size, rows, columns = None, 0, 0, None
        wide: tuple[Leaf, ...] = ()
        if written is not None:
            if written.rows != screened.passed:
                raise CountMismatchError(
                    f"range {index}: {screened.passed} records in, {written.rows} rows out"
                )
            # Every field any record has (as detected over every record) is a column.
            lost = {parquet_name(name) for name, _ in lines.schema()} - written.names
            if lost:
                raise FieldLostError(f"range {index}: fields {sorted(lost)} are not columns")
            key = layout.part_key(spec.name, day, index, plan.plan_id)
            self.store.upload(parquet, lake, key)
            size, rows, columns = parquet.stat().st_size, written.rows, written.columns
            wide = written.wide_integers
        return RangeResult(
            index=index,
            key=key,
            bytes=size,
            rows=rows,
            lines=screened.lines,
            rejected=screened.rejected,
            reasons=dict(screened.reasons),
            quarantine_key=quarantine,
            columns=columns,
            wide_integers=wide,
        )

    # --- finalize ---------------------------------------------------------------------------

    def finalize(self, task: FinalizeTask) -> Finalized:
        job, planned = task.job, task.planned
        if planned.outcome is Outcome.PLANNED:
            data = self._commit(job, planned)
            self._report_violations(job, planned, data)
        elif planned.outcome is Outcome.DONE:
            data = self._already_compacted(job)
        else:
            data = self._no_input(job)
        event = CompactorDomainProcessedV1.model_validate(data)
        self.publisher.publish(
            event, correlation_id=job.correlation_id, subject=f"{job.domain}/{job.date}"
        )
        self.release(job)
        logger.info(
            "domain processed",
            extra={
                "domain": job.domain,
                "date": str(job.date),
                "status": data["status"],
                "records": data["output"]["records"],
            },
        )
        return Finalized(
            status=str(data["status"]),
            files=len(data["output"]["files"]),
            records=int(data["output"]["records"]),
            rejected=int(data["output"].get("rejected_records", 0)),
        )

    def _report_violations(self, job: Job, planned: Planned, data: dict[str, Any]) -> None:
        """Records that break the declared fields are quarantined and the rest of the day is
        published; the producers hear of them through the violations queue, once per plan,
        before the event (a failed send fails the step before anything is published)."""
        quarantine = data.get("quarantine") or {}
        reasons = {
            reason: int(n)
            for reason, n in (quarantine.get("reasons") or {}).items()
            if reason.startswith(CONTRACT_REASONS)
        }
        if not reasons:
            return
        assert planned.plan_id is not None  # PLANNED always carries it
        report = ViolationReport(
            domain=job.domain,
            date=job.date.isoformat(),
            plan_id=planned.plan_id,
            request_id=job.request_id,
            records=sum(reasons.values()),
            reasons=reasons,
            location=str(quarantine["location"]),
        )
        metrics.add_metric(name="SchemaViolations", unit="Count", value=report.records)
        logger.warning("records break the declared fields", extra=report.to_json())
        if self.violations is not None:
            self.violations.report(report)

    def _read_results(self, planned: Planned) -> list[RangeResult]:
        assert planned.manifest_key is not None  # PLANNED always carries it
        results = []
        for index in planned.indices:
            found = self.store.read_json(
                self.config.lake_bucket, layout.result_key(planned.manifest_key, index)
            )
            if found is None:
                raise IncompleteRangesError(
                    f"range {index} of {planned.manifest_key} has no result"
                )
            results.append(RangeResult.from_json(found[0]))
        return results

    def _check_counts(self, results: Sequence[RangeResult], schema: Schema) -> None:
        lake = self.config.lake_bucket
        for r in results:
            if r.lines != r.rows + r.rejected:
                raise CountMismatchError(
                    f"range {r.index}: {r.lines} lines in, "
                    f"{r.rows} rows + {r.rejected} set aside out"
                )
            # A file still to be conformed is checked by its row count when it is read.
            conformed = r.schema == list(schema)
            if r.key is not None and conformed and self.store.size_of(lake, r.key) != r.bytes:
                raise CountMismatchError(
                    f"range {r.index}: {layout.uri(lake, r.key)} is not the file the range wrote"
                )

    def _conform(
        self, manifest: str, results: list[RangeResult], schema: Schema
    ) -> list[RangeResult]:
        """Rewrite the files whose schema is not the day's, one at a time. The file is
        replaced before its result is: after a crash between the two, the retry conforms the
        file again (a no-op cast) and checks its rows again."""
        lake = self.config.lake_bucket
        out: list[RangeResult] = []
        for r in results:
            if r.key is None or r.schema is None or r.schema == list(schema):
                out.append(r)
                continue
            with self._scratch() as scratch:
                src, dest = scratch / "in.parquet", scratch / "out.parquet"
                self.store.download(lake, r.key, src)
                written = conform(src, dest, schema, work_dir=scratch, limits=self.config.limits)
                if written.rows != r.rows:
                    raise CountMismatchError(
                        f"range {r.index}: {r.rows} rows before conforming, {written.rows} after"
                    )
                self.store.upload(dest, lake, r.key)
                size = dest.stat().st_size
            conformed = dataclasses.replace(r, bytes=size, columns=written.columns)
            self.store.put_json(lake, layout.result_key(manifest, r.index), conformed.to_json())
            out.append(conformed)
        return out

    def _commit(self, job: Job, planned: Planned) -> dict[str, Any]:
        assert planned.manifest_key is not None
        spec = self.domains.get(job.domain)
        day = job.date.isoformat()
        lake = self.config.lake_bucket
        self.locks.renew(lock_key(job.domain, day), job.execution, self.clock())
        results = self._read_results(planned)
        schema = unify(
            [r.schema for r in results if r.schema is not None],
            {leaf for r in results for leaf in r.wide_integers},
        )
        self._check_counts(results, schema)
        results = self._conform(planned.manifest_key, results, schema)
        columns = columns_of(schema)
        table = self._register(spec, day, columns)
        written = {r.key for r in results if r.key is not None}
        quarantined = {r.quarantine_key for r in results if r.quarantine_key is not None}
        self._drop_stale(layout.partition_prefix(spec.name, day), written)
        self._drop_stale(layout.quarantine_prefix(spec.name, day), quarantined)
        self._tag_sources(planned.manifest_key, day)
        data = self._event(job, spec, planned, results, columns, table)
        self.store.put_json(lake, layout.marker_key(spec.name, day), data)
        return data

    def _register(self, spec: DomainSpec, day: str, columns: list[Column]) -> list[dict[str, str]]:
        """Set the table's columns and the day's partition; the changes against the table."""
        lake, database = self.config.lake_bucket, self.config.glue_database
        before = self.catalog.table_columns(database, spec.name)
        found = changes(before, columns)
        self.catalog.put_table(
            database,
            spec.name,
            table_columns(before, columns),
            layout.uri(lake, layout.table_prefix(spec.name)),
        )
        self.catalog.put_partition(
            database,
            spec.name,
            day,
            columns,
            layout.uri(lake, layout.partition_prefix(spec.name, day)),
        )
        if found:
            metrics.add_metric(name="SchemaChanges", unit="Count", value=len(found))
            logger.info(
                "schema changed",
                extra={"domain": spec.name, "date": day, "changes": [c.to_json() for c in found]},
            )
        return [c.to_json() for c in found]

    def _tag_sources(self, manifest_key: str, day: str) -> None:
        """Mark every landing object of the plan `rocket:compacted = <day>/<plan id>` (the plan
        id names the output files), now that the output is verified and registered. Objects
        are never deleted here: the landing lifecycle expires them, so a day can be compacted
        again from its input. Already tagged objects are read, not written again."""
        plan = self._read_plan(manifest_key)
        value = f"{day}/{plan.plan_id}"
        landing = self.config.landing_bucket

        def tag(entry: ManifestEntry) -> bool:
            return self.store.tag(landing, entry.key, {COMPACTED_TAG: value})

        entries = [entry for entries in plan.ranges for entry in entries]
        with ThreadPoolExecutor(max_workers=self.config.fetch_concurrency) as pool:
            tagged = sum(pool.map(tag, entries))
        metrics.add_metric(name="SourcesTagged", unit="Count", value=tagged)
        logger.info(
            "landing objects tagged as compacted",
            extra={"tag": f"{COMPACTED_TAG}={value}", "objects": len(entries), "written": tagged},
        )

    def _drop_stale(self, prefix: str, keep: set[str]) -> None:
        """Delete what an earlier compaction of the day (other input, other plan id) left, so
        the partition holds this compaction's files only. Runs after this one's are verified."""
        lake = self.config.lake_bucket
        for obj in list(self.store.list_objects(lake, prefix)):
            if obj.key not in keep:
                self.store.delete(lake, obj.key)
                logger.info("stale file removed", extra={"key": obj.key})

    def _base(self, job: Job, spec: DomainSpec) -> dict[str, Any]:
        day = job.date.isoformat()
        lake = self.config.lake_bucket
        return {
            "request_id": job.request_id,
            "domain": spec.name,
            "date": day,
            "table": {
                "database": self.config.glue_database,
                "name": spec.name,
                "location": layout.uri(lake, layout.table_prefix(spec.name)),
            },
            "partition": {
                "values": {"dt": day},
                "location": layout.uri(lake, layout.partition_prefix(spec.name, day)),
            },
            "processed_at": self.clock().isoformat(),
        }

    def _source(
        self, spec: DomainSpec, job: Job, files: int, size: int, records: int
    ) -> dict[str, Any]:
        return {
            "bucket": self.config.landing_bucket,
            "prefix": spec.day_prefix(job.date),
            "files": files,
            "bytes": size,
            "records": records,
        }

    def _event(
        self,
        job: Job,
        spec: DomainSpec,
        planned: Planned,
        results: Sequence[RangeResult],
        columns: list[Column],
        schema_changes: list[dict[str, str]],
    ) -> dict[str, Any]:
        lake = self.config.lake_bucket
        written = [r for r in results if r.key is not None]
        files: list[dict[str, Any]] = [
            {"uri": layout.uri(lake, str(r.key)), "bytes": r.bytes, "records": r.rows}
            for r in written
        ]
        rejected = sum(r.rejected for r in results)
        reasons: dict[str, int] = {}
        for r in results:
            for reason, count in r.reasons.items():
                reasons[reason] = reasons.get(reason, 0) + count
        data: dict[str, Any] = {
            **self._base(job, spec),
            "status": "COMPACTED",
            "source": self._source(
                spec, job, planned.files, planned.bytes, sum(r.lines for r in results)
            ),
            "output": {
                "files": files,
                "records": sum(f["records"] for f in files),
                "bytes": sum(f["bytes"] for f in files),
                "rejected_records": rejected,
            },
            "columns": [c.to_json() for c in columns],
            "schema_changes": schema_changes,
            "schema_hash": schema_hash(columns),
            "output_hash": output_hash([(layout.uri(lake, str(r.key)), r.bytes) for r in written]),
        }
        if rejected:
            data["quarantine"] = {
                "records": rejected,
                "location": layout.uri(
                    lake, layout.quarantine_prefix(spec.name, job.date.isoformat())
                ),
                "reasons": reasons,
            }
        return data

    def _already_compacted(self, job: Job) -> dict[str, Any]:
        spec = self.domains.get(job.domain)
        found = self.store.read_json(
            self.config.lake_bucket, layout.marker_key(spec.name, job.date.isoformat())
        )
        if found is None:  # the marker went away between plan and finalize: nothing to show
            raise IncompleteRangesError(f"{spec.name} {job.date}: planned as done but no marker")
        base = self._base(job, spec)
        return {
            **found[0],
            "status": "ALREADY_COMPACTED",
            "request_id": base["request_id"],
            "processed_at": base["processed_at"],
        }

    def _no_input(self, job: Job) -> dict[str, Any]:
        spec = self.domains.get(job.domain)
        return {
            **self._base(job, spec),
            "status": "NO_INPUT",
            "source": self._source(spec, job, 0, 0, 0),
            "output": {"files": [], "records": 0, "bytes": 0, "rejected_records": 0},
            "columns": [],
            "schema_changes": [],
            "schema_hash": schema_hash([]),
            "output_hash": output_hash([]),
        }

    # --- release ----------------------------------------------------------------------------

    def release(self, job: Job) -> bool:
        """Give the day's lock back (also the failure path's step): True if it was ours."""
        return self.locks.release(lock_key(job.domain, job.date.isoformat()), job.execution)
