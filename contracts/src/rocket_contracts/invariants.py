"""Rules between fields of a message that JSON Schema cannot say.

A schema can say that ``start_date`` is a date; it cannot say that it is not after
``end_date``. The rules here are part of each type's contract all the same: ``bus.wrap`` and
``bus.publish`` refuse a message that breaks one, and ``bus.parse_record`` turns one into a
``ContractViolation`` (a poison message for the consumer to quarantine), exactly like a schema
error. They run only on data that already validated against its schema, so they may trust the
types.

Adding a rule to an existing version narrows it just like tightening the schema would: the
compatibility gate cannot see Python, so such a change needs a new ``v<N+1>`` like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date
from typing import Any

Data = Mapping[str, Any]
Rule = Callable[[Data], Iterator[str]]


def _day(value: str) -> date:
    return date.fromisoformat(value)


def _range_in_order(data: Data) -> Iterator[str]:
    if _day(data["end_date"]) < _day(data["start_date"]):
        yield f"end_date: {data['end_date']} is before start_date {data['start_date']}"


def _range_within_ten_years(data: Data) -> Iterator[str]:
    # The SGS API answers at most ten years of a daily series per call.
    start = _day(data["start_date"])
    try:
        limit = start.replace(year=start.year + 10)
    except ValueError:  # 29 February ten years on is not a day
        limit = start.replace(year=start.year + 10, day=28)
    if _day(data["end_date"]) > limit:
        yield f"end_date: {data['end_date']} is more than ten years after start_date"


def _missing_days_fit_the_range(data: Data) -> Iterator[str]:
    days = (_day(data["end_date"]) - _day(data["start_date"])).days + 1
    if days > 0 and data["missing_days"] > days:  # a backwards range is reported on its own
        yield f"missing_days: {data['missing_days']} is more than the {days} days of the range"


def _written_dates_inside_the_range(data: Data) -> Iterator[str]:
    first, last = data.get("first_date"), data.get("last_date")
    if (first is None) != (last is None):
        yield "first_date: first_date and last_date come together"
        return
    if (first is not None) != (data["points_written"] > 0):
        yield "points_written: first_date and last_date are present exactly when it is > 0"
    if first is None or last is None:
        return
    if not _day(data["start_date"]) <= _day(first) <= _day(last) <= _day(data["end_date"]):
        yield "first_date: start_date <= first_date <= last_date <= end_date does not hold"


def _output_totals_add_up(data: Data) -> Iterator[str]:
    output = data["output"]
    for total in ("records", "bytes"):
        summed = sum(file[total] for file in output["files"])
        if output[total] != summed:
            yield f"output.{total}: {output[total]} is not the sum over output.files ({summed})"


def _status_matches_input(data: Data) -> Iterator[str]:
    status, read = data["status"], data["source"]["files"]
    if status == "NO_INPUT" and (read != 0 or data["output"]["files"]):
        yield "status: NO_INPUT with landing files read or output files written"
    if status == "COMPACTED" and read == 0:
        yield "status: COMPACTED but no landing file was read"


def _output_under_its_partition_and_table(data: Data) -> Iterator[str]:
    table, partition = data["table"]["location"], data["partition"]["location"]
    if not partition.startswith(table.rstrip("/") + "/"):
        yield f"partition.location: {partition} is not under table.location {table}"
    for index, file in enumerate(data["output"]["files"]):
        if not file["uri"].startswith(partition.rstrip("/") + "/"):
            yield f"output.files[{index}].uri: {file['uri']} is not under partition.location"


def _asset_id_names_the_asset(data: Data) -> Iterator[str]:
    asset = data["asset"]
    expected = f"{asset['system']}.{asset['database']}.{asset['table']}"
    if data["asset_id"] != expected:
        yield f"asset_id: {data['asset_id']} is not <system>.<database>.<table> ({expected})"


def _content_is_the_hashed_snapshot(data: Data) -> Iterator[str]:
    if data["content"]["sha256"] != data["content_hash"]:
        yield "content.sha256: differs from content_hash"
    if data["previous_hash"] == data["content_hash"]:
        yield "previous_hash: equals content_hash, so nothing changed"


def _created_has_no_previous_state(data: Data) -> Iterator[str]:
    if (data["change"] == "CREATED") != (data["previous_hash"] is None):
        yield "previous_hash: null exactly when change is CREATED"


RULES: dict[str, tuple[Rule, ...]] = {
    "gapscraper.download.requested.v1": (
        _range_in_order,
        _range_within_ten_years,
        _missing_days_fit_the_range,
    ),
    "gapscraper.series.updated.v1": (_range_in_order, _written_dates_inside_the_range),
    "compactor.domain.processed.v1": (
        _output_totals_add_up,
        _status_matches_input,
        _output_under_its_partition_and_table,
    ),
    "assets.upsert.requested.v1": (_asset_id_names_the_asset, _content_is_the_hashed_snapshot),
    "assets.drop.requested.v1": (_asset_id_names_the_asset,),
    "assets.asset.upserted.v1": (
        _asset_id_names_the_asset,
        _content_is_the_hashed_snapshot,
        _created_has_no_previous_state,
    ),
    "assets.asset.dropped.v1": (_asset_id_names_the_asset,),
}
"""Event type -> the rules its data keeps beyond its schema (types without any are absent)."""


def errors(event_type: str, data: Data, *, at: str = "$.data") -> list[str]:
    """Every rule ``data`` (already valid against its schema) breaks, as ``<path>: <why>``."""
    return [f"{at}.{problem}" for rule in RULES.get(event_type, ()) for problem in rule(data)]
