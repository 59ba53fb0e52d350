"""Dataset declarations: what a RAW object routed to a dataset must look like.

A dataset is declared in `services/etl-layers/datasets/<name>.yaml` (packaged with the code);
RAW objects are routed to it by the first segment of their key (`<dataset>/...`).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"


class ColumnType(StrEnum):
    STRING = "string"
    BIGINT = "bigint"
    DOUBLE = "double"
    DATE = "date"
    TIMESTAMP = "timestamp"
    BOOLEAN = "boolean"


class DateFormat(StrEnum):
    """The order of the parts of numeric dates such as 05/01/2024 or 24-01-15."""

    DAY_FIRST = "dd/MM/yyyy"
    MONTH_FIRST = "MM/dd/yyyy"
    # Two-digit years first, as ISO dates with the century cut off.
    YEAR_FIRST = "yy-MM-dd"


class CreditDebit(BaseModel):
    """The header names of a statement's separate credit and debit columns (Bradesco's
    `Crédito (R$)` / `Débito (R$)`), which together are one amount."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    credit: tuple[str, ...] = Field(min_length=1)
    debit: tuple[str, ...] = Field(min_length=1)


class SignColumn(BaseModel):
    """The header names of a statement's column saying whether each amount is a debit or a
    credit (Caixa's `Deb/Cred`, `D`/`C`), and the values that say which (folded as headers
    are: case, accents and punctuation ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    names: tuple[str, ...] = Field(min_length=1)
    debit: tuple[str, ...] = ("d", "debito", "saida")
    credit: tuple[str, ...] = ("c", "credito", "entrada")


class ColumnSpec(BaseModel):
    """One declared column and the rules that apply to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z_][a-z0-9_]{0,127}$")
    type: ColumnType
    aliases: tuple[str, ...] = ()
    # A number read from credit and debit columns where the header names none of the column's
    # own names: a credit as written, a debit as its negative (readers.credit_or_debit).
    credit_debit: CreditDebit | None = None
    # A column beside it that says debit or credit, read as its sign (readers.signed).
    sign_column: SignColumn | None = None
    # Hard rules: a row breaking one goes to QUARANTINE with the rule's name.
    required: bool = False
    allowed: tuple[str, ...] | None = None
    # Null handling: an empty value is replaced by `default` and the row flagged.
    default: str | int | float | None = None
    # Soft rules: the row is kept and flagged; each flag lowers its quality score.
    not_negative: bool = False
    not_future: bool = False
    outliers: bool = False
    min: float | None = None
    max: float | None = None

    def header_names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    @model_validator(mode="after")
    def _check_derived(self) -> Self:
        numeric = self.type in (ColumnType.DOUBLE, ColumnType.BIGINT)
        if (self.credit_debit is not None or self.sign_column is not None) and not numeric:
            raise ValueError(f"{self.name}: credit_debit and sign_column are for numbers")
        return self


class AmountBand(BaseModel):
    """Values below `below` (and at or above the previous band) get this band's name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,31}$")
    below: float | None = None


class DecimalSeparator(StrEnum):
    COMMA = "comma"  # 1.234,56
    POINT = "point"  # 1,234.56


class DatasetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME_PATTERN)
    description: str
    key: tuple[str, ...] = Field(min_length=1)
    partition_column: str
    measure: str
    group_by: str
    columns: tuple[ColumnSpec, ...] = Field(min_length=1)
    amount_bands: tuple[AmountBand, ...] = Field(min_length=1)
    flag_penalty: float = Field(default=0.1, ge=0, le=1)
    outlier_z: float = Field(default=3.0, gt=0)
    # Used for a file whose numeric dates do not show their order (no part above 12, or
    # `24-01-15` with no date of the column saying where its year is).
    date_format: DateFormat | None = None
    # Used for a file whose numbers do not show their decimal separator (only `1.234`- or
    # `1,234`-shaped values, or whole numbers): unset, such values fail `type:<col>`.
    decimal: DecimalSeparator | None = None
    # A date or timestamp before this fails `type:<col>`: a misread year never gets through.
    min_date: date = date(1900, 1, 1)
    # The zone a timestamp written without an offset was written in (`America/Sao_Paulo`):
    # such a time is stored as the UTC instant it names there.
    timezone: str = "UTC"
    # The currency signs a number may carry (`R$ 1.234,56`, `$1,234.50`). Another sign
    # (`US$`, `€`) fails `type:<col>` saying so: a foreign amount never passes as this one.
    currency: tuple[Annotated[str, Field(pattern=r"^[^\d\s.,()+\-\u2212]{1,4}$")], ...] = (
        "R$",
        "$",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        # The zones DuckDB's ICU reads are the ones staging converts with.
        # Closed at once, not left to the garbage collector, once per dataset loaded.
        try:
            with duckdb.connect() as con:
                con.execute("SELECT timezone(?, TIMESTAMP '2000-01-01')", [value])
        except duckdb.Error:
            message = f"{value!r} is not a time zone (an IANA name: America/Sao_Paulo)"
            raise ValueError(message) from None
        return value

    @model_validator(mode="after")
    def _check_references(self) -> Self:
        by_name = {c.name: c for c in self.columns}
        if len(by_name) != len(self.columns):
            raise ValueError("column names must be unique")
        for ref in (*self.key, self.partition_column, self.measure, self.group_by):
            if ref not in by_name:
                raise ValueError(f"{ref!r} is not a declared column")
        if by_name[self.partition_column].type not in (ColumnType.DATE, ColumnType.TIMESTAMP):
            raise ValueError("partition_column must be a date or timestamp column")
        if not by_name[self.partition_column].required:
            raise ValueError("partition_column must be required")
        if by_name[self.measure].type not in (ColumnType.DOUBLE, ColumnType.BIGINT):
            raise ValueError("measure must be numeric")
        if any(not by_name[k].required for k in self.key):
            raise ValueError("key columns must be required")
        if self.amount_bands[-1].below is not None:
            raise ValueError("the last amount band must be open (no `below`)")
        return self

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)


class UnknownDatasetError(LookupError):
    """A RAW key whose first segment names no declared dataset."""


class DatasetCatalog:
    """The declared datasets, by name."""

    def __init__(self, specs: list[DatasetSpec]) -> None:
        self._specs = {spec.name: spec for spec in specs}

    @classmethod
    def load(cls, directory: Path) -> DatasetCatalog:
        specs = [
            DatasetSpec.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
            for path in sorted(directory.glob("*.yaml"))
        ]
        return cls(specs)

    def names(self) -> list[str]:
        return sorted(self._specs)

    def get(self, name: str) -> DatasetSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownDatasetError(name) from None

    def route(self, key: str) -> DatasetSpec:
        """The dataset of a RAW key `<dataset>/...`."""
        first, sep, _rest = key.partition("/")
        if not sep:
            raise UnknownDatasetError(key)
        return self.get(first)


def default_datasets_dir() -> Path:
    """The shipped declarations: `etl_layers/declarations`, a link to the service's `datasets/`
    folder, so the wheel and the Lambda package carry the same files the repository holds."""
    return Path(__file__).parent / "declarations"
