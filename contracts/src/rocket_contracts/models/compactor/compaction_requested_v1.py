# GENERATED from contracts/schemas by `make models` (datamodel-code-generator). Do not edit by hand.

from __future__ import annotations

from datetime import date as date_aliased
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, RootModel


class Domain(RootModel[str]):
    root: Annotated[
        str,
        Field(
            description="A domain name: lowercase letters, digits and underscores.",
            pattern="^[a-z][a-z0-9_]{0,63}$",
        ),
    ]


class CompactorCompactionRequestedV1(BaseModel):
    """
    Ask the compactor to compact one UTC day of small JSON files that Kafka Connect landed for some domains into large Parquet files in the lake and register the day's catalog partitions. The daily schedule sends one for yesterday; anyone may send one to compact again. The compactor holds a lock per domain and day, so concurrent or redelivered requests never compact the same day twice at once.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    request_id: Annotated[
        str,
        Field(
            description="Idempotency key chosen by the producer (the schedule uses compactor-daily:<date>). Redelivering a request never compacts a (domain, day) twice; every compactor.domain.processed.v1 it causes carries it back.",
            max_length=128,
            min_length=1,
            pattern="^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
        ),
    ]
    date: Annotated[
        date_aliased,
        Field(
            description="The UTC day to compact. Which landing files belong to it is the domain's setting: the date in the key (a time-based partitioner's year=/month=/day=/hour= path) or the object's LastModified in UTC."
        ),
    ]
    domains: Annotated[
        list[Domain] | None,
        Field(
            description="Domains (Kafka topics, one landing prefix each) to compact, one workflow execution each. Absent means every domain the compactor declares.",
            max_length=500,
            min_length=1,
        ),
    ] = None
    force: Annotated[
        bool,
        Field(
            description="Compact again even if the day was already compacted from the same input files (for example to apply a new compaction setting). Without it such a day is reported as ALREADY_COMPACTED and left as is."
        ),
    ] = False
    requested_by: Annotated[
        str,
        Field(
            description="Who asked (a schedule, pipeline or person), for the audit trail.",
            max_length=128,
            min_length=1,
        ),
    ]
    requested_at: Annotated[
        AwareDatetime,
        Field(description="When the request was made (RFC 3339 with a time zone)."),
    ]
