"""Screening landing lines before they are parsed into columns.

Each non-blank line of a landing file must be a JSON object whose declared fields are present
(when required) and of the declared type. A line that is not is set aside with its file, line
number and reason; it is never coerced and never fails the range. What passes is written on,
byte for byte, to the one file the range's columns are parsed from.

Two ways give the same verdicts. The exact way parses each whole line with orjson and checks
the declared fields in Python. The fast way (a `Screener`'s default) decodes each line straight
into its declared fields with msgspec, which checks their types in C and skips the rest of the
line unparsed; a line it refuses is screened again the exact way for its reason. What the fast
way cannot see, because it skips it (invalid UTF-8 or a number no double holds in a field that
is not declared), the range's chunks are checked for before they are parsed
(`compaction.RangeLines(check_skipped=True)`): a range with such a line is screened again, all
of it, the exact way.
"""

from __future__ import annotations

import functools
import json
import operator
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Protocol

import msgspec
import orjson

from compactor.domains import FieldSpec, FieldType
from compactor.schema import catalog_name

INVALID_JSON = "invalid_json"
INVALID_ENCODING = "invalid_encoding"
# Two or more JSON values on one line (`{...}{...}`): a line is one record, and splitting it
# would make the records out differ from the lines in.
SEVERAL_RECORDS = "several_records_on_one_line"
NOT_AN_OBJECT = "not_an_object"
# An integer no BIGINT holds where the domain does not declare a double: DuckDB would fail the
# range's parse on it (up to 2^64) or read it as a double that is not its value (past it).
INTEGER_OUT_OF_RANGE = "integer_out_of_range"
# Field names DuckDB cannot make columns of (its names ignore ASCII case), which fail the
# range's parse; only the strict screening looks for them (see `Screener`).
DUPLICATE_FIELD = "duplicate_field"
EMPTY_FIELD_NAME = "empty_field_name"
FIELD_CASE_CONFLICT = "field_case_conflict"
# The reasons of a record that breaks the domain's declared fields (`missing:<field>`,
# `type:<field>`), as against a line that is not a record at all.
CONTRACT_REASONS = ("missing:", "type:")
# A quarantined line keeps this much of its text: enough to see the problem, bounded in size.
RAW_KEPT = 4096
# Landing files the fast way decodes in one call (`Screener.screen_files`): a few hundred KB.
RUN_FILES = 64
_BOM = b"\xef\xbb\xbf"

# fullmatch, not `$`: `$` also matches before a trailing newline, and the value is checked as
# written, never trimmed. A time is 00:00-23:59:59 and an offset at most 23:59, and an offset
# only follows a time: DuckDB's TIMESTAMPTZ refuses the rest (25:00, a leap second 23:59:60,
# "2026-11-21Z"), and one value it refuses would fail the range's whole parse. It reads an
# offset past 23:59 as some other instant, and keeps microseconds: a fraction with a digit
# past the sixth that is not 0 would be cut, so it is refused, not read as another value.
# ASCII: a str pattern's \d also matches other scripts' digits, which DuckDB does not read.
_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6}0{0,3})?)?"
    r"(Z|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)?)?",
    re.ASCII,
).fullmatch
# The form most producers write (UTC, whole seconds): the same strings the general pattern
# accepts, matched in about half the time because nothing in it is optional.
_COMMON = r"\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ"
_COMMON_TIMESTAMP = re.compile(_COMMON, re.ASCII).fullmatch
# Values of that form, one a line: a file's timestamps checked in one match, not one each.
_COMMON_TIMESTAMP_LINES = re.compile(rf"(?:{_COMMON}\n)*{_COMMON}", re.ASCII).fullmatch
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII).fullmatch


# A day's records share a handful of dates: each is checked once, not once per record.
@functools.lru_cache(maxsize=1024)
def _is_day(day: str) -> bool:
    try:
        date.fromisoformat(day)
    except ValueError:
        return False
    return True


def _is_timestamp(value: object) -> bool:
    if not isinstance(value, str):
        return False
    if _COMMON_TIMESTAMP(value) is None and _TIMESTAMP(value) is None:
        return False
    return _is_day(value[:10])


def _common_timestamps(values: list[Any]) -> bool:
    """Whether every value is a timestamp of the common form (False: look at each, which also
    takes the other forms). Joined a line each, so a value holding a newline is seen by the
    count."""
    try:
        joined = "\n".join(values)
    except TypeError:  # a value that is not a string
        return False
    if joined.count("\n") != len(values) - 1 or _COMMON_TIMESTAMP_LINES(joined) is None:
        return False
    return all(_is_day(day) for day in {value[:10] for value in values})


def _is_date(value: object) -> bool:
    return isinstance(value, str) and _DATE(value) is not None and _is_day(value[:10])


# What Parquet's (and DuckDB's) BIGINT holds: a larger integer would fail the range's parse.
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1


def _is_bigint(value: object) -> bool:
    return type(value) is int and BIGINT_MIN <= value <= BIGINT_MAX


_CHECKS: dict[FieldType, Callable[[object], bool]] = {
    FieldType.STRING: lambda v: isinstance(v, str),
    FieldType.BIGINT: _is_bigint,
    # An integer is a double's value: widening it loses nothing.
    FieldType.DOUBLE: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    FieldType.BOOLEAN: lambda v: isinstance(v, bool),
    FieldType.TIMESTAMP: _is_timestamp,
    FieldType.DATE: _is_date,
    FieldType.OBJECT: lambda v: isinstance(v, dict),
    FieldType.ARRAY: lambda v: isinstance(v, list),
}


class Sink(Protocol):
    """Where the lines that pass go: a file, or a range's chunks."""

    def write(self, data: bytes, /) -> object: ...


@dataclass(frozen=True)
class Rejection:
    key: str
    line: int
    reason: str
    raw: str

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "line": self.line, "reason": self.reason, "raw": self.raw}


@dataclass
class Screened:
    """What the lines of a range gave: counts and set-aside lines."""

    lines: int = 0
    passed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return self.lines - self.passed

    def reject(self, key: str, number: int, line: bytes, reason: str) -> None:
        self.reasons[reason] += 1
        raw = line[:RAW_KEPT].decode("utf-8", errors="replace")
        self.rejections.append(Rejection(key, number, reason, raw))

    def reject_object(self, key: str, reason: str) -> None:
        """A landing object none of whose lines can be read: one line in and set aside, at
        line 0 (its records are not known)."""
        self.lines += 1
        self.reject(key, 0, b"", reason)


# A declared field's check: its name, required, the one Python type that passes without a
# closer look (None: always look), and the closer look. Most values are of the exact type, so
# the common case costs one type() comparison instead of a call.
Check = tuple[str, bool, type | None, Callable[[object], bool]]

# BIGINT has none: its range is always looked at.
_EXACT: dict[FieldType, type] = {
    FieldType.STRING: str,
    FieldType.DOUBLE: float,
    FieldType.BOOLEAN: bool,
    FieldType.OBJECT: dict,
    FieldType.ARRAY: list,
}


@functools.cache
def checks_of(fields: tuple[FieldSpec, ...]) -> tuple[Check, ...]:
    return tuple(
        (spec.name, spec.required, _EXACT.get(spec.type), _CHECKS[spec.type]) for spec in fields
    )


def _violation(record: dict[str, Any], checks: tuple[Check, ...]) -> str | None:
    for name, required, exact, check in checks:
        value = record.get(name)
        if value is None:
            if required:
                return f"missing:{name}"
            continue
        if type(value) is not exact and not check(value):
            return f"type:{name}"
    return None


def violation(record: dict[str, Any], fields: tuple[FieldSpec, ...]) -> str | None:
    """The first declared field the record breaks, as a reason code, or None."""
    return _violation(record, checks_of(fields))


def _reason_for_unparsable(line: bytes) -> str:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return INVALID_ENCODING
    return SEVERAL_RECORDS if _several_values(text) else INVALID_JSON


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is no JSON")


_JSON = json.JSONDecoder(parse_constant=_no_constant)


def _several_values(text: str) -> bool:
    """Whether `text` is two or more JSON values one after the other (spaces between)."""
    values, at = 0, 0
    while True:
        while at < len(text) and text[at] in " \t\r":
            at += 1
        if at == len(text):
            return values > 1
        try:
            _, at = _JSON.raw_decode(text, at)
        except (ValueError, RecursionError):
            return False
        values += 1


# Where a JSON number starts (not inside a word), and the digits of one that may be an
# integer past BIGINT's range: 20 or more, or 19 from 92... (2^63 is 9223372036854775808).
# The chunk check (`compaction`) looks for the same text with DuckDB.
NUMBER_START = r"(?:^|[\s,:\[])-?"
LONG_INTEGER_DIGITS = r"[0-9]{20}|9[2-9][0-9]{17}"
_LONG_INTEGER = re.compile(rf"{NUMBER_START}(?:{LONG_INTEGER_DIGITS})".encode())
# Each digit as 0, anything else as a space: a line without 19 zeros in a row then holds no
# such integer, which two C calls tell without the regular expression (a tenth of its time).
_DIGITS_AS_ZEROS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_NINETEEN_DIGITS = b"0" * 19


@functools.cache
def _doubles(checks: tuple[Check, ...]) -> frozenset[str]:
    """The declared doubles: any number is one, an integer past BIGINT's too."""
    return frozenset(name for name, _, exact, _ in checks if exact is float)


def _holds_long_integer(record: dict[str, Any], skip: frozenset[str]) -> bool:
    """Whether a value of the record (nested ones too), outside the fields in `skip`, is an
    integer no BIGINT holds."""
    stack: list[Any] = [v for k, v in record.items() if k not in skip]
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind is int:
            if not BIGINT_MIN <= value <= BIGINT_MAX:
                return True
        elif kind is dict:
            stack.extend(value.values())
        elif kind is list:
            stack.extend(value)
    return False


def _exact_reason(line: bytes, checks: tuple[Check, ...]) -> str | None:
    """Why the line is set aside, parsed whole with orjson, or None when it passes."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return _reason_for_unparsable(line)
    if type(record) is not dict:
        return NOT_AN_OBJECT
    reason = _violation(record, checks)
    if (
        reason is None
        and _NINETEEN_DIGITS in line.translate(_DIGITS_AS_ZEROS)
        and _LONG_INTEGER.search(line) is not None
    ):
        # orjson reads an integer past 2^64 as a double: Python's own parser keeps it exact.
        try:
            exact = json.loads(line)
        except RecursionError:  # nested deeper than Python's parser goes (orjson goes further)
            return INVALID_JSON
        if _holds_long_integer(exact, _doubles(checks)):
            return INTEGER_OUT_OF_RANGE
    return reason


# A field's path in lower case (lists are transparent) -> the spelling a range keeps, for the
# names that more than one spelling of the range shares.
Spellings = Mapping[tuple[str, ...], str]


class _BadNameError(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


def _object_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for name, _ in pairs:
        if name == "":
            raise _BadNameError(EMPTY_FIELD_NAME)
        if name in seen:
            raise _BadNameError(DUPLICATE_FIELD)
        seen.add(name)
    if len({catalog_name(name) for name in seen}) != len(seen):
        raise _BadNameError(FIELD_CASE_CONFLICT)
    return dict(pairs)


def _name_reason(line: bytes, spellings: Spellings) -> str | None:
    """What is wrong with the line's field names for one table: a name empty, twice in one
    object, twice in one object but for case, or spelt otherwise than the range keeps it."""
    try:
        record = json.loads(line, object_pairs_hook=_object_names)
    except _BadNameError as problem:
        return problem.reason
    except RecursionError:  # nested deeper than Python's parser goes (orjson goes further)
        return INVALID_JSON
    if not spellings:
        return None
    stack: list[tuple[tuple[str, ...], Any]] = [((), record)]
    while stack:
        path, value = stack.pop()
        if type(value) is dict:
            for name, inner in value.items():
                at = (*path, catalog_name(name))
                kept = spellings.get(at)
                if kept is not None and kept != name:
                    return FIELD_CASE_CONFLICT
                stack.append((at, inner))
        elif type(value) is list:
            stack.extend((path, inner) for inner in value)
    return None


# The declared types as msgspec checks them while decoding. A double is finite (a number past
# its range is refused, as orjson refuses it), a bigint is what BIGINT holds; timestamps and
# dates are strings whose text is looked at after the decode.
_FAST_TYPES: dict[FieldType, object] = {
    FieldType.STRING: str,
    FieldType.BIGINT: Annotated[int, msgspec.Meta(ge=BIGINT_MIN, le=BIGINT_MAX)],
    FieldType.DOUBLE: Annotated[float, msgspec.Meta(ge=-sys.float_info.max, le=sys.float_info.max)],
    FieldType.BOOLEAN: bool,
    FieldType.TIMESTAMP: str,
    FieldType.DATE: str,
    FieldType.OBJECT: dict,
    FieldType.ARRAY: list,
}
_TEXT_CHECKS: dict[FieldType, Callable[[object], bool]] = {
    FieldType.TIMESTAMP: _is_timestamp,
    FieldType.DATE: _is_date,
}
# What msgspec raises for a line it does not take: not JSON, not an object, a declared field
# missing or of another type, nested too deep.
_REFUSED = (msgspec.DecodeError, msgspec.ValidationError, RecursionError)


def _or_null(check: Callable[[object], bool]) -> Callable[[object], bool]:
    return lambda value: value is None or check(value)


class Screener:
    """Screens the landing files of one domain's range (`fast`: the msgspec way, else the exact
    way; both give the same verdicts, see the module's text).

    `strict` (the exact way only) also sets aside the lines whose field names DuckDB cannot
    make one table's columns of: a name empty, twice in an object (also but for case), or
    spelt otherwise than `spellings` keeps it. Python's own parser reads each line again for
    that, so it is for the ranges whose parse failed on such names."""

    def __init__(
        self,
        fields: tuple[FieldSpec, ...],
        *,
        fast: bool = True,
        strict: bool = False,
        spellings: Spellings | None = None,
    ) -> None:
        if strict and fast:
            raise ValueError("the strict screening is a way of the exact one")
        self.fields = fields
        self.fast = fast
        self._checks = checks_of(fields)
        checks, kept = self._checks, dict(spellings or {})

        def strict_reason(line: bytes) -> str | None:
            reason = _exact_reason(line, checks)
            return _name_reason(line, kept) if reason is None else reason

        self._reason: Callable[[bytes], str | None] = (
            strict_reason if strict else functools.partial(_exact_reason, checks=checks)
        )
        # Attributes are f0, f1, ... named in JSON by the declared names: a declared name may be
        # a Python keyword or a Struct method's name.
        attrs = {f"f{i}": spec for i, spec in enumerate(fields)}
        struct = msgspec.defstruct(
            "DeclaredFields",
            [
                (attr, _FAST_TYPES[spec.type])
                if spec.required
                else (attr, _FAST_TYPES[spec.type] | None, None)  # type: ignore[operator]
                for attr, spec in attrs.items()
            ],
            rename={attr: spec.name for attr, spec in attrs.items()},
            kw_only=True,
            gc=False,
        )
        decoder = msgspec.json.Decoder(struct)
        self._decode, self._decode_lines = decoder.decode, decoder.decode_lines
        texts = [
            (attr, check if spec.required else _or_null(check))
            for attr, spec in attrs.items()
            if (check := _TEXT_CHECKS.get(spec.type)) is not None
        ]
        self._text_values = operator.attrgetter(*(a for a, _ in texts)) if texts else None
        self._text_checks = tuple(check for _, check in texts)

    def screen(self, key: str, data: bytes, out: Sink, into: Screened) -> None:
        """Screen one landing file's lines into `into`, writing the lines that pass to `out`."""
        # A file saved by an editor or a Windows tool may start with UTF-8's byte order mark;
        # it is no part of the first record.
        data = data.removeprefix(_BOM)
        if self.fast and (records := self._whole_file_passes(data)):
            into.lines += records
            into.passed += records
            _write_whole(data, out)
            return
        _screen(key, data, self._reason, self._passes if self.fast else None, out, into)

    def screen_files(self, files: Iterable[tuple[str, bytes]], out: Sink, into: Screened) -> None:
        """Screen landing files (key, bytes), in order, as `screen` does each. The fast way
        decodes a run of RUN_FILES files in one call where every line of them passes: their
        bytes, each file ending in a newline, are then lines as one file's are, and are written
        as they are. A run where a line does not pass is screened file by file. Per file, most
        of the time went to the calls around a decode of a few KB, not to the decode."""
        if not self.fast:
            for key, data in files:
                self.screen(key, data, out, into)
            return
        run: list[tuple[str, bytes]] = []
        for item in files:
            run.append(item)
            if len(run) == RUN_FILES:
                self._screen_run(run, out, into)
                run = []
        if run:
            self._screen_run(run, out, into)

    def _screen_run(self, run: Sequence[tuple[str, bytes]], out: Sink, into: Screened) -> None:
        data = b"".join(d if d.endswith(b"\n") else d + b"\n" for _, d in run)
        if records := self._whole_file_passes(data):
            into.lines += records
            into.passed += records
            out.write(data)
            return
        for key, body in run:
            self.screen(key, body, out, into)

    def _whole_file_passes(self, data: bytes) -> int:
        """The number of records when every line of the file passes (0 otherwise: the file is
        screened line by line, which finds the reasons).

        A file as Kafka Connect writes it, one compact record a line, is decoded in one call.
        msgspec separates records by any whitespace, so the file's lines are shown to be its
        records: every newline but a last one is a `}\n{` between two records (`}` then `{`
        is valid JSON nowhere else), so no record spans two lines and each line holds at least
        one, and there are as many records as lines."""
        try:
            records = self._decode_lines(data)
        except _REFUSED:
            return 0
        newlines = data.count(b"\n")
        lines = newlines if data.endswith(b"}\n") else newlines + 1
        # A CR is left to the line-by-line way, which writes the lines without it.
        if data.count(b"}\n{") != lines - 1 or len(records) != lines or b"\r" in data:
            return 0
        return lines if self._texts_read(records) else 0

    def _passes(self, line: bytes) -> bool:
        """Whether msgspec takes the line and its timestamps and dates read; a line it does not
        pass may still pass the exact way."""
        try:
            record = self._decode(line)
        except _REFUSED:
            return False
        return self._texts_read((record,))

    def _texts_read(self, records: Sequence[Any]) -> bool:
        """Whether every declared timestamp and date of the decoded records reads as one."""
        values, checks = self._text_values, self._text_checks
        if values is None:
            return True
        if len(checks) == 1:
            # attrgetter of one name gives the value, not a tuple.
            check = checks[0]
            if check is _is_timestamp and _common_timestamps(list(map(values, records))):
                return True
            return all(check(v) for v in map(values, records))
        return all(
            all(c(v) for c, v in zip(checks, row, strict=True)) for row in map(values, records)
        )


def _screen(
    key: str,
    data: bytes,
    reason_of: Callable[[bytes], str | None],
    passes: Callable[[bytes], bool] | None,
    out: Sink,
    into: Screened,
) -> None:
    passed: list[bytes] = []
    lines = 0
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line or line.isspace():
            continue
        lines += 1
        if passes is not None and passes(line):
            passed.append(line)
            continue
        reason = reason_of(line)
        if reason is None:
            passed.append(line)
        else:
            into.reject(key, number, line, reason)
    into.lines += lines
    if not passed:
        return
    into.passed += len(passed)
    if len(passed) == lines and b"\r" not in data:
        _write_whole(data, out)
        return
    passed.append(b"")
    out.write(b"\n".join(line.rstrip(b"\r") for line in passed))


def _write_whole(data: bytes, out: Sink) -> None:
    """A file whose every line passed: its own bytes are the lines (blank lines are skipped by
    the parse), so nothing is copied."""
    out.write(data if data.endswith(b"\n") else data + b"\n")
