"""Readers: turn one RAW file into the DuckDB relation `raw_rows` (declared columns as text).

Every format ends in the same shape, one VARCHAR column per declared column (NULL when the
file lacks an optional column), so the rules are written once. Nothing is loaded whole into
Python: CSV, JSON and Parquet are scanned by DuckDB, xlsx is streamed by openpyxl in batches.
Rows the CSV reader cannot split (too many or too few fields, invalid UTF-8) land in the table
`ReadResult.rejects_sql` with the reason, to be quarantined.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from etl_layers import numbers
from etl_layers.datasets import DatasetSpec
from etl_layers.sql import lit, q, trimmed_or_null

SAMPLE_BYTES = 64 * 1024
XLSX_BATCH_ROWS = 10_000
DELIMITERS = (",", ";", "\t", "|")
_VALID_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}")
# Bytes Windows-1252 writes as text (euro sign, dashes, curly quotes, ellipsis) where Latin-1
# has control characters no text holds: a file that is not UTF-8 and has them is Windows-1252.
_C1_BYTE = re.compile(rb"[\x80-\x9f]")
WINDOWS_1252 = "windows-1252"


def _c1_as_latin1(error: UnicodeError) -> tuple[str, int]:
    # The five bytes Windows-1252 leaves undefined are read as Latin-1 reads them, as
    # browsers do.
    assert isinstance(error, UnicodeDecodeError)
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("etl-layers-c1-as-latin1", _c1_as_latin1)


NO_REJECTS = """
    SELECT NULL::BIGINT AS line, NULL::VARCHAR AS failed_rules, NULL::VARCHAR AS error,
           NULL::VARCHAR AS raw_record
    WHERE false
"""
CSV_REJECTS = """
    SELECT line AS line,
           string_agg(DISTINCT 'reader:' || lower(replace(error_type, ' ', '_')), ',')
               AS failed_rules,
           string_agg(DISTINCT error_message, '; ') AS error,
           first(csv_line) AS raw_record
    FROM csv_rejects GROUP BY line
"""


class FileFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    NDJSON = "ndjson"
    XLSX = "xlsx"
    PARQUET = "parquet"


class UnreadableFileError(Exception):
    """The file as a whole cannot be read as its dataset; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MissingColumnsError(UnreadableFileError):
    """The header does not name every required column."""


@dataclass(frozen=True)
class ReadResult:
    format: FileFormat
    encoding: str | None = None
    delimiter: str | None = None
    ignored_columns: tuple[str, ...] = ()
    # SELECT of the rows the reader rejected (line, failed_rules, error, raw_record); it can
    # only run after `raw_rows` has been scanned.
    rejects_sql: str = NO_REJECTS
    # The file's line the header is on (1 unless lines above it were skipped).
    header_line: int = 1
    # The numeric columns whose values `raw_rows` marks as numbers or text, in a boolean
    # column each (`numbers.typed_column`): a number is read as it is, text in the file's style.
    typed: tuple[str, ...] = ()


_EXTENSIONS = {
    ".csv": FileFormat.CSV,
    ".txt": FileFormat.CSV,
    ".tsv": FileFormat.CSV,
    ".json": FileFormat.JSON,
    ".ndjson": FileFormat.NDJSON,
    ".jsonl": FileFormat.NDJSON,
    ".xlsx": FileFormat.XLSX,
    ".parquet": FileFormat.PARQUET,
}


def detect_format(key: str) -> FileFormat:
    suffix = Path(key).suffix.lower()
    try:
        return _EXTENSIONS[suffix]
    except KeyError:
        raise UnreadableFileError(f"unsupported file type {suffix or '(none)'!r}") from None


def normalize_header(name: str) -> str:
    """`Descrição` -> `descricao`, `Data Lançamento` -> `data_lancamento`, `Valor (R$)` ->
    `valor`: accents folded, case and punctuation ignored, a unit in parentheses dropped."""
    decomposed = unicodedata.normalize("NFKD", name)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    folded = re.sub(r"\([^)]*\)", " ", folded)
    return re.sub(r"[^a-z0-9]+", "_", folded).strip("_")


@dataclass(frozen=True)
class CreditDebitSource:
    """The source columns one declared number is read from, when the header has them apart."""

    credit: str | None
    debit: str | None


def credit_or_debit(credit: str | None, debit: str | None) -> str | None:
    """The amount's text from a row's credit and debit texts: the credit as written, the debit
    with a minus before it. A row with both, or a debit already signed (`--50,00`), is no
    number: it fails `type:<col>` with the texts in its error, never a guess."""
    credit = (credit or "").strip() or None
    debit = (debit or "").strip() or None
    if credit is not None and debit is not None:
        return f"credit {credit} and debit {debit}"
    return f"-{debit}" if debit is not None else credit


def _credit_or_debit_sql(source: CreditDebitSource) -> str:
    """`credit_or_debit` in SQL, over the source columns (either may be absent)."""
    credit, debit = (
        trimmed_or_null(q(n)) if n is not None else "NULL::VARCHAR"
        for n in (source.credit, source.debit)
    )
    return (
        f"CASE WHEN {credit} IS NOT NULL AND {debit} IS NOT NULL "
        f"THEN 'credit ' || {credit} || ' and debit ' || {debit} "
        f"WHEN {debit} IS NOT NULL THEN '-' || {debit} ELSE {credit} END"
    )


@dataclass(frozen=True)
class SignedSource:
    """A declared number's own column and the column beside it that says debit or credit,
    with the (folded) values that say which."""

    value: str
    sign: str
    debit: tuple[str, ...]
    credit: tuple[str, ...]


# How a declared number is read when the header gives it more than one column.
Derived = CreditDebitSource | SignedSource


def signed(value: str | None, mark: str | None, source: SignedSource) -> str | None:
    """The amount's text from its own text and its debit/credit mark: a debit is negative
    (written with its minus or not), a credit as written. A credit written negative, or a mark
    that is neither, is no number: it fails `type:<col>` showing both."""
    value = (value or "").strip() or None
    folded = normalize_header(mark or "")
    if value is None or not folded:
        return value
    negative = value.startswith("-")
    if folded in source.debit:
        return value if negative else f"-{value}"
    if folded in source.credit:
        return f"credit {value}" if negative else value
    return f"{value} marked {(mark or '').strip()}"


def _signed_sql(source: SignedSource) -> str:
    """`signed` in SQL, over the two source columns."""
    value = trimmed_or_null(q(source.value))
    mark = q(source.sign)
    folded = (
        f"trim(regexp_replace(lower(strip_accents(trim({mark}))), '[^a-z0-9]+', '_', 'g'), '_')"
    )
    debit, credit = (", ".join(map(lit, values)) for values in (source.debit, source.credit))
    return (
        f"CASE WHEN {value} IS NULL THEN NULL WHEN coalesce({folded}, '') = '' THEN {value} "
        f"WHEN {folded} IN ({debit}) THEN "
        f"CASE WHEN starts_with({value}, '-') THEN {value} ELSE '-' || {value} END "
        f"WHEN {folded} IN ({credit}) THEN "
        f"CASE WHEN starts_with({value}, '-') THEN 'credit ' || {value} ELSE {value} END "
        f"ELSE {value} || ' marked ' || trim({mark}) END"
    )


def _derived_sql(source: Derived) -> str:
    if isinstance(source, SignedSource):
        return _signed_sql(source)
    return _credit_or_debit_sql(source)


def map_columns(
    header: Sequence[str], spec: DatasetSpec, splits: dict[str, Derived] | None = None
) -> tuple[dict[str, str], list[str]]:
    """Declared column -> source column name, and the source columns nobody declared. With
    `splits` (a dict to fill: CSV and workbooks), a number whose own names are not in the
    header is read from its credit and debit columns when the header has either, and one whose
    own column is there from it and its debit/credit mark, when the header has the mark's.

    Header names that fold to one (`Valor (R$)` and `Valor (US$)`, as card statements write
    them) are told apart by the unit in parentheses: the one whose unit is none or one of the
    dataset's currency signs is the column. Where that leaves more than one, the file cannot
    say which it means, and it is refused rather than read from a guess."""
    by_normal: dict[str, list[str]] = {}
    for name in header:
        by_normal.setdefault(normalize_header(name), []).append(name)
    mapping: dict[str, str] = {}
    for column in spec.columns:
        for candidate in map(normalize_header, column.header_names()):
            if candidate in by_normal:
                mapping[column.name] = _one_of(column.name, by_normal[candidate], spec.currency)
                break
    if splits is not None:
        splits.update(_derived(by_normal, mapping, spec))
    split = splits or {}
    missing = [
        c.name for c in spec.columns if c.required and c.name not in mapping and c.name not in split
    ]
    if missing:
        raise MissingColumnsError(
            f"header lacks required columns {missing}; found {list(header)[:20]}"
        )
    used = set(mapping.values()) | {n for s in split.values() for n in _sources(s) if n is not None}
    return mapping, [name for name in header if name not in used]


def _derived(
    by_normal: dict[str, list[str]], mapping: dict[str, str], spec: DatasetSpec
) -> dict[str, Derived]:
    """The numbers the header gives in two columns: credit and debit where the number's own
    names are absent, its own column and a debit/credit mark where the mark's names are there."""
    found: dict[str, Derived] = {}

    def first(names: Sequence[str], label: str) -> str | None:
        return next(
            (
                _one_of(label, by_normal[n], spec.currency)
                for n in map(normalize_header, names)
                if n in by_normal
            ),
            None,
        )

    for column in spec.columns:
        if column.credit_debit is not None and column.name not in mapping:
            credit = first(column.credit_debit.credit, f"{column.name} (credit)")
            debit = first(column.credit_debit.debit, f"{column.name} (debit)")
            if credit or debit:
                found[column.name] = CreditDebitSource(credit, debit)
        if column.sign_column is not None and column.name in mapping:
            mark = first(column.sign_column.names, f"{column.name} (sign)")
            if mark is not None:
                found[column.name] = SignedSource(
                    mapping[column.name],
                    mark,
                    tuple(map(normalize_header, column.sign_column.debit)),
                    tuple(map(normalize_header, column.sign_column.credit)),
                )
    return found


def _one_of(column: str, names: Sequence[str], currency: Sequence[str]) -> str:
    if len(names) == 1:
        return names[0]
    own = [n for n in names if (unit := _unit(n)) is None or unit in currency]
    if len(own) == 1:
        return own[0]
    listed = ", ".join(repr(n) for n in names)
    raise UnreadableFileError(
        f"the header has {len(names)} columns that read as {column} ({listed}): rename or "
        "drop all but one in the export"
    )


def _unit(name: str) -> str | None:
    found = re.search(r"\(([^)]*)\)", name)
    return found.group(1).strip() if found else None


def _sources(source: Derived) -> tuple[str | None, ...]:
    if isinstance(source, SignedSource):
        return (source.value, source.sign)
    return (source.credit, source.debit)


def _select_declared(
    mapping: dict[str, str],
    spec: DatasetSpec,
    cast: bool = False,
    splits: dict[str, Derived] | None = None,
) -> str:
    parts = []
    for column in spec.columns:
        source = mapping.get(column.name)
        if splits and column.name in splits:
            parts.append(f"{_derived_sql(splits[column.name])} AS {q(column.name)}")
        elif source is None:
            parts.append(f"NULL::VARCHAR AS {q(column.name)}")
        elif cast:
            parts.append(f"CAST({q(source)} AS VARCHAR) AS {q(column.name)}")
        else:
            parts.append(f"{q(source)} AS {q(column.name)}")
    return ", ".join(parts)


# --- CSV -------------------------------------------------------------------------------------


def detect_encoding(sample: bytes) -> str:
    """utf-8 (BOM or not) unless the bytes are not UTF-8 and hold no UTF-8 sequence at all.

    A file that is mostly UTF-8 with a few broken bytes stays utf-8, so only the broken rows
    are rejected (and quarantined), instead of the whole file being decoded wrongly.
    """
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "utf-8" if _VALID_MULTIBYTE.search(sample) else "latin-1"
    return "utf-8"


ENCODING_CHUNK_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ByteScan:
    """What one pass over a CSV's bytes tells: its encoding and whether its line endings
    change within it (both must hold for the whole file, not for a sample)."""

    encoding: str
    mixed_line_endings: bool


def scan_bytes(path: Path) -> ByteScan:
    """`detect_encoding` and the line endings over the whole file, read in chunks: a Latin-1
    file whose first accented byte comes after the first 64 KiB is still Latin-1, and rows
    that switch to CRLF after it are still seen."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    broken = multibyte = c1 = False
    tail = b""
    crlf = bare_lf = False
    with path.open("rb") as handle:
        while chunk := handle.read(ENCODING_CHUNK_BYTES):
            # Counting is only needed in chunks that hold a CR; elsewhere one LF found (a
            # search that stops at the first) says the file has bare LFs.
            joined = tail.endswith(b"\r") and chunk.startswith(b"\n")
            if joined or b"\r" in chunk:
                pairs = chunk.count(b"\r\n") + joined
                crlf = crlf or pairs > 0
                bare_lf = bare_lf or chunk.count(b"\n") > pairs
            elif not bare_lf:
                bare_lf = b"\n" in chunk
            # Most chunks of most files are plain ASCII: nothing to decode or search there,
            # unless the previous chunk ended inside a multi-byte sequence.
            ascii_only = chunk.isascii() and not decoder.getstate()[0]
            tail, previous = chunk[-3:], tail
            if ascii_only:
                continue
            # A sequence cut by the chunk boundary is searched whole with the next chunk.
            multibyte = multibyte or bool(_VALID_MULTIBYTE.search(previous + chunk))
            c1 = c1 or bool(_C1_BYTE.search(chunk))
            if not broken:
                try:
                    decoder.decode(chunk, final=False)
                except UnicodeDecodeError:
                    broken = True
    if not broken:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            broken = True
    encoding = "utf-8"
    if broken and not multibyte:
        encoding = WINDOWS_1252 if c1 else "latin-1"
    return ByteScan(encoding, crlf and bare_lf)


def detect_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _sample_text(path: Path, encoding: str) -> str:
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if not sample.strip(b"\xef\xbb\xbf \r\n\t"):
        raise UnreadableFileError("empty file")
    return sample.decode(encoding, errors="replace").lstrip("\ufeff")


_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def transcode_utf16(path: Path) -> bool:
    """Rewrite a UTF-16 file with its byte-order mark (Excel's "Unicode Text", tab-separated)
    as UTF-8, in place and streamed; whether it was one. Bytes that are no UTF-16 refuse the
    file: decoded with replacement characters, their rows would be read as other text."""
    with path.open("rb") as handle:
        if handle.read(2) not in _UTF16_BOMS:
            return False
    # The decoder takes the byte order from the mark and drops it.
    try:
        _rewrite_as_utf8(path, codecs.getincrementaldecoder("utf-16")())
    except _TranscodeError as failed:
        raise UnreadableFileError(
            f"the file starts with UTF-16's byte-order mark, but its bytes near byte "
            f"{failed.at:,} are no UTF-16 text: export it again, as UTF-16 or UTF-8"
        ) from failed
    return True


class _TranscodeError(Exception):
    def __init__(self, at: int) -> None:
        super().__init__(f"undecodable bytes near byte {at}")
        self.at = at


def _rewrite_as_utf8(path: Path, decoder: codecs.IncrementalDecoder) -> None:
    """Rewrite `path` as UTF-8, in place and streamed, decoding it with `decoder`."""
    target = path.with_name(path.name + ".utf8")
    offset = 0
    try:
        with path.open("rb") as source, target.open("wb") as out:
            while chunk := source.read(ENCODING_CHUNK_BYTES):
                out.write(decoder.decode(chunk).encode("utf-8"))
                offset += len(chunk)
            out.write(decoder.decode(b"", final=True).encode("utf-8"))
    except UnicodeError as exc:
        target.unlink(missing_ok=True)
        raise _TranscodeError(offset + getattr(exc, "start", 0)) from exc
    target.replace(path)


def normalize_line_endings(path: Path) -> None:
    """Rewrite CRLF as LF, in place and streamed: a file whose header ends in LF and whose
    rows end in CRLF (hand-edited exports) is otherwise split wrongly by the CSV scanner."""
    target = path.with_name(path.name + ".lf")
    with path.open("rb") as source, target.open("wb") as out:
        carry = b""
        while chunk := source.read(ENCODING_CHUNK_BYTES):
            chunk = carry + chunk
            carry = b"\r" if chunk.endswith(b"\r") else b""
            out.write(chunk[: len(chunk) - len(carry)].replace(b"\r\n", b"\n"))
        out.write(carry)
    target.replace(path)


# Bank statements put lines above the header (the account, the period, a blank line): the
# header is the first of a file's first lines that names every required column.
HEADER_SEARCH_LINES = 30
_LINE_END = re.compile(r"\r\n|\r|\n")


def find_header(lines: Sequence[str], spec: DatasetSpec) -> int:
    """The index of the header among `lines` (a file's first lines, as the CSV scanner counts
    them): the first that names every required column, else 0, whose error then says what
    the first line holds."""
    for index, line in enumerate(lines[:HEADER_SEARCH_LINES]):
        if not line.strip():
            continue
        row = next(csv.reader([line], delimiter=detect_delimiter(line)), [])
        try:
            map_columns(row, spec, {})
        except MissingColumnsError:
            continue
        except UnreadableFileError:
            pass  # the header, naming a column twice: reading it says so
        return index
    return 0


def stage_csv(con: duckdb.DuckDBPyConnection, path: Path, spec: DatasetSpec) -> ReadResult:
    utf16 = transcode_utf16(path)
    scan = scan_bytes(path)
    if scan.mixed_line_endings:
        normalize_line_endings(path)
    encoding = scan.encoding
    if encoding == WINDOWS_1252:
        # DuckDB reads UTF-8, UTF-16 and Latin-1 only (others need an extension it downloads).
        _rewrite_as_utf8(
            path, codecs.getincrementaldecoder("cp1252")(errors="etl-layers-c1-as-latin1")
        )
        encoding = "utf-8"
    text = _sample_text(path, encoding)
    lines = _LINE_END.split(text)
    start = find_header(lines, spec)
    lines = lines[start:]
    delimiter = detect_delimiter(lines[0])
    sample_rows = list(csv.reader(io.StringIO("\n".join(lines[:200])), delimiter=delimiter))
    header = sample_rows[0]
    splits: dict[str, Derived] = {}
    mapping, ignored = map_columns(header, spec, splits)
    unique_header = _unique(header)
    columns = "{" + ", ".join(f"{lit(n)}: 'VARCHAR'" for n in unique_header) + "}"
    renamed = {k: unique_header[header.index(v)] for k, v in mapping.items()}

    def unique(name: str) -> str:
        return unique_header[header.index(name)]

    unique_splits: dict[str, Derived] = {
        k: (
            dataclasses.replace(s, value=unique(s.value), sign=unique(s.sign))
            if isinstance(s, SignedSource)
            else CreditDebitSource(*(None if n is None else unique(n) for n in _sources(s)))
        )
        for k, s in splits.items()
    }
    con.execute(
        f"""
        CREATE VIEW raw_rows AS
        SELECT {_select_declared(renamed, spec, splits=unique_splits)}
        FROM read_csv({lit(str(path))}, header = true, auto_detect = false, skip = {start},
                      delim = {lit(delimiter)}, quote = '"', escape = '"',
                      encoding = {lit(encoding)}, columns = {columns},
                      strict_mode = true, ignore_errors = true, store_rejects = true,
                      rejects_table = 'csv_rejects', rejects_scan = 'csv_reject_scans',
                      null_padding = false, max_line_size = 1048576)
        """
    )
    read_as = "utf-16" if utf16 else scan.encoding
    return ReadResult(
        FileFormat.CSV, read_as, delimiter, tuple(ignored[:50]), CSV_REJECTS, header_line=start + 1
    )


def _unique(header: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for raw in header:
        name = raw or "column"
        count = seen.get(name, 0)
        seen[name] = count + 1
        out.append(name if count == 0 else f"{name}__{count}")
    return out


# --- JSON ------------------------------------------------------------------------------------


def _json_layout(path: Path) -> str:
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES).lstrip(b"\xef\xbb\xbf \r\n\t")
    if not sample:
        raise UnreadableFileError("empty file")
    if sample.startswith(b"["):
        return "array"
    # A record of JSON Lines is one line; a line holding only `{` starts an object written
    # over many lines (a pretty-printed export).
    return "unstructured" if sample.split(b"\n", 1)[0].strip() == b"{" else "newline_delimited"


def json_sources(keys: Sequence[str], spec: DatasetSpec) -> dict[str, list[str]]:
    """Declared column -> the keys of the file that name it, folded as CSV headers are
    (`Descrição`, `DESCRICAO` and `descricao` all name `descricao`), best alias first.
    Records may differ in their keys, so every matching key is kept, not only the first."""
    by_normal: dict[str, list[str]] = {}
    for key in sorted(keys):
        by_normal.setdefault(normalize_header(key), []).append(key)
    sources = {}
    for column in spec.columns:
        names = dict.fromkeys(map(normalize_header, column.header_names()))
        found = [key for name in names for key in by_normal.get(name, [])]
        if found:
            sources[column.name] = found
    return sources


def _json_keys(con: duckdb.DuckDBPyConnection, source: str) -> tuple[list[str], bool]:
    """The keys of every record, not a sample's (a key only later records carry still
    counts), and whether any record repeats a key, which only then is looked for record by
    record."""
    every = con.execute(
        "SELECT list_distinct(flatten(list(keys))), bool_or(len(keys) > list_unique(keys)) "
        f"FROM (SELECT DISTINCT json_keys(json) AS keys FROM {source})"
    ).fetchone()
    keys = sorted(str(key) for key in (every[0] if every and every[0] else []))
    return keys, bool(every and every[1])


# How deep an API's export may nest the records' array (`{"data": {"items": [...]}}` is 2).
WRAPPER_DEPTH = 3


def _records_path(
    con: duckdb.DuckDBPyConnection,
    source: str,
    keys: Sequence[str],
    sources: dict[str, list[str]],
    spec: DatasetSpec,
) -> str | None:
    """The JSON path of the array holding the records, when the file is one object that does
    not name every required column (`{"meta": ..., "data": [...]}`, `{"result": {"items":
    [...]}}`, as APIs export): the array of objects, at most WRAPPER_DEPTH objects down, whose
    first object names every required column. None when the file is its records (or no such
    array is there: its one record then fails the required rules, with its text). Two such
    arrays cannot say which holds the records: the file is refused."""
    required = [c.name for c in spec.columns if c.required]
    # `{"data": [...]}` names the column `date` by its Portuguese alias: only an object
    # naming every required column is surely a record.
    if not keys or all(name in sources for name in required):
        return None
    counted = con.execute(f"SELECT count(*) FROM {source}").fetchone()
    if counted is None or counted[0] != 1:
        return None
    found: list[str] = []
    level = [("$", list(keys))]
    for _ in range(WRAPPER_DEPTH):
        deeper: list[tuple[str, list[str]]] = []
        for prefix, names in level:
            for name in names[:100]:
                path = _json_path(name, prefix)
                kind, first = con.execute(
                    f"SELECT json_type(json, {lit(path)}), json_keys(json, {lit(path + '[0]')}) "
                    f"FROM {source}"
                ).fetchone() or (None, None)
                if kind == "ARRAY" and first:
                    named = json_sources([str(k) for k in first], spec)
                    if all(column in named for column in required):
                        found.append(path)
                elif kind == "OBJECT":
                    inner = con.execute(
                        f"SELECT json_keys(json, {lit(path)}) FROM {source}"
                    ).fetchone()
                    deeper.append((path, [str(k) for k in (inner[0] if inner else None) or []]))
        level = deeper
    if len(found) > 1:
        raise UnreadableFileError(
            "the file is one object with more than one array of records ("
            + ", ".join(found)
            + "): export the records as an array, or one per line"
        )
    return found[0] if found else None


def _json_path(key: str, parent: str = "$") -> str:
    # A quoted member name: keys with dots, spaces or a leading `$` are read as keys.
    return f"{parent}." + json.dumps(key, ensure_ascii=False)


def _differ(paths: Sequence[str]) -> str:
    return f"list_unique([{', '.join(paths)}]) > 1"


def _json_conflict(column: str, keys: Sequence[str], paths: Sequence[str]) -> str:
    """Why a record's `keys` (those naming `column`, read by `paths`) do not give it one
    value; NULL when they do."""
    named = f"list_filter(json_keys(json), lambda k: k IN ({', '.join(map(lit, keys))}))"
    repeated = (
        f"WHEN len({named}) > len(list_distinct({named})) THEN "
        f"{lit(column + ' is given more than once: the record repeats a key of it (')} || "
        f"array_to_string({named}, ', ') || ')'"
    )
    if len(paths) == 1:
        return f"CASE {repeated} END"
    given = " || ', ' || ".join(
        f"{lit(k + ' = ')} || COALESCE({p}, 'null')" for k, p in zip(keys, paths, strict=True)
    )
    return (
        f"CASE {repeated} WHEN {_differ(paths)} THEN "
        f"{lit(column + ' is given twice with different values: ')} || {given} END"
    )


def stage_json(con: duckdb.DuckDBPyConnection, path: Path, spec: DatasetSpec) -> ReadResult:
    layout = _json_layout(path)
    source = (
        f"read_json_objects({lit(str(path))}, format = {lit(layout)}, "
        "maximum_object_size = 16777216)"
    )
    keys, repeats = _json_keys(con, source)
    sources = json_sources(keys, spec)
    wrapper = _records_path(con, source, keys, sources, spec)
    if wrapper is not None:
        # An API's export: one object whose array holds the records.
        source = (
            f"(SELECT unnest(json_extract(json, {lit(wrapper + '[*]')})) AS json FROM {source})"
        )
        keys, repeats = _json_keys(con, source)
        sources = json_sources(keys, spec)
    selected, conflicts, differing, typed = [], [], [], []
    numeric = {c.name for c in numbers.numeric_columns(spec)}
    for column in spec.columns:
        found = sources.get(column.name, [])
        paths = [f"json_extract_string(json, {lit(_json_path(k))})" for k in found]
        if column.name in numeric and found:
            typed.append(column.name)
            selected.append(f"{_json_number(found, paths)} AS {numbers.typed_column(column.name)}")
        value = (
            "NULL::VARCHAR"
            if not paths
            else paths[0]
            if len(paths) == 1
            else f"COALESCE({', '.join(paths)})"
        )
        selected.append(f"{value} AS {q(column.name)}")
        if found:
            conflicts.append((column.name, _json_conflict(column.name, found, paths)))
        if len(paths) > 1:
            differing.append(_differ(paths))
    # A record naming a column twice (a repeated key, or two of its aliases with different
    # values) is rejected: the parser keeps the first, and which one the source meant is unknown.
    # Only files with a repeated key or a column under two keys are checked record by record,
    # and the reasons are made only for the records rejected.
    named = [k for found in sources.values() for k in found]
    repeated = ["len(__named) > list_unique(__named)"] if repeats and named else []
    checks = [*repeated, *differing]
    rejects = NO_REJECTS
    if checks:
        con.execute(f"""
            CREATE VIEW json_records AS
            SELECT json, {" OR ".join(checks)} AS __ambiguous
            FROM (SELECT json, list_filter(json_keys(json), lambda k: k IN ({
            ", ".join(map(lit, named))
        })) AS __named FROM {source})
        """)
        source = "json_records WHERE NOT __ambiguous"
        reasons = ", ".join(q("j__" + name) for name, _ in conflicts)
        rules = ", ".join(
            f"CASE WHEN {q('j__' + name)} IS NOT NULL THEN {lit('ambiguous:' + name)} END"
            for name, _ in conflicts
        )
        each = "".join(f", {why} AS {q('j__' + name)}" for name, why in conflicts)
        rejects = f"""
            SELECT NULL::BIGINT AS line, concat_ws(',', {rules}) AS failed_rules,
                   concat_ws('; ', {reasons}) AS error, json::VARCHAR AS raw_record
            FROM (SELECT json{each} FROM json_records WHERE __ambiguous)
        """
    con.execute(f"CREATE VIEW raw_rows AS SELECT {', '.join(selected)} FROM {source}")
    used = {k for found in sources.values() for k in found}
    ignored = tuple(sorted(k for k in keys if k not in used))[:50]
    fmt = FileFormat.NDJSON if layout == "newline_delimited" else FileFormat.JSON
    # A JSON record has no line of its own (an array file has one line for all).
    return ReadResult(
        fmt, "utf-8", ignored_columns=ignored, rejects_sql=rejects, typed=tuple(typed)
    )


_JSON_NUMBERS = "('BIGINT', 'UBIGINT', 'HUGEINT', 'DOUBLE')"


def _json_number(keys: Sequence[str], paths: Sequence[str]) -> str:
    """Whether the value a column is read from (the first of its keys with one) is a JSON
    number, not a string."""
    whens = " ".join(
        f"WHEN {path} IS NOT NULL THEN json_type(json, {lit(_json_path(key))}) IN {_JSON_NUMBERS}"
        for key, path in zip(keys, paths, strict=True)
    )
    return f"CASE {whens} ELSE false END"


# --- Parquet ---------------------------------------------------------------------------------


def stage_parquet(con: duckdb.DuckDBPyConnection, path: Path, spec: DatasetSpec) -> ReadResult:
    source = f"read_parquet({lit(str(path))})"
    types = {
        str(row[0]): str(row[1])
        for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    }
    mapping, ignored = map_columns(list(types), spec)
    # A number column's values are numbers; a text column's are text, read in the file's style.
    typed = [
        c.name
        for c in numbers.numeric_columns(spec)
        if c.name in mapping and _is_number_type(types[mapping[c.name]])
    ]
    marks = "".join(f", true AS {numbers.typed_column(name)}" for name in typed)
    con.execute(
        f"CREATE VIEW raw_rows AS SELECT {_select_declared(mapping, spec, cast=True)}{marks} "
        f"FROM {source}"
    )
    return ReadResult(FileFormat.PARQUET, ignored_columns=tuple(ignored[:50]), typed=tuple(typed))


def _is_number_type(duckdb_type: str) -> bool:
    return duckdb_type.split("(")[0] in {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
        "FLOAT",
        "DOUBLE",
        "DECIMAL",
    }


# --- xlsx ------------------------------------------------------------------------------------


def cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def stage_xlsx(con: duckdb.DuckDBPyConnection, path: Path, spec: DatasetSpec) -> ReadResult:
    import openpyxl  # type: ignore[import-untyped]  # only xlsx files need it

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many unrelated types for a bad zip/xml
        raise UnreadableFileError(f"not a readable xlsx workbook: {exc}") from exc
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        splits: dict[str, Derived] = {}
        header, mapping, ignored, line = _xlsx_header(rows, spec, splits)
        cells = {name: _cell_reader(header.index(source)) for name, source in mapping.items()}
        cells.update({name: _derived_reader(header, split) for name, split in splits.items()})
        marks = _number_marks(header, mapping, splits, spec)
        schema = pa.schema(
            [
                *((c.name, pa.string()) for c in spec.columns),
                *((numbers.typed_name(name), pa.bool_()) for name in marks),
            ]
        )
        con.execute(
            "CREATE TABLE xlsx_rows ("
            + ", ".join(
                [
                    *(f"{q(c.name)} VARCHAR" for c in spec.columns),
                    *(f"{numbers.typed_column(name)} BOOLEAN" for name in marks),
                ]
            )
            + ")"
        )
        for batch in _xlsx_batches(rows, cells, marks, spec, schema):
            con.register("xlsx_batch", batch)
            con.execute("INSERT INTO xlsx_rows SELECT * FROM xlsx_batch")
            con.unregister("xlsx_batch")
    finally:
        workbook.close()
    con.execute("CREATE VIEW raw_rows AS SELECT * FROM xlsx_rows")
    return ReadResult(
        FileFormat.XLSX,
        ignored_columns=tuple(ignored[:50]),
        header_line=line,
        typed=tuple(marks),
    )


def _xlsx_header(
    rows: Iterator[tuple[Any, ...]], spec: DatasetSpec, splits: dict[str, Derived]
) -> tuple[list[str], dict[str, str], list[str], int]:
    """The sheet's header (as `find_header` finds a CSV's, rows above it consumed), its
    mapping, the ignored columns and its row number."""
    first: MissingColumnsError | None = None
    for line, row in enumerate(rows, start=1):
        header = [cell_text(v) or "" for v in row]
        try:
            splits.clear()
            mapping, ignored = map_columns(header, spec, splits)
        except MissingColumnsError as exc:
            first = first or exc
            if line < HEADER_SEARCH_LINES:
                continue
            raise first from None
        return header, mapping, ignored, line
    raise first or UnreadableFileError("empty file")


Row = tuple[Any, ...]
CellReader = Callable[[Row], str | None]


def _cell(row: Row, position: int | None) -> str | None:
    return cell_text(row[position]) if position is not None and position < len(row) else None


def _cell_reader(position: int | None) -> CellReader:
    return lambda row: _cell(row, position)


def _derived_reader(header: list[str], source: Derived) -> CellReader:
    """A row's text of a number the header gives in two columns (`credit_or_debit`, `signed`)."""
    first, second = (None if n is None else header.index(n) for n in _sources(source))
    if isinstance(source, SignedSource):
        return lambda row: signed(_cell(row, first), _cell(row, second), source)
    return lambda row: credit_or_debit(_cell(row, first), _cell(row, second))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


NumberMark = Callable[[Row], bool]


def _number_marks(
    header: list[str], mapping: dict[str, str], splits: dict[str, Derived], spec: DatasetSpec
) -> dict[str, NumberMark]:
    """For each numeric column a row reads, whether its value is a number cell (for one read
    from credit and debit cells, the cell that has a value; with a debit/credit mark, the
    amount's cell), not text."""
    marks: dict[str, NumberMark] = {}
    for column in numbers.numeric_columns(spec):
        split = splits.get(column.name)
        if isinstance(split, SignedSource) or (split is None and column.name in mapping):
            own = split.value if split is not None else mapping[column.name]
            marks[column.name] = _number_cells([header.index(own)])
        elif split is not None:
            marks[column.name] = _number_cells(
                [header.index(n) for n in _sources(split) if n is not None]
            )
    return marks


def _number_cells(positions: Sequence[int]) -> NumberMark:
    """Whether a row's value from the cells at `positions` is a number: one of them is a
    number cell and the others are empty (no value, or blank text, as `credit_or_debit` takes
    it) or numbers too."""

    def mark(row: Row) -> bool:
        cells = [row[p] if p < len(row) else None for p in positions]
        cells = [None if isinstance(c, str) and not c.strip() else c for c in cells]
        return any(map(_is_number, cells)) and all(c is None or _is_number(c) for c in cells)

    return mark


def _xlsx_batches(
    rows: Iterator[Row],
    cells: dict[str, CellReader],
    marks: dict[str, NumberMark],
    spec: DatasetSpec,
    schema: pa.Schema,
) -> Iterator[pa.Table]:
    def empty() -> dict[str, list[Any]]:
        return {name: [] for name in schema.names}

    buffer = empty()
    count = 0
    for row in rows:
        if all(v is None for v in row):
            continue
        for column in spec.columns:
            reader = cells.get(column.name)
            buffer[column.name].append(reader(row) if reader is not None else None)
        for name, mark in marks.items():
            buffer[numbers.typed_name(name)].append(mark(row))
        count += 1
        if count == XLSX_BATCH_ROWS:
            yield pa.table(buffer, schema=schema)
            buffer = empty()
            count = 0
    if count:
        yield pa.table(buffer, schema=schema)


_STAGERS = {
    FileFormat.CSV: stage_csv,
    FileFormat.JSON: stage_json,
    FileFormat.NDJSON: stage_json,
    FileFormat.XLSX: stage_xlsx,
    FileFormat.PARQUET: stage_parquet,
}


def stage(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: FileFormat, spec: DatasetSpec
) -> ReadResult:
    """Create the view `raw_rows` for `path`; raise UnreadableFileError if it can't."""
    if path.stat().st_size == 0:
        raise UnreadableFileError("empty file")
    try:
        return _STAGERS[fmt](con, path, spec)
    except (duckdb.InvalidInputException, duckdb.ConversionException) as exc:
        raise UnreadableFileError(engine_reason(fmt, exc)) from exc


def engine_reason(fmt: FileFormat, exc: Exception) -> str:
    """What is wrong with the file, in words its owner can act on: no engine internals, no
    local paths."""
    text = str(exc)
    if "state machine reached an invalid state" in text:
        return (
            f"{fmt.value} file cannot be split into rows and fields: check for unbalanced "
            "quotes and for line endings that change within the file"
        )
    first = text.splitlines()[0] if text else type(exc).__name__
    first = re.sub(r"^[A-Za-z ]+Error: ", "", first)
    return f"{fmt.value} file is not readable: " + re.sub(r"(?<![\w/])/[^\s'\"]+", "<file>", first)
