"""The lake's own tables as assets: etl.delivery.published.v1 and compactor.domain.processed.v1
become reports of agent `rocket` (system `glue`), decided on the same path as an agent's."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from aws_lambda_powertools.metrics import MetricUnit
from rocket_contracts.bus import ParsedMessage
from rocket_contracts.models.compactor.domain_processed_v1 import CompactorDomainProcessedV1
from rocket_contracts.models.etl.delivery_published_v1 import EtlDeliveryPublishedV1

from asset_events.domain import (
    PLATFORM_AGENT,
    AssetRef,
    Column,
    Observation,
    Origin,
    OriginKind,
    utc_text,
)
from asset_events.hashing import canonical_content, sha256_hex
from asset_events.observability import logger, metrics

SYSTEM = "glue"
_PART = re.compile(r"^[a-z0-9_-]{1,255}$")


def _observation(
    *,
    database: str,
    table: str,
    location: str,
    columns: Iterable[tuple[str, str]],
    observed_at: datetime,
    message: ParsedMessage,
    kind: OriginKind,
) -> Observation | None:
    asset = AssetRef(SYSTEM, database.lower(), table.lower())
    # fullmatch: `$` also matches before a final newline, and "t\n" must not become a key.
    if not (_PART.fullmatch(asset.database) and _PART.fullmatch(asset.table)):
        logger.warning(
            "lake table name cannot name an asset",
            extra={"database": database, "table": table, "event_id": message.envelope.id},
        )
        metrics.add_metric(name="UnnamableTables", unit=MetricUnit.Count, value=1)
        return None
    # Glue tables are nullable columns by nature: every lake column can hold null.
    cols = tuple(Column(name, column_type, True) for name, column_type in columns)
    if not cols:
        # A day with nothing to compact announces no columns: no schema to record, and an
        # asset needs one; the table's next announcement with data registers it.
        return None
    content = canonical_content(asset, cols, location, None)
    return Observation(
        asset=asset,
        agent=PLATFORM_AGENT,
        # The announcement's own moment, so the same announcement published twice is one run.
        run_id=f"{kind.value}-{utc_text(observed_at)}",
        observed_at=observed_at,
        columns=cols,
        location=location,
        content=content,
        content_hash=sha256_hex(content),
        origin=Origin(kind, message.envelope.id),
        correlation_id=message.correlation_id,
    )


def from_etl(message: ParsedMessage) -> list[Observation]:
    data = message.data_as(EtlDeliveryPublishedV1)
    tables = [
        (data.outputs.trusted_table, data.columns.trusted),
        (data.outputs.delivery_table, data.columns.delivery),
    ]
    found = [
        _observation(
            database=table.database,
            table=table.name,
            location=table.location,
            columns=[(c.name, c.type) for c in columns],
            observed_at=data.processed_at,
            message=message,
            kind=OriginKind.ETL,
        )
        for table, columns in tables
        if table is not None
    ]
    return [o for o in found if o is not None]


def from_compactor(message: ParsedMessage) -> list[Observation]:
    data = message.data_as(CompactorDomainProcessedV1)
    found = _observation(
        database=data.table.database,
        table=data.table.name,
        location=data.table.location,
        columns=[(c.name, c.type) for c in data.columns],
        observed_at=data.processed_at,
        message=message,
        kind=OriginKind.COMPACTOR,
    )
    return [found] if found is not None else []


TRANSLATORS = {
    "etl.delivery.published.v1": from_etl,
    "compactor.domain.processed.v1": from_compactor,
}
