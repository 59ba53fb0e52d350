# GENERATED from contracts/schemas by `make models` (datamodel-code-generator). Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, RootModel


class Source(BaseModel):
    """
    The RAW object that was processed.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    bucket: Annotated[
        str, Field(description="RAW bucket name.", max_length=63, min_length=3)
    ]
    key: Annotated[
        str,
        Field(
            description="Object key, decoded (not URL-encoded).",
            max_length=1024,
            min_length=1,
        ),
    ]
    etag: Annotated[
        str,
        Field(
            description="ETag of the object version that was read, without quotes.",
            max_length=128,
            min_length=1,
        ),
    ]
    version_id: Annotated[
        str | None,
        Field(
            description="S3 version id of the object that was read, when the bucket is versioned and the event carried it.",
            max_length=1024,
        ),
    ] = None
    size: Annotated[int | None, Field(description="Object size in bytes.", ge=0)] = None
    format: Annotated[
        Literal["csv", "json", "ndjson", "xlsx", "parquet"] | None,
        Field(description="File format the object was read as."),
    ] = None


class TrustedItem(RootModel[str]):
    root: Annotated[
        str,
        Field(
            description="One Hive-style partition path.",
            pattern="^[a-z_]+=[^/]+(/[a-z_]+=[^/]+)*$",
        ),
    ]


class DeliveryItem(RootModel[str]):
    root: Annotated[
        str,
        Field(
            description="One Hive-style partition path.",
            pattern="^[a-z_]+=[^/]+(/[a-z_]+=[^/]+)*$",
        ),
    ]


class Partitions(BaseModel):
    """
    Partitions that received rows from this object, as Hive-style partition paths relative to the table location, per layer.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    trusted: Annotated[
        list[TrustedItem],
        Field(
            description="TRUSTED partitions written, e.g. year=2024/month=01/day=15."
        ),
    ]
    delivery: Annotated[
        list[DeliveryItem],
        Field(
            description="DELIVERY partitions written, e.g. record_type=DETAIL/year=2024/month=01/day=15."
        ),
    ]


class Rows(BaseModel):
    """
    Row counts of this object. in = out + quarantined + duplicates.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    in_: Annotated[
        int,
        Field(
            alias="in",
            description="Data rows read from the object (header excluded), including rows the reader rejected.",
            ge=0,
        ),
    ]
    out: Annotated[
        int,
        Field(
            description="Rows written to TRUSTED (and as DETAIL rows to DELIVERY).",
            ge=0,
        ),
    ]
    quarantined: Annotated[
        int,
        Field(
            description="Rows written to QUARANTINE because they failed a hard rule.",
            ge=0,
        ),
    ]
    duplicates: Annotated[
        int,
        Field(
            description="Rows not written because their key was already seen, earlier in the object or in TRUSTED.",
            ge=0,
        ),
    ]


class TrustedItem1(RootModel[str]):
    root: Annotated[str, Field(description="An s3:// URI.", pattern="^s3://")]


class DeliveryItem1(RootModel[str]):
    root: Annotated[str, Field(description="An s3:// URI.", pattern="^s3://")]


class QuarantineItem(RootModel[str]):
    root: Annotated[str, Field(description="An s3:// URI.", pattern="^s3://")]


class Column(BaseModel):
    """
    One table column.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    name: Annotated[
        str, Field(description="Column name.", pattern="^[a-z_][a-z0-9_]{0,127}$")
    ]
    type: Annotated[
        Literal["bigint", "double", "string", "date", "timestamp", "boolean"],
        Field(
            description="Glue/Athena type: bigint, double, string, date, timestamp, boolean."
        ),
    ]


class Table(BaseModel):
    """
    A Glue catalog table.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    database: Annotated[str, Field(description="Glue database name.", min_length=1)]
    name: Annotated[str, Field(description="Glue table name.", min_length=1)]
    location: Annotated[
        str, Field(description="s3:// location of the table.", pattern="^s3://")
    ]


class Outputs(BaseModel):
    """
    Where the outputs of this object are.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    trusted: Annotated[
        list[TrustedItem1],
        Field(description="s3:// URIs of the TRUSTED Parquet objects written."),
    ]
    delivery: Annotated[
        list[DeliveryItem1],
        Field(
            description="s3:// URIs of the DELIVERY Parquet objects written (DETAIL and DAILY_SUMMARY)."
        ),
    ]
    quarantine: Annotated[
        list[QuarantineItem],
        Field(
            description="s3:// URIs of the QUARANTINE objects written (rejected rows with the failed rule); empty when nothing was quarantined."
        ),
    ]
    trusted_table: Annotated[
        Table | None,
        Field(
            description="The TRUSTED table: Glue database, table name and s3:// location."
        ),
    ] = None
    delivery_table: Annotated[
        Table | None,
        Field(
            description="The DELIVERY table: Glue database, table name and s3:// location."
        ),
    ] = None


class Columns(BaseModel):
    """
    Columns of the TRUSTED and DELIVERY tables (partition keys excluded), with Glue/Athena types, so a catalog can register them.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    trusted: Annotated[
        list[Column],
        Field(description="TRUSTED table columns in file order.", min_length=1),
    ]
    delivery: Annotated[
        list[Column],
        Field(description="DELIVERY table columns in file order.", min_length=1),
    ]


class EtlDeliveryPublishedV1(BaseModel):
    """
    etl-layers finished one RAW object (one S3 key at one version/ETag): its rows are in TRUSTED and DELIVERY, the rows that failed a hard rule are in QUARANTINE, and the Glue catalog partitions are registered. Published at least once per RAW object version; consumers key on source.bucket + source.key + source.etag.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    dataset: Annotated[
        str,
        Field(
            description="Name of the dataset declaration the RAW object was routed to (the first segment of its key).",
            pattern="^[a-z][a-z0-9_]{0,63}$",
        ),
    ]
    source: Annotated[Source, Field(description="The RAW object that was processed.")]
    partitions: Annotated[
        Partitions,
        Field(
            description="Partitions that received rows from this object, as Hive-style partition paths relative to the table location, per layer."
        ),
    ]
    rows: Annotated[
        Rows,
        Field(
            description="Row counts of this object. in = out + quarantined + duplicates."
        ),
    ]
    mean_quality_score: Annotated[
        float | None,
        Field(
            description="Mean data_quality_score (0 to 1) of the rows written to TRUSTED; null when no row was written.",
            ge=0.0,
            le=1.0,
        ),
    ]
    outputs: Annotated[
        Outputs, Field(description="Where the outputs of this object are.")
    ]
    columns: Annotated[
        Columns,
        Field(
            description="Columns of the TRUSTED and DELIVERY tables (partition keys excluded), with Glue/Athena types, so a catalog can register them."
        ),
    ]
    manifest: Annotated[
        str | None,
        Field(
            description="s3:// URI of the manifest object (in TRUSTED) recording this object's processing; it lists every output even when this message's lists are truncated.",
            pattern="^s3://",
        ),
    ] = None
    truncated: Annotated[
        bool | None,
        Field(
            description="True when the partitions and outputs lists were cut to keep the message under the SNS size limit (a file spanning hundreds of days); the manifest has them all. Absent or false otherwise."
        ),
    ] = None
    pipeline_version: Annotated[
        str,
        Field(
            description="Version of the transformation that produced the outputs (etl-layers package version).",
            max_length=64,
            min_length=1,
        ),
    ]
    processed_at: Annotated[
        AwareDatetime,
        Field(
            description="When processing of the object finished (RFC 3339 with a time zone)."
        ),
    ]
