"""The layer transformation of one RAW file, on local disk, in bounded memory.

DuckDB does the work against an on-disk database in the work directory, with a memory limit
and a thread count, so tables larger than the limit spill to disk: peak memory depends on the
limit, not on the file. The outputs are written locally (TRUSTED, DELIVERY, QUARANTINE) with
names derived from `stem`, so the same input always yields the same object names.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from etl_layers import dates, numbers, readers, rules
from etl_layers.datasets import ColumnType, DatasetSpec
from etl_layers.numbers import DecimalStyle
from etl_layers.readers import FileFormat, ReadResult, UnreadableFileError
from etl_layers.sql import lit, q

TRUSTED_LAYER = "TRUSTED"
DELIVERY_LAYER = "DELIVERY"
DETAIL = "DETAIL"
DAILY_SUMMARY = "DAILY_SUMMARY"
# A day's summary has one name whatever file last recomputed it, so a day has one summary.
DAILY_SUMMARY_STEM = "daily_summary"

# Glue/Athena type of each declared type, as written to Parquet. Dates are written as ISO
# strings (yyyy-mm-dd) because the seed's tables declare `date string`.
# The contract's column types (etl.delivery.published.v1 `columns[].type`): type checking
# fails if a declared type maps to one the contract does not have.
GlueType = Literal["bigint", "double", "string", "date", "timestamp", "boolean"]
GLUE_TYPES: dict[ColumnType, GlueType] = {
    ColumnType.STRING: "string",
    ColumnType.BIGINT: "bigint",
    ColumnType.DOUBLE: "double",
    ColumnType.DATE: "string",
    ColumnType.TIMESTAMP: "timestamp",
    ColumnType.BOOLEAN: "boolean",
}
TRUSTED_PARTITION_KEYS = ("year", "month", "day")
DELIVERY_PARTITION_KEYS = ("record_type", "year", "month", "day")
_SUMMARY_COLUMNS: tuple[tuple[str, GlueType], ...] = (
    ("record_count", "bigint"),
    ("total_amount", "double"),
    ("mean_amount", "double"),
    ("min_amount", "double"),
    ("max_amount", "double"),
    ("mean_quality_score", "double"),
)
_ARROW_OF_GLUE: dict[GlueType, pa.DataType] = {"bigint": pa.int64(), "double": pa.float64()}
_SQL_OF_GLUE: dict[GlueType, str] = {
    "string": "VARCHAR",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "timestamp": "TIMESTAMP",
    "boolean": "BOOLEAN",
}


def declared_columns(spec: DatasetSpec) -> list[tuple[str, GlueType]]:
    return [(c.name, GLUE_TYPES[c.type]) for c in spec.columns]


def trusted_columns(spec: DatasetSpec) -> list[tuple[str, GlueType]]:
    """TRUSTED table columns (partition keys year/month/day excluded), in file order."""
    return [
        *declared_columns(spec),
        ("processed_timestamp", "timestamp"),
        ("source_file", "string"),
        ("processing_layer", "string"),
        ("data_quality_score", "double"),
        ("quality_flags", "string"),
    ]


def delivery_columns(spec: DatasetSpec) -> list[tuple[str, GlueType]]:
    """DELIVERY table columns (partition keys record_type/year/month/day excluded)."""
    return [
        *declared_columns(spec),
        ("amount_category", "string"),
        ("day_of_week", "bigint"),
        ("data_quality_score", "double"),
        ("quality_flags", "string"),
        *_SUMMARY_COLUMNS,
        ("delivery_timestamp", "timestamp"),
        ("processing_layer", "string"),
        ("pipeline_version", "string"),
        ("source_file", "string"),
    ]


@dataclass(frozen=True)
class EngineLimits:
    memory_limit: str = "192MB"
    threads: int = 2


DEFAULT_LIMITS = EngineLimits()


BATCH_ROWS = 16 * 1024
ROW_GROUP_ROWS = 64 * 1024
WRITE_MEMORY_LIMIT = "64MB"
# Arrow's allocator keeps freed memory for reuse; handing it back to the system after every
# file cost ~2.5 CPU s over the 732 files of a 10 M-row run, after every 16th it is noise.
RELEASE_EVERY_FILES = 16
# Batches waiting for each layer's encoder: with one, the scan stalled whenever one encoder
# lagged while the other core idled (1.6 of 2 cores busy); four keep both busy (write_layers
# 8.9 s to 7.7 s at 10 M rows) for ~15 MB more at peak (the benchmark: 452-458 MB).
QUEUED_BATCHES = 4


@dataclass(frozen=True)
class LocalOutput:
    """One written file: its path under the layer's table location, and where it is on disk."""

    relative: str
    path: Path

    @property
    def partition(self) -> str:
        return self.relative.rsplit("/", 1)[0]


@dataclass
class TransformResult:
    read: ReadResult
    rows_in: int = 0
    rows_out: int = 0
    rows_quarantined: int = 0
    rows_duplicates: int = 0
    mean_quality_score: float | None = None
    trusted: list[LocalOutput] = field(default_factory=list)
    delivery: list[LocalOutput] = field(default_factory=list)
    quarantine: Path | None = None
    # The day/month order each date column was read in, and what decided it.
    date_orders: dict[str, dates.DateOrder] = field(default_factory=dict)
    # The decimal style the numbers were read in, and the values that decided it.
    decimal: DecimalStyle = field(default_factory=DecimalStyle)
    # Wall seconds of each step (profile, stage, dedupe, writes), for logs and benchmarks.
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def trusted_partitions(self) -> list[str]:
        return sorted({o.partition for o in self.trusted})

    @property
    def delivery_partitions(self) -> list[str]:
        return sorted({o.partition for o in self.delivery})


def _day_path(day: Any) -> str:
    return f"year={day:%Y}/month={day:%m}/day={day:%d}"


def _with_day_text(batch: pa.RecordBatch, name: str) -> pa.RecordBatch:
    """`batch` with a column `name`: its `__partition` day as ISO text. The rows come sorted
    by day, so the text is made once per day in the batch, not once per row (0.37 CPU s of
    DuckDB's strftime at 10 M rows)."""
    days = pc.run_end_encode(batch.column("__partition"))
    texts = pc.strftime(days.values, "%Y-%m-%d")
    decoded = pc.run_end_decode(pa.RunEndEncodedArray.from_arrays(days.run_ends, texts))
    return batch.append_column(name, decoded)


def mostly_distinct(batch: pa.RecordBatch) -> frozenset[str]:
    """The columns of `batch` whose values are more than half distinct (of those not null)."""
    names = []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        present = len(column) - column.null_count
        if present and pc.count_distinct(column).as_py() * 2 > present:
            names.append(name)
    return frozenset(names)


class _PartitionWriter:
    """Parquet files `<partition>/<stem>_0.parquet` from batches grouped by their `__partition`
    column (one writer open); `path_of` makes a partition's path from its value.

    A partition's rows are gathered up to ROW_GROUP_ROWS and written as one row group, so a
    day is one or a few row groups instead of one per streamed batch.
    """

    def __init__(self, target: Path, stem: str, path_of: Callable[[Any], str] = str) -> None:
        self.target = target
        self.stem = stem
        self.path_of = path_of
        # The columns written without a dictionary, chosen from the first batch.
        self.plain: frozenset[str] | None = None
        self.outputs: list[LocalOutput] = []
        self._writer: pq.ParquetWriter | None = None
        self._current: Any = None
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._closed = 0

    def write(self, batch: pa.RecordBatch) -> None:
        encoded = pc.run_end_encode(batch.column("__partition"))
        rows = batch.drop_columns(["__partition"])
        if self.plain is None:
            self.plain = mostly_distinct(rows)
        start = 0
        for end, partition in zip(
            encoded.run_ends.to_pylist(), encoded.values.to_pylist(), strict=True
        ):
            if partition != self._current:
                self._open(partition, rows.schema)
            self._pending.append(rows.slice(start, end - start))
            self._pending_rows += end - start
            if self._pending_rows >= ROW_GROUP_ROWS:
                self._flush()
            start = end

    def _flush(self) -> None:
        if self._pending:
            assert self._writer is not None
            self._writer.write_table(
                pa.Table.from_batches(self._pending), row_group_size=self._pending_rows
            )
            self._pending, self._pending_rows = [], 0

    def _open(self, partition: Any, schema: pa.Schema) -> None:
        self._close_file()
        if self._closed and self._closed % RELEASE_EVERY_FILES == 0:
            pa.default_memory_pool().release_unused()
        relative = f"{self.path_of(partition)}/{self.stem}_0.parquet"
        if any(o.relative == relative for o in self.outputs):
            # Rows of one partition must arrive together, or the file would be overwritten.
            raise AssertionError(f"rows of partition {partition} are not contiguous")
        path = self.target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        # A column of mostly distinct values would fill a dictionary page and fall back to
        # plain pages anyway: written plain from the start, it costs ~9% less to encode and
        # the file is ~5% smaller (names of the benchmark's DELIVERY detail).
        dictionary = [n for n in schema.names if n not in self.plain] if self.plain else True
        self._writer = pq.ParquetWriter(path, schema, compression="zstd", use_dictionary=dictionary)
        self._current = partition
        self.outputs.append(LocalOutput(relative, path))

    def _close_file(self) -> None:
        if self._writer is not None:
            self._flush()
            self._writer.close()
            self._writer = None
            self._closed += 1

    def close(self) -> None:
        self._close_file()
        pa.default_memory_pool().release_unused()


class _BackgroundWriter:
    """_PartitionWriters fed each from a thread of its own, so the layers' Parquet encoding
    (which releases the GIL) runs side by side while DuckDB produces the next batches. At most
    `depth` batches per writer wait, bounding memory; each call gives one batch per writer."""

    def __init__(self, writers: Sequence[_PartitionWriter], depth: int = QUEUED_BATCHES) -> None:
        self.writers = writers
        self.depth = depth
        self._pools = [ThreadPoolExecutor(max_workers=1) for _ in writers]
        self._queued: list[deque[Future[None]]] = [deque() for _ in writers]

    def write(self, batches: Sequence[pa.RecordBatch]) -> None:
        for index, batch in enumerate(batches):
            queued = self._queued[index]
            while len(queued) >= self.depth:
                queued.popleft().result()
            queued.append(self._pools[index].submit(self.writers[index].write, batch))

    def close(self) -> list[list[LocalOutput]]:
        """Wait for every batch, close every file; raise the first thing a write raised."""
        # Every writer is closed and every thread ended before the first failure is raised.
        failure: BaseException | None = None
        for queued, pool, writer in zip(self._queued, self._pools, self.writers, strict=True):
            for waiting in queued:
                try:
                    waiting.result()
                except BaseException as error:
                    failure = failure or error
            try:
                pool.submit(writer.close).result()
            except BaseException as error:
                failure = failure or error
            finally:
                pool.shutdown()
        if failure is not None:
            raise failure
        return [w.outputs for w in self.writers]


# Given the TRUSTED partitions a file writes to, the other TRUSTED files already there,
# downloaded as (partition path, local file).
ExistingLoader = Callable[[Sequence[str]], Sequence[tuple[str, Path]]]


def _no_existing(_partitions: Sequence[str]) -> Sequence[tuple[str, Path]]:
    return []


@dataclass(frozen=True)
class TransformRequest:
    path: Path
    format: FileFormat
    spec: DatasetSpec
    stem: str
    source_uri: str
    workdir: Path
    now: datetime
    pipeline_version: str
    limits: EngineLimits = DEFAULT_LIMITS


def connect(workdir: Path, limits: EngineLimits) -> duckdb.DuckDBPyConnection:
    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "work.duckdb"
    database.unlink(missing_ok=True)  # a fresh database per run, even in a reused directory
    con = duckdb.connect(str(database))
    con.execute(f"SET memory_limit = {lit(limits.memory_limit)}")
    con.execute(f"SET threads = {int(limits.threads)}")
    con.execute(f"SET temp_directory = {lit(str(workdir / 'spill'))}")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    con.execute("SET TimeZone = 'UTC'")
    return con


def transform(
    request: TransformRequest, existing: ExistingLoader = _no_existing
) -> TransformResult:
    """Read, check, dedupe and write one RAW file; raise UnreadableFileError if it can't be read."""
    con = connect(request.workdir, request.limits)
    try:
        return _Run(con, request).run(existing)
    finally:
        con.close()


class _Run:
    def __init__(self, con: duckdb.DuckDBPyConnection, request: TransformRequest) -> None:
        self.con = con
        self.r = request
        self.spec = request.spec
        self.now = f"TIMESTAMP {lit(request.now.strftime('%Y-%m-%d %H:%M:%S.%f'))}"
        self.out = request.workdir / "out"
        self.seconds: dict[str, float] = {}

    def scalar(self, sql: str) -> Any:
        rows = self.con.execute(sql).fetchall()
        return rows[0][0] if rows else None

    def count(self, sql: str) -> int:
        return int(self.scalar(sql) or 0)

    @contextmanager
    def _timed(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[step] = round(time.perf_counter() - started, 3)

    def run(self, existing: ExistingLoader) -> TransformResult:
        with self._timed("profile"):
            read = readers.stage(self.con, self.r.path, self.r.format, self.spec)
            orders, style = self._profile(read)
        result = TransformResult(read, date_orders=orders, decimal=style, seconds=self.seconds)
        with self._timed("stage"):
            self._stage(read, style, orders)
            staged = self.count("SELECT count(*) FROM staged")
            self.con.execute(f"CREATE TEMP TABLE rejects AS {read.rejects_sql}")
            # A CSV line may fail more than one way; a JSON record has no line.
            rejected = self.count(
                "SELECT count(DISTINCT line) + count(*) FILTER (WHERE line IS NULL) FROM rejects"
            )
        result.rows_in = staged + rejected
        with self._timed("candidates"):
            self._candidates()
            # The paths are made for the distinct days, not for every row.
            partitions = [
                _day_path(day)
                for (day,) in self.con.execute(
                    "SELECT DISTINCT __day FROM candidates ORDER BY ALL"
                ).fetchall()
            ]
        with self._timed("existing"):
            self._load_existing(existing(partitions) if partitions else [])
        with self._timed("dedupe"):
            self._dedupe()
        with self._timed("sort"):
            self._sort_trusted()
            rows_out, score = self.con.execute(
                "SELECT count(*), avg(data_quality_score) FROM sorted"
            ).fetchall()[0]
            result.rows_out = int(rows_out)
            candidates = self.count("SELECT count(*) FROM candidates")
        result.rows_duplicates = candidates - result.rows_out
        result.mean_quality_score = None if score is None else round(float(score), 6)
        if result.rows_out:
            with self._timed("write_layers"):
                result.trusted, detail = self._write_layers()
            with self._timed("write_summary"):
                result.delivery = sorted(detail + self._write_summary(), key=lambda o: o.relative)
        result.rows_quarantined = staged - candidates + rejected
        if result.rows_quarantined:
            with self._timed("write_quarantine"):
                result.quarantine = self._write_quarantine()
        return result

    def _profile(self, read: ReadResult) -> tuple[dict[str, dates.DateOrder], DecimalStyle]:
        """One scan of the whole file deciding what a sample cannot: the day/month order of
        each date column and the decimal style of the numbers."""
        date_projections, date_steps, date_parts = dates.evidence_sql(self.spec)
        number_projections, unsigned_texts, number_kinds, number_parts = numbers.evidence_sql(
            self.spec, read.typed
        )
        if not date_parts and not number_parts:
            return {}, DecimalStyle()
        projections = ", ".join([*date_projections, *number_projections])
        steps = "".join(", " + k for k in [*date_steps, *unsigned_texts])
        kinds = "".join(", " + k for k in number_kinds)
        aggregates = ", ".join([*date_parts, *number_parts])
        try:
            row = self.con.execute(
                f"SELECT {aggregates} FROM (SELECT *{kinds} FROM (SELECT *{steps} FROM "
                f"(SELECT {projections} FROM raw_rows)))"
            ).fetchall()[0]
        except (duckdb.InvalidInputException, duckdb.ConversionException) as exc:
            raise UnreadableFileError(readers.engine_reason(read.format, exc)) from exc
        orders = dates.decide_orders(self.spec, row[: len(date_parts)])
        # A CSV file's numbers are text; other files' may be numbers, which are read in no style.
        text = read.format is FileFormat.CSV
        return orders, numbers.decide(row[len(date_parts) :], self.spec.decimal, text=text)

    def _stage(
        self, read: ReadResult, style: DecimalStyle, orders: dict[str, dates.DateOrder]
    ) -> None:
        sql = rules.staged_sql(self.spec, style, self.now, orders, read.typed)
        try:
            self.con.execute(f"CREATE TEMP TABLE staged AS {sql}")
        except (duckdb.InvalidInputException, duckdb.ConversionException) as exc:
            raise UnreadableFileError(readers.engine_reason(read.format, exc)) from exc

    def _candidates(self) -> None:
        stats_sql = rules.outlier_stats_sql(self.spec)
        stats = self.con.execute(stats_sql).fetchall()[0] if stats_sql else None
        outliers = rules.outlier_flag_exprs(self.spec, stats)
        # Most rows have no flag and are no outlier: their text is '' without joining a list,
        # and no list is built to count an outlier's flag.
        count = " + ".join(["len(flags)", *(f"(({o}) IS NOT NULL)::INTEGER" for o in outliers)])
        text = "CASE WHEN len(flags) = 0 THEN '' ELSE array_to_string(flags, ',') END"
        if outliers:
            text = (
                f"CASE WHEN {rules.any_flag(outliers)} THEN "
                f"array_to_string(list_concat(flags, {rules.flag_list(outliers)}), ',') "
                f"ELSE {text} END"
            )
        names = ", ".join(q(c.name) for c in self.spec.columns)
        # A view: the score and the flags are computed once, where the dedupe reads them,
        # instead of copying the whole staged table to add them.
        self.con.execute(
            f"""
            CREATE TEMP VIEW candidates AS
            SELECT {names},
                   {rules.score_expr(self.spec, count)} AS data_quality_score,
                   {text} AS quality_flags,
                   CAST({q(self.spec.partition_column)} AS DATE) AS __day, rowid AS __row
            FROM staged WHERE len(failed_rules) = 0
            """
        )

    def _load_existing(self, files: Sequence[tuple[str, Path]]) -> None:
        """The keys of the rows already in TRUSTED for this file's days (for dedupe), with
        what the day's summary needs (it is recomputed over the whole day)."""
        self.has_existing = bool(files)
        spec = self.spec
        columns = ", ".join(
            [
                *(f"{q(k)}::VARCHAR AS {q(k)}" for k in spec.key),
                f"{q(spec.measure)}::DOUBLE AS __measure",
                f"{q(spec.group_by)}::VARCHAR AS __group",
                "data_quality_score::DOUBLE AS __score",
            ]
        )
        if not files:
            self.con.execute(
                f"CREATE TEMP TABLE existing AS SELECT {columns}, __day FROM candidates WHERE false"
            )
            return
        selects = []
        for partition, path in files:
            year, month, day = (p.split("=", 1)[1] for p in partition.split("/"))
            selects.append(
                f"SELECT {columns}, DATE {lit(f'{year}-{month}-{day}')} AS __day "
                f"FROM read_parquet({lit(str(path))})"
            )
        self.con.execute("CREATE TEMP TABLE existing AS " + " UNION ALL ".join(selects))

    def _dedupe(self) -> None:
        """Drop rows whose key is already in TRUSTED for their partition, then keep one row
        per key: the best score, ties broken by content so the choice is deterministic. Only
        keys seen more than once go through the window; the rest pass straight through."""
        key_match = " AND ".join(f"e.{q(k)} = c.{q(k)}::VARCHAR" for k in self.spec.key)
        keys = ", ".join(q(k) for k in self.spec.key)
        tiebreak = ", ".join(q(c.name) for c in self.spec.columns)
        if self.has_existing:
            self.con.execute(
                f"""
                CREATE TEMP VIEW fresh AS
                SELECT c.* FROM candidates c ANTI JOIN existing e
                ON e.__day = c.__day AND {key_match}
                """
            )
        else:
            self.con.execute("CREATE TEMP VIEW fresh AS SELECT * FROM candidates")
        self.con.execute(
            f"CREATE TEMP TABLE repeated AS "
            f"SELECT {keys} FROM fresh GROUP BY {keys} HAVING count(*) > 1"
        )
        # Only the rows that lose to another row of their key are stored (a few, by row id);
        # TRUSTED is a view over the staged table, read once by the stream writing both layers.
        self.con.execute(
            f"""
            CREATE TEMP TABLE losers AS
            SELECT __row FROM fresh SEMI JOIN repeated USING ({keys})
            QUALIFY row_number() OVER (
                PARTITION BY {keys}
                ORDER BY data_quality_score DESC, quality_flags, {tiebreak}) > 1
            """
        )
        self.con.execute(
            "CREATE TEMP VIEW trusted AS SELECT * FROM fresh ANTI JOIN losers USING (__row)"
        )

    def _typed_null(self, name: str, glue_type: GlueType) -> str:
        return f"NULL::{_SQL_OF_GLUE[glue_type]} AS {q(name)}"

    def _sort_trusted(self) -> None:
        """TRUSTED's rows sorted by day into a table, `sorted`: what both layers are written
        from, and what TRUSTED's counts are read from (one evaluation of the TRUSTED view).

        Sorting by day is what lets each layer keep one file open at a time. Only the columns
        that vary are sorted: the constant ones are added to each batch in Arrow, which keeps
        the sort's rows narrow enough for the memory limit.
        """
        part = self.spec.column(self.spec.partition_column)
        # Sorted into a table first: streaming an ORDER BY straight out held ~70 MB more
        # outside DuckDB's memory limit than scanning a sorted table does. The day is sorted
        # as one DATE; its texts (the ISO date, the partition path) and the columns derived
        # from other columns are made by the scan, so the sort moves four to five strings a
        # row fewer (~40% less sort time). A DATE partition column is only there as the day
        # (its ISO text is made by the scan); a TIMESTAMP one stays as it is.
        kept = ", ".join(
            q(c.name) for c in self.spec.columns if not (self._partition_is_date and c is part)
        )
        self.con.execute(f"""
            CREATE TEMP TABLE sorted AS
            SELECT {kept}, data_quality_score, quality_flags, __day
            FROM trusted ORDER BY __day
        """)

    def _sorted_value(self, name: str) -> str:
        """A declared column as `sorted` holds it: the partition column, when a DATE, is only
        there as `__day`."""
        if self._partition_is_date and name == self.spec.partition_column:
            return "strftime(__day, '%Y-%m-%d')"
        return q(name)

    @property
    def _partition_is_date(self) -> bool:
        return self.spec.column(self.spec.partition_column).type is ColumnType.DATE

    def _write_layers(self) -> tuple[list[LocalOutput], list[LocalOutput]]:
        """TRUSTED and DELIVERY's DETAIL rows from one scan of `sorted`; each layer is encoded
        on its own thread."""
        spec = self.spec
        declared = [c.name for c in spec.columns]
        part = spec.column(spec.partition_column)
        scan = f"""
            SELECT * EXCLUDE (__day),
                   {rules.amount_category_expr(spec)} AS amount_category,
                   isodow(__day) AS day_of_week,
                   __day AS __partition
            FROM sorted
        """
        now = pa.scalar(self.r.now.replace(tzinfo=None), pa.timestamp("us"))
        constants: dict[str, pa.Scalar] = {
            "processed_timestamp": now,
            "delivery_timestamp": now,
            "source_file": pa.scalar(self.r.source_uri, pa.string()),
            "trusted_layer": pa.scalar(TRUSTED_LAYER, pa.string()),
            "delivery_layer": pa.scalar(DELIVERY_LAYER, pa.string()),
            "pipeline_version": pa.scalar(self.r.pipeline_version, pa.string()),
        }
        nulls = {name: _ARROW_OF_GLUE[glue] for name, glue in _SUMMARY_COLUMNS}
        trusted_columns: list[str | tuple[str, str]] = [
            *declared,
            "processed_timestamp",
            "source_file",
            ("processing_layer", "trusted_layer"),
            "data_quality_score",
            "quality_flags",
            "__partition",
        ]
        delivery_columns: list[str | tuple[str, str]] = [
            *declared,
            "amount_category",
            "day_of_week",
            "data_quality_score",
            "quality_flags",
            *nulls,
            "delivery_timestamp",
            ("processing_layer", "delivery_layer"),
            "pipeline_version",
            "source_file",
            "__partition",
        ]

        def layer(batch: pa.RecordBatch, columns: list[str | tuple[str, str]]) -> pa.RecordBatch:
            n = batch.num_rows
            arrays, names = [], []
            for column in columns:
                name, source = column if isinstance(column, tuple) else (column, column)
                if source in constants:
                    arrays.append(pa.repeat(constants[source], n))
                elif source in nulls:
                    arrays.append(pa.nulls(n, nulls[source]))
                else:
                    arrays.append(batch.column(source))
                names.append(name)
            return pa.RecordBatch.from_arrays(arrays, names=names)

        writers = _BackgroundWriter(
            [
                # The day's path is made once per day, from the DATE, not once per row.
                _PartitionWriter(self.out / "trusted", self.r.stem, _day_path),
                _PartitionWriter(
                    self.out / "delivery" / f"record_type={DETAIL}",
                    self.r.stem,
                    _day_path,
                ),
            ]
        )
        # Scanning the sorted table needs little of DuckDB's memory; what it held for the sort
        # is handed back before Arrow and the Parquet writers take theirs.
        self.con.execute(f"SET memory_limit = {lit(WRITE_MEMORY_LIMIT)}")
        self.con.execute("SET preserve_insertion_order = true")
        try:
            for batch in self.con.sql(scan).to_arrow_reader(BATCH_ROWS):
                if self._partition_is_date:
                    batch = _with_day_text(batch, part.name)
                writers.write([layer(batch, trusted_columns), layer(batch, delivery_columns)])
        finally:
            self.con.execute("SET preserve_insertion_order = false")
            self.con.execute(f"SET memory_limit = {lit(self.r.limits.memory_limit)}")
            outputs = writers.close()
        detail = [LocalOutput(f"record_type={DETAIL}/{o.relative}", o.path) for o in outputs[1]]
        return outputs[0], detail

    def _copy(
        self, select: str, target: Path, partition_by: Sequence[str], stem: str
    ) -> list[LocalOutput]:
        """Write `select`, whose rows come grouped by partition, as one zstd Parquet file per
        partition named `<stem>_0.parquet`, one writer open at a time."""
        keys = ", ".join(partition_by)
        part = " || '/' || ".join(f"'{k}=' || {k}" for k in partition_by)
        self.con.execute("SET preserve_insertion_order = true")
        reader = self.con.sql(
            f"SELECT * EXCLUDE ({keys}), {part} AS __partition FROM ({select})"
        ).to_arrow_reader(BATCH_ROWS)
        writer = _PartitionWriter(target, stem)
        try:
            for batch in reader:
                writer.write(batch)
        finally:
            writer.close()
            self.con.execute("SET preserve_insertion_order = false")
        return writer.outputs

    def _write_summary(self) -> list[LocalOutput]:
        spec = self.spec
        group = q(spec.group_by)
        tail = (
            f"{self.now} AS delivery_timestamp, {lit(DELIVERY_LAYER)} AS processing_layer, "
            f"{lit(self.r.pipeline_version)} AS pipeline_version, "
            f"{lit(self.r.source_uri)} AS source_file"
        )
        declared = ", ".join(
            f"__group::{_SQL_OF_GLUE[GLUE_TYPES[c.type]]} AS {group}"
            if c.name == spec.group_by
            else self._typed_null(c.name, GLUE_TYPES[c.type])
            for c in spec.columns
        )
        # Scores are stored with SCORE_DECIMALS decimals, so their mean is taken on integers:
        # exact, whatever order the rows are summed in (a floating average put a mean that
        # ends in 5 on either side of the rounding, depending on that order).
        scale = 10**rules.SCORE_DECIMALS
        mean_score = f"round(sum(round(__score * {scale})::BIGINT) / count(__score)) / {scale}.0"
        # Sums are compensated (fsum): a floating sum's last bits depend on the order the rows
        # are added in, which threads and the files of a day change; fsum's do not.
        # The whole day: this file's rows (read from `sorted`, TRUSTED as written, not by
        # evaluating the TRUSTED view again) and those already in TRUSTED for its days, so the
        # summary of a day is the same whichever file of the day came last. Grouped by the
        # day as a DATE: its texts are made for the groups, not for every row.
        day_rows = f"""
            SELECT {self._sorted_value(spec.measure)}::DOUBLE AS __measure,
                   {self._sorted_value(spec.group_by)}::VARCHAR AS __group,
                   data_quality_score AS __score, __day FROM sorted
            UNION ALL
            SELECT e.__measure, e.__group, e.__score, e.__day
            FROM existing e SEMI JOIN (SELECT DISTINCT __day FROM sorted) t
            ON e.__day = t.__day
        """
        summary = f"""
            SELECT {declared}, NULL::VARCHAR AS amount_category,
                   isodow(__day) AS day_of_week,
                   NULL::DOUBLE AS data_quality_score, NULL::VARCHAR AS quality_flags,
                   count(*) AS record_count, fsum(__measure) AS total_amount,
                   fsum(__measure) / nullif(count(__measure), 0) AS mean_amount,
                   min(__measure) AS min_amount,
                   max(__measure) AS max_amount,
                   {mean_score} AS mean_quality_score,
                   {tail}, {lit(DAILY_SUMMARY)} AS record_type,
                   strftime(__day, '%Y') AS year, strftime(__day, '%m') AS month,
                   strftime(__day, '%d') AS day
            FROM ({day_rows}) GROUP BY __day, __group
        """
        return self._copy(
            f"SELECT * FROM ({summary}) ORDER BY year, month, day, {group}",
            self.out / "delivery",
            DELIVERY_PARTITION_KEYS,
            DAILY_SUMMARY_STEM,
        )

    def _write_quarantine(self) -> Path:
        target = self.out / "quarantine" / f"{self.r.stem}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        source = lit(self.r.source_uri)
        self.con.execute(
            f"""
            COPY (
                SELECT {source} AS source_file, NULL::BIGINT AS line,
                       array_to_string(failed_rules, ',') AS failed_rules,
                       error, raw_record, {self.now} AS quarantined_at
                FROM staged WHERE len(failed_rules) > 0
                UNION ALL
                SELECT {source}, line::BIGINT, failed_rules, error, raw_record, {self.now}
                FROM rejects
            ) TO {lit(str(target))} (FORMAT parquet, COMPRESSION zstd)
            """
        )
        return target
