"""Domain values <-> the contract models of the messages the service sends and reads."""

from __future__ import annotations

import re

from rocket_contracts.bus import ParsedMessage
from rocket_contracts.models.assets import (
    asset_dropped_v1,
    asset_upserted_v1,
    drop_requested_v1,
    upsert_requested_v1,
)

from asset_events.domain import (
    PLATFORM_AGENT,
    AssetRef,
    AssetState,
    Column,
    DropRequest,
    Origin,
    OriginKind,
    UpsertRequest,
    parse_utc,
)

# Only s3:// locations travel in the messages' `location`; any other (a JDBC URL) stays in the
# stored snapshot, where it is part of the content hash.
_S3_LOCATION = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")

UPSERT_TYPE = "assets.upsert.requested.v1"
DROP_TYPE = "assets.drop.requested.v1"


def s3_location(location: str | None) -> str | None:
    return location if location and _S3_LOCATION.match(location) else None


def _origin_fields(origin: Origin) -> dict[str, str]:
    fields = {"kind": origin.kind.value, "event_id": origin.event_id}
    if origin.agent_run_id is not None:
        fields["agent_run_id"] = origin.agent_run_id
    return fields


def _origin(model: upsert_requested_v1.Origin | drop_requested_v1.Origin) -> Origin:
    return Origin(OriginKind(model.kind), model.event_id, model.agent_run_id)


def _asset_fields(asset: AssetRef) -> dict[str, str]:
    return {"system": asset.system, "database": asset.database, "table": asset.table}


def _columns(columns: tuple[Column, ...]) -> list[dict[str, object]]:
    return [{"name": c.name, "type": c.type, "nullable": c.nullable} for c in columns]


def upsert_model(request: UpsertRequest) -> upsert_requested_v1.AssetsUpsertRequestedV1:
    return upsert_requested_v1.AssetsUpsertRequestedV1.model_validate(
        {
            "decision_id": request.decision_id,
            "asset_id": request.asset_id,
            "asset": _asset_fields(request.asset),
            "agent": request.agent,
            "content_hash": request.content_hash,
            "previous_hash": request.previous_hash,
            "columns": _columns(request.columns),
            "location": s3_location(request.location),
            "content": {"uri": request.content_uri, "sha256": request.content_hash},
            "origin": _origin_fields(request.origin),
            "observed_at": request.observed_at,
            "decided_at": request.decided_at,
        }
    )


def upsert_request(message: ParsedMessage) -> UpsertRequest:
    data = message.data_as(upsert_requested_v1.AssetsUpsertRequestedV1)
    origin = _origin(data.origin)
    return UpsertRequest(
        decision_id=data.decision_id,
        asset=AssetRef(data.asset.system, data.asset.database, data.asset.table),
        agent=data.agent or (PLATFORM_AGENT if origin.kind is not OriginKind.AGENT else "unknown"),
        content_hash=data.content_hash,
        previous_hash=data.previous_hash,
        columns=tuple(Column(c.name, c.type, c.nullable) for c in data.columns),
        location=data.location,
        content_uri=data.content.uri,
        origin=origin,
        observed_at=data.observed_at,
        decided_at=data.decided_at,
        correlation_id=message.correlation_id,
    )


def drop_model(request: DropRequest) -> drop_requested_v1.AssetsDropRequestedV1:
    return drop_requested_v1.AssetsDropRequestedV1.model_validate(
        {
            "decision_id": request.decision_id,
            "asset_id": request.asset_id,
            "asset": _asset_fields(request.asset),
            "last_hash": request.last_hash,
            "reason": "NOT_SEEN_IN_COMPLETED_RUN",
            "origin": _origin_fields(request.origin),
            "last_seen_at": request.last_seen_at,
            "decided_at": request.decided_at,
        }
    )


def drop_request(message: ParsedMessage) -> DropRequest:
    data = message.data_as(drop_requested_v1.AssetsDropRequestedV1)
    return DropRequest(
        decision_id=data.decision_id,
        asset=AssetRef(data.asset.system, data.asset.database, data.asset.table),
        last_hash=data.last_hash,
        origin=_origin(data.origin),
        last_seen_at=data.last_seen_at,
        decided_at=data.decided_at,
        correlation_id=message.correlation_id,
    )


def upserted_model(state: AssetState, origin: Origin) -> asset_upserted_v1.AssetsAssetUpsertedV1:
    return asset_upserted_v1.AssetsAssetUpsertedV1.model_validate(
        {
            "asset_id": state.asset_id,
            "asset": _asset_fields(state.asset),
            "version": state.version,
            "change": "CREATED" if state.previous_hash is None else "UPDATED",
            "content_hash": state.content_hash,
            "previous_hash": state.previous_hash,
            "columns": _columns(state.columns),
            "location": s3_location(state.location),
            "content": {"uri": state.content_uri, "sha256": state.content_hash},
            "origin": _origin_fields(origin),
            "upserted_at": parse_utc(state.updated_at),
        }
    )


def dropped_model(state: AssetState, request: DropRequest) -> asset_dropped_v1.AssetsAssetDroppedV1:
    return asset_dropped_v1.AssetsAssetDroppedV1.model_validate(
        {
            "asset_id": state.asset_id,
            "asset": _asset_fields(state.asset),
            "version": state.version,
            "last_hash": state.content_hash,
            "reason": "NOT_SEEN_IN_COMPLETED_RUN",
            "origin": _origin_fields(request.origin),
            "last_seen_at": request.last_seen_at,
            "dropped_at": parse_utc(state.updated_at),
        }
    )
