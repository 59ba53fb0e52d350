"""Cross-file ``$ref``: bundling into one document, and validation that resolves it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from rocket_contracts import refs, registry, validation

Schema = dict[str, Any]

COMMON: Schema = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://schemas.rocket.dev/demo/common.v1.json",
    "title": "DemoCommonV1",
    "description": "Shared.",
    "$defs": {
        "line": {
            "description": "One line.",
            "type": "object",
            "additionalProperties": False,
            "required": ["sku"],
            "properties": {
                "sku": {"$ref": "#/$defs/sku", "description": "SKU."},
                "enum": {"description": "A property called enum.", "type": "string"},
            },
        },
        "sku": {"description": "SKU.", "type": "string", "maxLength": 8},
        "node": {
            "description": "A tree.",
            "type": "object",
            "properties": {"child": {"$ref": "#/$defs/node", "description": "Below."}},
        },
    },
}


def _order(**extra_defs: Schema) -> Schema:
    schema: Schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://schemas.rocket.dev/demo/order-placed.v1.json",
        "title": "DemoOrderPlacedV1",
        "description": "An order.",
        "type": "object",
        "additionalProperties": False,
        "required": ["lines"],
        "properties": {
            "lines": {
                "description": "Lines.",
                "type": "array",
                "items": {"$ref": "common.v1.json#/$defs/line"},
            },
            "tree": {"$ref": "common.v1.json#/$defs/node", "description": "Tree."},
        },
        "examples": [{"lines": [{"sku": "a", "$ref": "data, not a reference"}]}],
    }
    if extra_defs:
        schema["$defs"] = extra_defs
    return schema


def test_bundling_copies_what_is_referenced_and_makes_every_ref_local() -> None:
    bundled = refs.bundle(_order(), refs.registry_of([COMMON]))

    assert bundled["properties"]["lines"]["items"] == {"$ref": "#/$defs/line"}
    assert bundled["$defs"]["line"]["properties"]["sku"]["$ref"] == "#/$defs/sku"
    assert bundled["$defs"]["sku"] == COMMON["$defs"]["sku"]
    # A recursive definition is copied once and points at itself.
    assert bundled["$defs"]["node"]["properties"]["child"]["$ref"] == "#/$defs/node"
    assert refs.external_refs(bundled) == []
    # Examples are data: a "$ref" key in them is left alone.
    assert bundled["examples"] == _order()["examples"]


def test_bundling_keeps_a_local_definition_of_the_same_name_apart() -> None:
    local_line: Schema = {"description": "Mine.", "type": "string"}
    bundled = refs.bundle(_order(line=local_line), refs.registry_of([COMMON]))

    assert bundled["$defs"]["line"] == local_line
    assert bundled["properties"]["lines"]["items"] == {"$ref": "#/$defs/common.v1.line"}
    assert bundled["$defs"]["common.v1.line"]["required"] == ["sku"]


def test_a_schema_without_cross_file_refs_bundles_to_itself() -> None:
    schema = registry.schema_for("compactor.domain.processed.v1")

    assert refs.bundle(schema, registry.schema_registry()) == schema


@pytest.mark.parametrize(
    ("reference", "error"),
    [
        ("common.v1.json#/$defs/missing", "is not a contract definition"),
        ("https://elsewhere.example/x.json#/$defs/line", "is not a contract definition"),
        ("common.v1.json#/properties/x", "must name <file>#/$defs/<name>"),
        ("common.v1.json", "must name <file>#/$defs/<name>"),
    ],
)
def test_a_reference_outside_the_contract_definitions_is_refused_not_fetched(
    reference: str, error: str
) -> None:
    schema = _order()
    schema["properties"]["lines"]["items"] = {"$ref": reference}

    with pytest.raises(refs.ReferenceError, match=re.escape(error)):
        refs.bundle(schema, refs.registry_of([COMMON]))


def test_the_validator_resolves_a_shared_definition_of_an_unbundled_schema() -> None:
    raw = registry._load(registry.schema_file("assets.asset.dropped.v1").path)
    example = raw["examples"][0]
    assert raw["properties"]["asset"]["$ref"] == "common.v1.json#/$defs/asset"

    assert validation.errors(raw, example) == []
    bad = {**example, "asset": {**example["asset"], "table": "Not Lowercase"}}
    assert validation.errors(raw, bad) == [
        "$.asset.table: 'Not Lowercase' does not match '^[a-z0-9_-]{1,255}$'"
    ]


def test_definitions_files_are_not_event_types() -> None:
    assert not any("common" in event_type for event_type in registry.event_types())
    assert refs.is_definitions_file(registry.schemas_root() / "assets" / "common.v1.json")
