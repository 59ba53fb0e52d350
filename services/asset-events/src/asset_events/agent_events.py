"""Agent events from the input stream (plain JSON, not CloudEvents: any Kinesis client can
write them), checked against their contract and turned into the decisor's inputs."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from rocket_contracts import edge, registry
from rocket_contracts.bus import ContractViolation
from rocket_contracts.models.assets.run_completed_v1 import AssetsRunCompletedV1
from rocket_contracts.models.assets.table_observed_v1 import AssetsTableObservedV1
from rocket_contracts.validation import errors as schema_errors
from rocket_contracts.validation import known_part

from asset_events.domain import (
    AssetRef,
    Column,
    Observation,
    Origin,
    OriginKind,
    RunCompleted,
)
from asset_events.hashing import DEFAULT_VOLATILE_PROPERTIES, canonical_content, sha256_hex

TYPE_BY_STATUS = {
    "running": "assets.table.observed.v1",
    "completed": "assets.run.completed.v1",
}


def asset_ref(system: str, database: str, schema: str | None, table: str) -> AssetRef:
    """Agents' identifiers are unquoted SQL names (no `-`), so `--` joins database and schema
    without ambiguity and the asset id keeps its three parts."""
    return AssetRef(system, database if schema is None else f"{database}--{schema}", table)


def correlation_id(agent: str, run_id: str) -> str:
    return f"{agent}:{run_id}"


def parse(
    data: bytes, *, volatile: frozenset[str] = DEFAULT_VOLATILE_PROPERTIES
) -> Observation | RunCompleted:
    """One stream record's data; ContractViolation when it is not a valid agent event."""
    try:
        document = edge.loads(data)
    except edge.UnsafeInputError as exc:
        raise ContractViolation("not acceptable JSON", [f"$: {exc.reason}"]) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractViolation("not JSON", [f"$: {exc}"]) from exc
    if not isinstance(document, dict):
        raise ContractViolation("not an agent event", ["$: not a JSON object"])
    event_type = TYPE_BY_STATUS.get(str(document.get("status")))
    if event_type is None:
        known = ", ".join(sorted(TYPE_BY_STATUS))
        raise ContractViolation("not an agent event", [f"$.status: not one of {known}"])
    schema = registry.schema_for(event_type)
    known_data: dict[str, Any]
    known_data, _ignored = known_part(schema, document)
    problems = schema_errors(schema, known_data)
    if problems:
        raise ContractViolation(f"invalid {event_type}", problems)
    try:
        if event_type == "assets.run.completed.v1":
            return _completed(AssetsRunCompletedV1.model_validate(known_data))
        return observation(AssetsTableObservedV1.model_validate(known_data), volatile=volatile)
    except ValidationError as exc:
        problems = [str(e["msg"]) for e in exc.errors()]
        raise ContractViolation(f"invalid {event_type}", problems) from exc


def observation(
    event: AssetsTableObservedV1, *, volatile: frozenset[str] = DEFAULT_VOLATILE_PROPERTIES
) -> Observation:
    asset = asset_ref(event.system, event.database, event.schema_, event.table)
    columns = tuple(Column(c.name, c.type, c.nullable) for c in event.columns)
    content = canonical_content(
        asset, columns, event.location, dict(event.properties or {}), volatile=volatile
    )
    return Observation(
        asset=asset,
        agent=event.agent,
        run_id=event.run_id,
        observed_at=event.emitted_at,
        columns=columns,
        location=event.location,
        content=content,
        content_hash=sha256_hex(content),
        origin=Origin(OriginKind.AGENT, event.event_id, event.run_id),
        correlation_id=correlation_id(event.agent, event.run_id),
    )


def _completed(event: AssetsRunCompletedV1) -> RunCompleted:
    return RunCompleted(
        agent=event.agent,
        run_id=event.run_id,
        event_id=event.event_id,
        completed_at=event.emitted_at,
        tables_reported=event.tables_reported,
        tables_failed=event.tables_failed,
        correlation_id=correlation_id(event.agent, event.run_id),
    )
