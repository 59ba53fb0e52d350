"""The stable content hash of an asset: canonical JSON of what defines it.

Keys are sorted (properties are a set: their order never changes the hash), columns keep their
order (a reordered table is a changed table), column types are compared case- and
space-insensitively, and volatile properties (row counts, access times: a declared list) are
left out, so a hash changes only when the asset does.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping

from asset_events.domain import AssetRef, Column

DEFAULT_VOLATILE_PROPERTIES = frozenset(
    {
        "row_count",
        "num_rows",
        "numrows",
        "rows",
        "size_bytes",
        "total_size",
        "totalsize",
        "raw_data_size",
        "num_files",
        "last_access_time",
        "last_accessed_at",
        "last_analyzed",
        "last_modified_time",
        "transient_lastddltime",
        "stats_updated_at",
    }
)

_SPACES = re.compile(r"\s+")


def normal_type(column_type: str) -> str:
    """`VARCHAR( 20 )` and `varchar(20)` are the same type."""
    return _SPACES.sub("", column_type).lower()


def canonical_content(
    asset: AssetRef,
    columns: Iterable[Column],
    location: str | None,
    properties: Mapping[str, str] | None,
    *,
    volatile: frozenset[str] = DEFAULT_VOLATILE_PROPERTIES,
) -> bytes:
    """The bytes that are hashed and stored as the asset's snapshot."""
    document = {
        "asset": {"system": asset.system, "database": asset.database, "table": asset.table},
        "columns": [
            {"name": c.name, "type": normal_type(c.type), "nullable": c.nullable} for c in columns
        ],
        "location": location,
        "properties": {
            key: value for key, value in (properties or {}).items() if key.lower() not in volatile
        },
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decision_id(*parts: str) -> str:
    """Idempotency key of a decision: the same decision made twice has the same id."""
    return sha256_hex("\x1f".join(parts).encode("utf-8"))
