# GENERATED from contracts/schemas by `make models` (datamodel-code-generator). Do not edit by hand.

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import TypeAliasType

ArgumentsAdditionalProperty = TypeAliasType(
    "ArgumentsAdditionalProperty",
    Annotated[
        str,
        Field(
            description="Argument value, passed to the job unchanged.", max_length=4096
        ),
    ],
)


class IngestJobRequestedV1(BaseModel):
    """
    A producer asks ingest-gate to start a Glue job once for a transaction id. Redelivering or republishing the same request (same transaction id, job and arguments) never starts a second run; the same transaction id with a different job or different arguments is rejected as a conflicting payload.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    transaction_id: Annotated[
        str,
        Field(
            description="Idempotency key chosen by the producer: one Glue run per transaction id, ever. Letters, digits and . _ : - only, starting with a letter or digit (it becomes part of an S3 key and of a Glue argument).",
            max_length=128,
            min_length=1,
            pattern="^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
        ),
    ]
    job_name: Annotated[
        str,
        Field(
            description="Name of the Glue job to start. It must be on ingest-gate's allow-list, otherwise the request is rejected with reason UNKNOWN_JOB.",
            pattern="^[A-Za-z0-9_.-]{1,255}$",
        ),
    ]
    arguments: Annotated[
        dict[
            Annotated[
                str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,127}$")
            ],
            ArgumentsAdditionalProperty,
        ],
        Field(
            description="Job arguments as plain names (no leading --) mapped to string values; ingest-gate prefixes each name with -- when it starts the run. The name transaction_id is reserved: the gate always passes --transaction_id itself, which is how a run is found again after a crash.",
            max_length=50,
        ),
    ] = {}
    requested_by: Annotated[
        str,
        Field(
            description="Who asked for the run (a service, pipeline or person), for the audit trail.",
            max_length=128,
            min_length=1,
        ),
    ]
    requested_at: Annotated[
        AwareDatetime,
        Field(
            description="When the producer made the request (RFC 3339 with a time zone). Not part of the payload identity: a producer may retry a request later with a new requested_at."
        ),
    ]
