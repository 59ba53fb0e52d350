"""DuckDB's column types as values: parsed from what DESCRIBE prints, widened across ranges,
rendered back for a CAST, and named as Glue (Hive) types.

The compactor reads and writes Parquet with DuckDB alone, so the Lambda package carries no
second columnar library (pyarrow would add 166 MB to DuckDB's 68 MB).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

STRUCT, LIST, MAP = "STRUCT", "LIST", "MAP"
_INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")
_UNSIGNED = {
    "UTINYINT": "SMALLINT",
    "USMALLINT": "INTEGER",
    "UINTEGER": "BIGINT",
    "UBIGINT": "HUGEINT",
}
_FLOATS = ("FLOAT", "DOUBLE")
_TIMESTAMPS = (
    "TIMESTAMP_S",
    "TIMESTAMP_MS",
    "TIMESTAMP",
    "TIMESTAMP_NS",
    "TIMESTAMP WITH TIME ZONE",
)
_STRINGS = ("VARCHAR", "JSON", "UUID")
_GLUE_SCALARS = {
    "BOOLEAN": "boolean",
    "TINYINT": "tinyint",
    "SMALLINT": "smallint",
    "INTEGER": "int",
    "BIGINT": "bigint",
    "HUGEINT": "decimal(38,0)",
    "FLOAT": "float",
    "DOUBLE": "double",
    "DATE": "date",
    "BLOB": "binary",
}


class SchemaConflictError(ValueError):
    """Two ranges of a day hold one column with types no widening reconciles."""


@dataclass(frozen=True)
class DuckType:
    """A scalar (`name` as DuckDB prints it, e.g. BIGINT, DECIMAL(18,3), TIMESTAMP WITH TIME
    ZONE) or a nested type: STRUCT (named fields), LIST (one element), MAP (key, value)."""

    name: str
    fields: tuple[tuple[str, DuckType], ...] = ()

    @property
    def nested(self) -> bool:
        return self.name in (STRUCT, LIST, MAP)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1

    def _peek(self) -> str:
        self._skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _expect(self, char: str) -> None:
        if self._peek() != char:
            raise ValueError(f"expected {char!r} at {self.pos} in {self.text!r}")
        self.pos += 1

    def _identifier(self) -> str:
        self._skip()
        if self._peek() == '"':
            self.pos += 1
            out = []
            while True:
                end = self.text.index('"', self.pos)
                out.append(self.text[self.pos : end])
                self.pos = end + 1
                if self.text[self.pos : self.pos + 1] != '"':
                    return "".join(out)
                out.append('"')
                self.pos += 1
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ' ,()[]"':
            self.pos += 1
        return self.text[start : self.pos]

    def _words(self) -> str:
        """A scalar type name: words up to a delimiter, with its (arguments) if any."""
        words = [self._identifier()]
        while self._peek() and self._peek() not in ",)[(":
            words.append(self._identifier())
        name = " ".join(words)
        if self._peek() == "(":
            end = self.text.index(")", self.pos)
            name += self.text[self.pos : end + 1].replace(" ", "")
            self.pos = end + 1
        return name

    def parse(self) -> DuckType:
        if self._peek() == '"':
            base = DuckType(self._identifier())  # "NULL": a column null in every record
        else:
            start = self.pos
            word = self._identifier().upper()
            if word in (STRUCT, MAP) and self._peek() == "(":
                base = self._struct() if word == STRUCT else self._map()
            else:
                self.pos = start
                base = DuckType(self._words())
        while self._peek() == "[":
            self.pos = self.text.index("]", self.pos) + 1
            base = DuckType(LIST, (("element", base),))
        return base

    def _struct(self) -> DuckType:
        self._expect("(")
        fields = []
        while True:
            name = self._identifier()
            fields.append((name, self.parse()))
            if self._peek() == ",":
                self.pos += 1
                continue
            self._expect(")")
            return DuckType(STRUCT, tuple(fields))

    def _map(self) -> DuckType:
        self._expect("(")
        key = self.parse()
        self._expect(",")
        value = self.parse()
        self._expect(")")
        return DuckType(MAP, (("key", key), ("value", value)))


def parse(text: str) -> DuckType:
    parser = _Parser(text)
    parsed = parser.parse()
    if parser._peek():
        raise ValueError(f"unexpected {text[parser.pos :]!r} in {text!r}")
    return parsed


def quote(name: str) -> str:
    """`name` as a SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """`text` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def render(kind: DuckType) -> str:
    """The type as a CAST target."""
    if kind.name == STRUCT:
        return "STRUCT(" + ", ".join(f"{quote(n)} {render(t)}" for n, t in kind.fields) + ")"
    if kind.name == LIST:
        return render(kind.fields[0][1]) + "[]"
    if kind.name == MAP:
        return f"MAP({render(kind.fields[0][1])}, {render(kind.fields[1][1])})"
    if kind.name == "NULL":
        return "VARCHAR"  # nothing to keep: any type will do, and the catalog says string
    return kind.name


def glue_type(kind: DuckType, rename: Callable[[str], str] = str.lower) -> str:
    """The Glue/Athena type, struct field names passed through `rename`."""
    if kind.name == STRUCT:
        inner = ",".join(f"{rename(n)}:{glue_type(t, rename)}" for n, t in kind.fields)
        return f"struct<{inner}>"
    if kind.name == LIST:
        return f"array<{glue_type(kind.fields[0][1], rename)}>"
    if kind.name == MAP:
        key, value = (glue_type(t, rename) for _, t in kind.fields)
        return f"map<{key},{value}>"
    if kind.name in _GLUE_SCALARS:
        return _GLUE_SCALARS[kind.name]
    if kind.name in _UNSIGNED:
        return _GLUE_SCALARS[_UNSIGNED[kind.name]]
    if kind.name.startswith("DECIMAL"):
        return kind.name.lower()
    if kind.name in _TIMESTAMPS:
        return "timestamp"
    return "string"  # VARCHAR, JSON, UUID, a column null in every record


def _integer(name: str) -> str | None:
    name = _UNSIGNED.get(name, name)
    return name if name in _INTEGERS else None


def _numeric(name: str) -> bool:
    return _integer(name) is not None or name in _FLOATS or name.startswith("DECIMAL")


def _widen_scalars(a: str, b: str) -> str | None:
    ia, ib = _integer(a), _integer(b)
    if ia and ib:
        return max(ia, ib, key=_INTEGERS.index)
    if _numeric(a) and _numeric(b):
        return "DOUBLE"  # an integer or a decimal where another range holds fractions
    if {a, b} <= {*_TIMESTAMPS, "DATE"}:
        return max((a, b), key=lambda t: _TIMESTAMPS.index(t) if t in _TIMESTAMPS else -1)
    if {a, b} <= set(_STRINGS):
        return "VARCHAR"
    if {a, b} <= {*_STRINGS, *_TIMESTAMPS, "DATE", "TIME"}:
        return "VARCHAR"  # a string beside a detected timestamp: the text holds both
    return None


VARCHAR = DuckType("VARCHAR")


def widen(a: DuckType, b: DuckType, where: str = "", *, strict: bool = False) -> DuckType:
    """One type holding both: integers into doubles, struct fields merged by name, a type null
    everywhere giving way to the other, a timestamp and a string into a string. Types nothing
    else reconciles (a string and an integer, an object and a number) become VARCHAR, which
    holds every value as its text (a JSON object or array as its JSON); with `strict` they are
    a SchemaConflictError instead."""
    if a == b:
        return a
    if a.name == "NULL":
        return b
    if b.name == "NULL":
        return a
    if a.name == b.name == STRUCT:
        return DuckType(STRUCT, tuple(merge([a.fields, b.fields], where, strict=strict).items()))
    if a.name == b.name and a.name in (LIST, MAP):
        pairs = zip(a.fields, b.fields, strict=True)
        return DuckType(
            a.name,
            tuple((n, widen(x, y, f"{where}.{n}", strict=strict)) for (n, x), (_, y) in pairs),
        )
    if not a.nested and not b.nested:
        widened = _widen_scalars(a.name, b.name)
        if widened is not None:
            return DuckType(widened)
    if strict:
        raise SchemaConflictError(
            f"{where or 'a column'}: {render(a)} and {render(b)} do not widen"
        )
    return VARCHAR


Schema = Sequence[tuple[str, DuckType]]


def merge(
    schemas: Sequence[Schema], where: str = "", *, strict: bool = False
) -> dict[str, DuckType]:
    """Columns by name in first-seen order, each widened over every schema that has it."""
    out: dict[str, DuckType] = {}
    for schema in schemas:
        for name, kind in schema:
            out[name] = (
                widen(out[name], kind, f"{where}.{name}".lstrip("."), strict=strict)
                if name in out
                else kind
            )
    return out


def is_stringlike(kind: DuckType) -> bool:
    return kind.name in _STRINGS


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def lower(name: str) -> str:
    """A name as DuckDB compares names: ASCII letters without case."""
    return name.translate(_ASCII_LOWER)


def case_spellings(
    schema: Sequence[tuple[str, DuckType]],
    declared: Sequence[str] = (),
    fold: Callable[[str], str] = lower,
) -> dict[tuple[str, ...], str]:
    """The names of `schema` (nested ones too) that another name of their object equals once
    both are folded (`fold`: by default ASCII case, as DuckDB compares names), by folded path,
    with the spelling kept: the declared one, else the first (the columns come in the order
    most records have them)."""
    found: dict[tuple[str, ...], str] = {}
    first = {fold(name): name for name in reversed(declared)}
    stack: list[tuple[tuple[str, ...], Sequence[tuple[str, DuckType]], dict[str, str]]] = [
        ((), schema, first)
    ]
    while stack:
        path, fields, kept = stack.pop()
        spellings: dict[str, set[str]] = {}
        for name, kind in fields:
            low = fold(name)
            spellings.setdefault(low, set()).add(name)
            kept.setdefault(low, name)
            inner = kind
            while inner.name == LIST:
                inner = inner.fields[0][1]
            if inner.name == STRUCT:
                stack.append(((*path, low), inner.fields, {}))
        for low, names in spellings.items():
            if len(names) > 1 or kept[low] not in names:
                found[(*path, low)] = kept[low]
    return found
