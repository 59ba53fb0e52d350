"""One range's screened lines into one zstd Parquet file, with DuckDB, parsed once.

The screened lines of a whole range are one newline-delimited file, so DuckDB infers the
types once over every record (`sample_size=-1`: a field that appears only late in the range
is not lost), widens integers to doubles where both occur and leaves a field null where a
record lacks it. Declared fields are cast to their declared type (their values were checked
while screening, so the cast cannot fail or coerce).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import duckdb
import orjson

from compactor.domains import FieldSpec, FieldType
from compactor.ducktypes import (
    LIST,
    STRUCT,
    VARCHAR,
    DuckType,
    Schema,
    SchemaConflictError,
    case_spellings,
    literal,
    lower,
    merge,
    parse,
    quote,
    render,
)
from compactor.exact_numbers import (
    Leaf,
    any_value,
    as_text,
    double_leaves,
    integer_leaves,
    past_double,
    past_double_text,
    past_exact_double,
    replaced,
)
from compactor.schema import catalog_name, parquet_name
from compactor.screening import LONG_INTEGER_DIGITS, NUMBER_START

_DUCKDB_TYPES: dict[FieldType, str] = {
    FieldType.STRING: "VARCHAR",
    FieldType.BIGINT: "BIGINT",
    FieldType.DOUBLE: "DOUBLE",
    FieldType.BOOLEAN: "BOOLEAN",
    FieldType.TIMESTAMP: "TIMESTAMPTZ",
    FieldType.DATE: "DATE",
}
# Declared objects and arrays keep the nested type inferred over the range (struct, list):
# screening checked they are objects and arrays; their insides may drift.
# Row groups of ~128k rows: large enough for column statistics to skip, small enough to write
# in bounded memory.
ROW_GROUP_ROWS = 131072
# zstd's fastest level: for JSON-shaped columns it compresses within a few percent of the
# default (3) at a fraction of the CPU, and the write is a large part of a range's time.
ZSTD_LEVEL = 1
# A range's screened lines go to chunk files of this size, each one's types detected while the
# next is screened.
CHUNK_BYTES = 16 * 1024 * 1024
# A column null in every record has no type (NULL); JSON holds values DuckDB could not unify.
_UNTYPED = ("NULL", "JSON")
# What the fast screening skips unseen in fields that are not declared and DuckDB would read
# wrong (a number past a double's range becomes inf, an integer past 2^64 a double that is
# not its value) or fail the range on (invalid UTF-8, an integer past BIGINT's range): a
# number with a three-digit exponent, or an integer of 20 digits or more or of 19 from 92...
# It also matches such text inside a string, 1e100, or 9200000000000000000, which only costs
# the range an exact screening.
_SKIPPED_PATTERN = (
    rf"{NUMBER_START}(?:{LONG_INTEGER_DIGITS}|[0-9]+(?:\.[0-9]+)?[eE][-+]?[0-9]{{3}})"
)


_LOSSY = "a double does not hold the integer of leaf "


class RangeParseError(ValueError):
    """DuckDB could not parse the range's screened lines into one table (names it cannot make
    columns of, say): the strict screening is the way to set the lines that cause it aside."""


class CaseConflictError(ValueError):
    """Records of the range spell one field in more than one way that the catalog's one
    column would hold (case, or characters its names do not have): `spellings` says which
    spelling is kept."""

    def __init__(self, spellings: dict[tuple[str, ...], str]) -> None:
        self.spellings = spellings
        names = ", ".join(".".join(path) for path in sorted(spellings))
        super().__init__(f"fields spelt in more than one way: {names}")


@dataclass(frozen=True)
class EngineLimits:
    memory_limit: str = "1GB"
    threads: int = 2


@dataclass(frozen=True)
class CompactedFile:
    path: Path
    rows: int
    # The columns as DuckDB reads them back from the file (DESCRIBE's type text).
    columns: tuple[tuple[str, str], ...]
    # Integer leaves (columns, or fields inside them) holding a value past 2^53, which a double
    # does not hold exactly: where another range has fractions there, the day keeps their text
    # instead (schema.unify).
    wide_integers: tuple[Leaf, ...] = ()

    @property
    def names(self) -> set[str]:
        return {name for name, _ in self.columns}

    @property
    def schema(self) -> tuple[tuple[str, DuckType], ...]:
        return tuple((name, parse(kind)) for name, kind in self.columns)


def _lossy_leaf(error: duckdb.Error, checked: list[Leaf]) -> Leaf | None:
    """The double leaf `_checked_doubles` failed `error` for, if it did."""
    index = str(error).partition(_LOSSY)[2].split()[:1]
    return checked[int(index[0])] if index and index[0].isdigit() else None


def _past(exact: bool) -> Callable[[str], str]:
    return past_double_text if exact else past_exact_double


def _checked_doubles(
    name: str, read: DuckType, checked: list[Leaf], exact: set[Leaf], texts: set[Leaf]
) -> str:
    """Column `name`, read as `read`, each leaf of `checked` it holds a double, the statement
    failing (naming the leaf's index) where a value may be an integer past 2^53: a leaf read
    as a double fails on any value of that size, a leaf in `exact` (read as text, then cast)
    only on an integer past 2^53; leaves in `texts` keep their text."""
    mine = [leaf for leaf in checked if leaf[0] == name and leaf not in texts]
    if not mine:
        return quote(name)
    target = read
    for leaf in mine:
        if leaf in exact:
            target = replaced(target, leaf[1:], DuckType("DOUBLE"))
    tests = " ".join(
        f"WHEN {any_value(quote(name), read, leaf[1:], _past(leaf in exact))} "
        f"THEN error({literal(_LOSSY + str(checked.index(leaf)))})"
        for leaf in mine
    )
    value = quote(name) if target == read else f"CAST({quote(name)} AS {render(target)})"
    return f"CASE {tests} ELSE {value} END AS {quote(name)}"


def _select_list(
    described: Schema,
    fields: tuple[FieldSpec, ...],
    read: dict[str, DuckType] | None = None,
    checked: list[Leaf] | None = None,
    exact: set[Leaf] | None = None,
    texts: set[Leaf] | None = None,
) -> str:
    """The range's columns, declared ones cast to their type; columns holding `checked` double
    leaves were read as `read` (the leaves in `exact` and `texts` as text), each leaf kept as
    text (in `texts`) or checked (`_checked_doubles`)."""
    declared = {f.name: _DUCKDB_TYPES[f.type] for f in fields if f.type in _DUCKDB_TYPES}
    read, checked = read or {}, checked or []
    exact, texts = exact or set(), texts or set()
    parts: list[str] = []
    for name, kind in described:
        if name in read:
            parts.append(_checked_doubles(name, read[name], checked, exact, texts))
            continue
        target = declared.get(name)
        if target is None and kind.name in _UNTYPED:
            target = "VARCHAR"
        parts.append(f"CAST({quote(name)} AS {target}) AS {quote(name)}" if target else quote(name))
    seen = {name for name, _ in described}
    # A declared optional field no record of the range has still gets its column.
    for spec in fields:
        if spec.name not in seen:
            missing = declared.get(spec.name, "VARCHAR")
            parts.append(f"CAST(NULL AS {missing}) AS {quote(spec.name)}")
    return ", ".join(parts)


def _connect(work_dir: Path, limits: EngineLimits | None) -> duckdb.DuckDBPyConnection:
    limits = limits or EngineLimits()
    return duckdb.connect(
        config={
            "memory_limit": limits.memory_limit,
            "threads": limits.threads,
            "temp_directory": str(work_dir / "duckdb-spill"),
            "preserve_insertion_order": True,
        }
    )


def _written(
    con: duckdb.DuckDBPyConnection,
    dest: Path,
    untyped: frozenset[str] = frozenset(),
    *,
    find_wide: bool = False,
) -> CompactedFile:
    """The file as written; a column null in every record (`untyped`) is reported as NULL,
    so another range's type for it wins when the day's schema is unified. With `find_wide`
    (a range's own file, before the day is unified), its integer columns past 2^53 too."""
    parquet = f"read_parquet({literal(str(dest))})"
    described = con.execute(f"DESCRIBE SELECT * FROM {parquet}").fetchall()
    counted = con.execute(f"SELECT count(*) FROM {parquet}").fetchone()
    rows = int(counted[0]) if counted else 0
    columns = tuple((str(r[0]), '"NULL"' if str(r[0]) in untyped else str(r[1])) for r in described)
    integers = [leaf for name, kind in columns for leaf in integer_leaves(name, parse(kind))]
    wide: tuple[Leaf, ...] = ()
    if find_wide and integers and rows:
        kinds = {name: parse(kind) for name, kind in columns}
        past = ", ".join(
            f"bool_or({any_value(quote(leaf[0]), kinds[leaf[0]], leaf[1:], past_double)})"
            for leaf in integers
        )
        flags = con.execute(f"SELECT {past} FROM {parquet}").fetchone() or ()
        wide = tuple(leaf for leaf, flag in zip(integers, flags, strict=True) if flag)
    return CompactedFile(dest, rows, columns, wide)


def _plain(kind: DuckType) -> DuckType:
    """The type to read a detected column as: JSON (values DuckDB could not unify) is read as
    VARCHAR, which keeps a string as itself and anything else as its JSON text."""
    if kind.name == "JSON":
        return VARCHAR
    if kind.nested:
        return DuckType(kind.name, tuple((n, _plain(t)) for n, t in kind.fields))
    return kind


# json_structure's names for JSON's scalar kinds, as the columns they are read into. It says
# UBIGINT for any integer that is not negative, and HUGEINT for an array holding both signs:
# read as BIGINT (an integer past 2^63 - 1 fails the parse, and so the range, rather than
# being altered). A HUGEINT column would be written to Parquet as doubles.
_STRUCTURE_SCALARS = {"UBIGINT": "BIGINT", "HUGEINT": "BIGINT", "JSON": "VARCHAR"}


def _structure_type(shape: object) -> DuckType:
    """The column type of one json_structure: objects are structs (an empty one, which no
    struct can hold, is its JSON text), arrays lists, values inconsistent inside an array
    VARCHAR."""
    if isinstance(shape, dict):
        if not shape:
            return VARCHAR
        return DuckType(STRUCT, tuple((str(n), _structure_type(t)) for n, t in shape.items()))
    if isinstance(shape, list):
        return DuckType(LIST, (("element", _structure_type(shape[0])),))
    name = str(shape)
    return DuckType(_STRUCTURE_SCALARS.get(name, name))


def _detect(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[str, DuckType]]:
    """The columns of one lines file: the distinct shapes of its records (few, however many
    records) merged by name and widened. Every record is looked at, so a field that appears
    once is a column; strings stay strings (only declared fields are typed beyond JSON).
    Half the CPU of read_json's detection over every record, which also guesses timestamps."""
    # The most frequent shape first (ties by text): the columns come in the order most records
    # have them, the same order for the same input.
    shapes = con.sql(
        "SELECT json_structure(json) AS shape, count(*) AS n FROM read_ndjson_objects("
        f"{literal(str(path))}, maximum_object_size=16777216) "
        "GROUP BY shape ORDER BY n DESC, shape"
    ).fetchall()
    kinds = [_structure_type(orjson.loads(str(row[0]))) for row in shapes]
    return list(merge([kind.fields for kind in kinds if kind.name == STRUCT]).items())


def skipped_unseen(con: duckdb.DuckDBPyConnection, path: Path) -> bool:
    """Whether the lines file holds invalid UTF-8 or a number `_SKIPPED_PATTERN` names."""
    found = con.execute(
        "SELECT coalesce(regexp_matches(TRY(decode(content)), $pattern), true) "
        f"FROM read_blob({literal(str(path))})",
        {"pattern": _SKIPPED_PATTERN},
    ).fetchall()
    return bool(found and found[0][0])


class RangeLines:
    """The screened lines of one range, written as chunk files of about `chunk_bytes`.

    DuckDB's type detection over every record (what keeps a late field) costs far more than the
    typed parse after it, and runs on one thread per file. So each chunk's types are detected in
    a background thread as soon as the chunk is complete, on the cores the fetch and screening
    (Python, one core) leave free; the chunks' types are then merged by name and widened, which
    is what one detection over the whole range gives.

    `paths` names every chunk, but a chunk's file exists only once its detection is done: read
    them after `schema()`, which waits for all of them."""

    def __init__(
        self,
        work_dir: Path,
        limits: EngineLimits | None = None,
        chunk_bytes: int = CHUNK_BYTES,
        *,
        check_skipped: bool = False,
    ) -> None:
        self.work_dir = work_dir
        self.limits = limits or EngineLimits()
        self.chunk_bytes = chunk_bytes
        self.check_skipped = check_skipped
        self._suspect = False
        self.paths: list[Path] = []
        self._con = _connect(work_dir, self.limits)
        self._threads = max(1, self.limits.threads)
        self._pool = ThreadPoolExecutor(max_workers=self._threads)
        self._detected: list[Future[list[tuple[str, DuckType]]]] = []
        self._pending: list[bytes] = []
        self._size = 0

    def __enter__(self) -> RangeLines:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def write(self, data: bytes) -> int:
        """One landing file's passing lines, whole: a chunk ends between files."""
        self._pending.append(data)
        self._size += len(data)
        if self._size >= self.chunk_bytes:
            self._seal()
        return len(data)

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        return self._con

    def adopt(self, path: Path) -> None:
        """Take a lines file written elsewhere as the next chunk."""
        self._seal()
        self.paths.append(path)
        self._detected.append(self._pool.submit(self._detect_chunk, path))

    def _seal(self) -> None:
        if not self._pending:
            return
        path = self.work_dir / f"lines-{len(self.paths):05d}.ndjson"
        self.paths.append(path)
        pending, self._pending, self._size = self._pending, [], 0
        self._detected.append(self._pool.submit(self._write_chunk, path, pending))
        # A chunk waiting for a thread holds its bytes: when detection falls behind the
        # screening, the screening waits, so memory stays at a few chunks, not the range.
        in_flight = [future for future in self._detected if not future.done()]
        if len(in_flight) > self._threads + 1:
            wait(in_flight[:1])

    def _write_chunk(self, path: Path, pending: list[bytes]) -> list[tuple[str, DuckType]]:
        # Written by the thread that detects it: one write of the whole chunk, off the thread
        # that screens.
        path.write_bytes(b"".join(pending))
        return self._detect_chunk(path)

    def _detect_chunk(self, path: Path) -> list[tuple[str, DuckType]]:
        cursor = self._con.cursor()
        try:
            if self.check_skipped and (self._suspect or skipped_unseen(cursor, path)):
                # The range is screened again the exact way: its types are not needed.
                self._suspect = True
                return []
            return _detect(cursor, path)
        finally:
            cursor.close()

    @property
    def exact_needed(self) -> bool:
        """With `check_skipped`: whether a chunk holds what the fast screening could not see
        (waits for every chunk)."""
        self._seal()
        wait(self._detected)
        return self._suspect

    def schema(self) -> list[tuple[str, DuckType]]:
        """Every chunk's columns, merged by name in first-seen order and widened."""
        self._seal()
        merged = merge([future.result() for future in self._detected])
        return [(name, _plain(kind)) for name, kind in merged.items()]

    def close(self) -> None:
        self._pending = []
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._con.close()


def compact(
    lines: Path | RangeLines,
    dest: Path,
    fields: tuple[FieldSpec, ...],
    *,
    work_dir: Path,
    limits: EngineLimits | None = None,
) -> CompactedFile:
    """Parse `lines` (screened NDJSON, not empty: one file, or a range's chunks whose types
    are being detected) and write them to `dest` as one Parquet file."""
    if isinstance(lines, Path):
        with RangeLines(work_dir, limits) as chunks:
            chunks.adopt(lines)
            return compact(chunks, dest, fields, work_dir=work_dir, limits=limits)
    if lines.check_skipped and lines.exact_needed:
        raise ValueError("the range holds lines only the exact screening sees: screen it again")
    detected = lines.schema()
    # Names one catalog column would hold (`Code` and `code`, `total-amount` and
    # `total_amount`): the records spelling them otherwise are set aside by the strict way.
    spellings = case_spellings(detected, [f.name for f in fields], fold=catalog_name)
    if spellings:
        raise CaseConflictError(spellings)
    con = lines.connection
    files = "[" + ", ".join(literal(str(p)) for p in lines.paths) + "]"
    # The types are known: the parse detects nothing and reads every chunk in one pass.
    # Declared fields are parsed straight into their declared type (their values were checked).
    declared_types = {f.name: _DUCKDB_TYPES[f.type] for f in fields if f.type in _DUCKDB_TYPES}
    # A field of integers and fractions is a double, at the top of a record or inside its
    # objects and arrays; an integer past 2^53 in it is not its value as one. Such leaves are
    # read as doubles and fail the parse on a value of that size (rare, and a third cheaper
    # than reading them as text); such a leaf is then read as text and cast, failing only on
    # an integer past 2^53; and where that fails it keeps its text, which holds both exactly.
    checked = [
        leaf for n, kind in detected if n not in declared_types for leaf in double_leaves(n, kind)
    ]
    read_as = {name: declared_types.get(name) or render(kind) for name, kind in detected}
    exact: set[Leaf] = set()
    texts: set[Leaf] = set()

    def source(read: dict[str, DuckType]) -> str:
        types = {**read_as, **{name: render(kind) for name, kind in read.items()}}
        typed = ", ".join(f"{literal(name)}: {literal(kind)}" for name, kind in types.items())
        return (
            f"read_json({files}, format='newline_delimited', "
            f"maximum_object_size=16777216, columns={{{typed}}})"
        )

    # Every column and field under its Parquet name (schema.parquet_name), which the catalog's
    # matches; the declared ones already are.
    present = {name for name, _ in detected}
    written_schema = [
        *detected,
        *((f.name, VARCHAR) for f in fields if f.name not in present),
    ]
    names = _parquet_names(written_schema)
    while True:
        read = {
            n: as_text(kind, [leaf[1:] for leaf in exact | texts if leaf[0] == n])
            for n, kind in detected
            if any(leaf[0] == n for leaf in checked)
        }
        select = _select_list(detected, fields, read, checked, exact, texts)
        try:
            con.execute(
                f"COPY (SELECT {names} FROM (SELECT {select} FROM {source(read)})) "
                f"TO {literal(str(dest))} "
                f"(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL {ZSTD_LEVEL}, "
                f"ROW_GROUP_SIZE {ROW_GROUP_ROWS})"
            )
            break
        except duckdb.Error as error:
            lossy = _lossy_leaf(error, checked)
            if lossy is None or lossy in texts:
                raise RangeParseError(
                    f"the range's lines do not parse into one table: {error}"
                ) from error
            (texts if lossy in exact else exact).add(lossy)
    declared = {f.name for f in fields}
    untyped = frozenset(
        parquet_name(name)
        for name, kind in detected
        if kind.name == "NULL" and name not in declared
    )
    return _written(con, dest, untyped, find_wide=True)


def _texts_nested(present: DuckType, kind: DuckType) -> bool:
    """Whether `kind` holds a string where `present` holds an object or array, at any depth."""
    if kind == VARCHAR:
        return present.nested
    if kind.name == present.name and kind.name in (STRUCT, LIST):
        inner = dict(present.fields)
        return any(n in inner and _texts_nested(inner[n], t) for n, t in kind.fields)
    return False


def _as_day(expr: str, present: DuckType, kind: DuckType, depth: int = 0) -> str:
    """`expr` (of type `present`) as `kind`: an object or array where the day holds strings,
    at any depth, becomes its JSON text (a cast would write DuckDB's own `{'x': 1}`); the rest
    is a cast that widens."""
    if not _texts_nested(present, kind):
        return f"CAST({expr} AS {render(kind)})"
    if kind == VARCHAR:
        return f"CAST(to_json({expr}) AS VARCHAR)"
    if kind.name == LIST:
        element = f"e{depth}"
        inner = _as_day(element, present.fields[0][1], kind.fields[0][1], depth + 1)
        return f"list_transform({expr}, lambda {element}: {inner})"
    fields = dict(present.fields)
    packed = ", ".join(
        f"{quote(n)} := "
        + (
            _as_day(f"struct_extract({expr}, {literal(n)})", fields[n], t, depth)
            if n in fields
            else f"CAST(NULL AS {render(t)})"
        )
        for n, t in kind.fields
    )
    return f"CASE WHEN {expr} IS NULL THEN NULL ELSE struct_pack({packed}) END"


def _needs_renaming(kind: DuckType) -> bool:
    if kind.name == STRUCT:
        return any(parquet_name(n) != n or _needs_renaming(t) for n, t in kind.fields)
    if kind.name == LIST:
        return _needs_renaming(kind.fields[0][1])
    return False


def _renamed(expr: str, kind: DuckType, depth: int = 0) -> str:
    """`expr` (of type `kind`) with the fields inside it under their Parquet names."""
    if not _needs_renaming(kind):
        return expr
    if kind.name == LIST:
        element = f"e{depth}"
        inner = _renamed(element, kind.fields[0][1], depth + 1)
        return f"list_transform({expr}, lambda {element}: {inner})"
    packed = ", ".join(
        f"{quote(parquet_name(n))} := "
        + _renamed(f"struct_extract({expr}, {literal(n)})", t, depth)
        for n, t in kind.fields
    )
    return f"CASE WHEN {expr} IS NULL THEN NULL ELSE struct_pack({packed}) END"


def _parquet_names(schema: Schema) -> str:
    """The projection writing `schema`'s columns and their fields under their Parquet names;
    names that would become one refuse the range, saying which."""
    clashes: list[str] = []

    def check(fields: Sequence[tuple[str, DuckType]], where: str) -> None:
        seen: dict[str, str] = {}
        for n, t in fields:
            other = seen.setdefault(lower(parquet_name(n)), n)
            if other != n:
                clashes.append(f"'{where}{other}' and '{where}{n}'")
            inner = t
            while inner.name == LIST:
                inner = inner.fields[0][1]
            if inner.name == STRUCT:
                check(inner.fields, f"{where}{n}.")

    check(schema, "")
    if clashes:
        raise SchemaConflictError(
            "fields whose names become one column in the catalog (its names are lower case "
            f"letters, digits and underscores): {'; '.join(clashes)}: have the producers write "
            "one of them"
        )
    return ", ".join(f"{_renamed(quote(n), t)} AS {quote(parquet_name(n))}" for n, t in schema)


def _conformed(present: DuckType | None, name: str, kind: DuckType) -> str:
    """A column of one range as the day's type: a cast that widens; an object or array where
    the day holds strings becomes its JSON text; a column the range lacks is null."""
    if present is None:
        return f"CAST(NULL AS {render(kind)})"
    return _as_day(quote(name), present, kind)


def conform(
    src: Path,
    dest: Path,
    schema: Schema,
    *,
    work_dir: Path,
    limits: EngineLimits | None = None,
) -> CompactedFile:
    """Rewrite `src` with the day's unified `schema`: casts that only widen (struct fields
    added by name, integers to doubles, anything to VARCHAR where ranges disagree), nulls for
    the columns it lacks."""
    con = _connect(work_dir, limits)
    try:
        source = f"read_parquet({literal(str(src))})"
        present = {
            str(r[0]): parse(str(r[1]))
            for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
        }
        select = ", ".join(
            f"{_conformed(present.get(n), n, kind)} AS {quote(n)}" for n, kind in schema
        )
        con.execute(
            f"COPY (SELECT {select} FROM {source}) TO {literal(str(dest))} "
            f"(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL {ZSTD_LEVEL}, "
            f"ROW_GROUP_SIZE {ROW_GROUP_ROWS})"
        )
        return _written(con, dest)
    finally:
        con.close()
