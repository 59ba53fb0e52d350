# GENERATED from contracts/schemas by `make models` (datamodel-code-generator). Do not edit by hand.

from __future__ import annotations

from datetime import date as date_aliased
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import TypeAliasType


class Source(BaseModel):
    """
    Where the small files were read from.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    bucket: Annotated[
        str,
        Field(
            description="Landing bucket name.",
            pattern="^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
        ),
    ]
    prefix: Annotated[
        str,
        Field(
            description="Key prefix of the day's landing files, e.g. topics/orders/year=2026/month=11/day=21/.",
            max_length=1024,
            min_length=1,
        ),
    ]
    files: Annotated[int, Field(description="Landing files read.", ge=0)]
    bytes: Annotated[
        int, Field(description="Total size of the landing files read, in bytes.", ge=0)
    ]
    records: Annotated[
        int | None,
        Field(
            description="Lines read from the landing files (blank lines excluded), valid or not: output.records plus quarantine.records.",
            ge=0,
        ),
    ] = None


ValuesAdditionalProperty = TypeAliasType(
    "ValuesAdditionalProperty",
    Annotated[str, Field(description="Partition value.", max_length=256, min_length=1)],
)


class Partition(BaseModel):
    """
    The catalog partition of the day: registered in the catalog, except for NO_INPUT, where it names the partition a later compaction would register.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    values: Annotated[
        dict[
            Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,63}$")],
            ValuesAdditionalProperty,
        ],
        Field(
            description='Partition column -> value, e.g. {"dt": "2026-11-21"}.',
            max_length=8,
            min_length=1,
        ),
    ]
    location: Annotated[
        str,
        Field(
            description="s3:// location of the partition.",
            pattern="^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$",
        ),
    ]


ReasonsAdditionalProperty = TypeAliasType(
    "ReasonsAdditionalProperty",
    Annotated[int, Field(description="Lines set aside for this reason.", ge=1)],
)


class Quarantine(BaseModel):
    """
    Where the lines that were set aside went, and why; absent when none was.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    records: Annotated[
        int,
        Field(description="Lines set aside (equals output.rejected_records).", ge=0),
    ]
    location: Annotated[
        str,
        Field(
            description="s3:// prefix of the quarantine files of the day, one NDJSON line per set-aside line with its landing key, line number and reason.",
            pattern="^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$",
        ),
    ]
    reasons: Annotated[
        dict[
            Annotated[
                str,
                StringConstraints(pattern=r"^[a-z_]+(:[A-Za-z_][A-Za-z0-9_]{0,254})?$"),
            ],
            ReasonsAdditionalProperty,
        ],
        Field(
            description='Reason code -> lines, e.g. {"invalid_json": 3, "missing:order_id": 1, "type:amount": 2}.',
            max_length=200,
        ),
    ]


class Table(BaseModel):
    """
    A Glue catalog table.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    database: Annotated[
        str, Field(description="Glue database name.", pattern="^[a-z0-9_]{1,255}$")
    ]
    name: Annotated[
        str, Field(description="Glue table name.", pattern="^[a-z0-9_]{1,255}$")
    ]
    location: Annotated[
        str,
        Field(
            description="s3:// location of the table (its partitions are below it).",
            pattern="^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$",
        ),
    ]


class Column(BaseModel):
    """
    One column of the compacted table.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    name: Annotated[
        str,
        Field(
            description="Column name as written to Parquet and registered in the catalog.",
            pattern="^[a-z_][a-z0-9_]{0,254}$",
        ),
    ]
    type: Annotated[
        str,
        Field(
            description="Glue/Athena type, e.g. bigint, double, string, boolean, timestamp, array<string>, struct<a:int>.",
            pattern="^[a-z][a-z0-9_<>,:() ]{0,2047}$",
        ),
    ]


class File(BaseModel):
    """
    One Parquet file the compactor wrote.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    uri: Annotated[
        str,
        Field(
            description="s3:// URI of the file.",
            pattern="^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$",
        ),
    ]
    bytes: Annotated[int, Field(description="File size in bytes.", ge=1)]
    records: Annotated[int, Field(description="Records in the file.", ge=0)]


class SchemaChange(BaseModel):
    """
    One column that differs from the catalog table.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    column: Annotated[
        str, Field(description="Column name.", pattern="^[a-z_][a-z0-9_]{0,254}$")
    ]
    change: Annotated[
        Literal["ADDED", "ABSENT", "TYPE_CHANGED"],
        Field(
            description="ADDED: new in this day. ABSENT: in the table, not in this day's input (null in its files). TYPE_CHANGED: the day's type differs (the table keeps the widened type)."
        ),
    ]
    from_type: Annotated[
        str | None,
        Field(
            description="The table's type before (absent for ADDED).",
            pattern="^[a-z][a-z0-9_<>,:() ]{0,2047}$",
        ),
    ] = None
    to_type: Annotated[
        str | None,
        Field(
            description="The type now (absent for ABSENT).",
            pattern="^[a-z][a-z0-9_<>,:() ]{0,2047}$",
        ),
    ] = None


class Output(BaseModel):
    """
    What the lake holds for the day now.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    files: Annotated[
        list[File],
        Field(
            description="Parquet files of the day, in key order; empty for NO_INPUT.",
            max_length=10000,
        ),
    ]
    records: Annotated[
        int,
        Field(
            description="Records written (sum over files). Equals the valid records read; invalid lines are counted in rejected_records.",
            ge=0,
        ),
    ]
    bytes: Annotated[
        int, Field(description="Total size of the Parquet files, in bytes.", ge=0)
    ]
    rejected_records: Annotated[
        int,
        Field(
            description="Landing lines set aside, not written: lines that are not a JSON object and records that break the domain's declared fields (see quarantine).",
            ge=0,
        ),
    ] = 0


class CompactorDomainProcessedV1(BaseModel):
    """
    The compactor finished one domain for one UTC day: the day's small landing files are one or a few large Parquet files in the lake, and the day's partition is registered in the Glue catalog. Published at least once per (request_id, domain, date); consumers key on domain + date + output_hash. Also published when there was nothing to do, so a requester always hears back.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    request_id: Annotated[
        str,
        Field(
            description="The request_id of the compactor.compaction.requested.v1 this answers.",
            max_length=128,
            min_length=1,
            pattern="^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
        ),
    ]
    domain: Annotated[
        str,
        Field(
            description="The domain that was compacted (its Kafka topic and landing prefix).",
            pattern="^[a-z][a-z0-9_]{0,63}$",
        ),
    ]
    date: Annotated[date_aliased, Field(description="The UTC day that was compacted.")]
    status: Annotated[
        Literal["COMPACTED", "ALREADY_COMPACTED", "NO_INPUT"],
        Field(
            description="COMPACTED: the day's files were compacted now. ALREADY_COMPACTED: the day was compacted before from the same input files (a redelivery, or a request without force); the output fields describe the files that are there. NO_INPUT: the domain had no landing files for the day; nothing was written."
        ),
    ]
    source: Annotated[
        Source, Field(description="Where the small files were read from.")
    ]
    table: Annotated[Table, Field(description="The lake table the day now belongs to.")]
    partition: Annotated[
        Partition,
        Field(
            description="The catalog partition of the day: registered in the catalog, except for NO_INPUT, where it names the partition a later compaction would register."
        ),
    ]
    output: Annotated[Output, Field(description="What the lake holds for the day now.")]
    columns: Annotated[
        list[Column],
        Field(
            description="Columns of the compacted files (partition columns excluded), in file order.",
            max_length=2000,
        ),
    ]
    schema_hash: Annotated[
        str,
        Field(
            description="SHA-256 (hex) of the columns as name:type lines; a consumer sees a schema change by comparing one value.",
            pattern="^[0-9a-f]{64}$",
        ),
    ]
    output_hash: Annotated[
        str,
        Field(
            description="SHA-256 (hex) over the output files' URIs and sizes; the same day compacted from the same input gives the same value, so consumers can drop duplicates.",
            pattern="^[0-9a-f]{64}$",
        ),
    ]
    processed_at: Annotated[
        AwareDatetime,
        Field(
            description="When the compactor finished the domain-day (RFC 3339 with a time zone)."
        ),
    ]
    quarantine: Annotated[
        Quarantine | None,
        Field(
            description="Where the lines that were set aside went, and why; absent when none was."
        ),
    ] = None
    schema_changes: Annotated[
        list[SchemaChange] | None,
        Field(
            description="How the day's columns differ from the catalog table as it was before this compaction; empty when they do not, or when the table is new.",
            max_length=2000,
        ),
    ] = None
