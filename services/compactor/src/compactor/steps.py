"""What travels through the state machine between steps: small, typed, no listing.

Step Functions caps a state's payload at 256 KB, so the plan (a manifest of keys per range)
and each range's result stay in S3; only their keys, counts and the range indices travel.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from compactor.domains import NAME_PATTERN


class Job(BaseModel):
    """One (domain, day) execution: what the request asked, and who runs it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    request_id: str = Field(min_length=1, max_length=128)
    domain: str = Field(pattern=NAME_PATTERN)
    date: date
    force: bool = False
    correlation_id: str = Field(min_length=1)
    # The execution's name: the owner of the day's lock.
    execution: str = Field(min_length=1, max_length=80)


class Outcome(StrEnum):
    PLANNED = "planned"  # ranges to compact, then finalize
    BUSY = "busy"  # another execution holds the day: this one ends, cleanly
    DONE = "done"  # compacted before and not forced: finalize republishes what is there
    EMPTY = "empty"  # no landing file for the day: finalize says so


class Planned(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    outcome: Outcome
    plan_id: str | None = None
    manifest_key: str | None = None
    # The ranges' indices ride in the payload for the inline Map; past the inline limit they
    # are only in S3 (`ranges_key`, a JSON array) for the Distributed Map to read, and
    # `ranges` is empty: Step Functions refuses payloads over 256 KB.
    ranges: list[int] = Field(default_factory=list)
    range_count: int | None = Field(default=None, ge=0)  # None: planned before it was counted
    ranges_key: str | None = None
    distributed: bool = False
    files: int = 0
    bytes: int = 0
    holder: str | None = None

    @property
    def indices(self) -> Sequence[int]:
        """Every range of the plan, however the Map was given them."""
        return self.ranges if self.range_count is None else range(self.range_count)


class RangeTask(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    job: Job
    manifest_key: str
    index: int = Field(ge=0)


class RangeDone(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    index: int
    rows: int
    rejected: int


class FinalizeTask(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    job: Job
    planned: Planned


class Finalized(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: str
    files: int
    records: int
    rejected: int
