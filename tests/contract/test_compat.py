"""The compatibility gate: a table of real breaking and non-breaking schema changes."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rocket_contracts import bus, compat, registry, testing, validation

Schema = dict[str, Any]

BASE: Schema = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://schemas.rocket.dev/demo/order-placed.v1.json",
    "title": "DemoOrderPlacedV1",
    "description": "An order was placed.",
    "type": "object",
    "additionalProperties": False,
    "required": ["order_id", "amount", "status", "lines"],
    "properties": {
        "order_id": {"description": "Id.", "type": "string", "pattern": "^o-[0-9]+$"},
        "amount": {"description": "Total.", "type": "number", "minimum": 0, "maximum": 1000000},
        "quantity": {"description": "Units.", "type": "integer", "minimum": 1},
        "status": {"description": "Status.", "type": "string", "enum": ["OPEN", "PAID"]},
        "note": {"description": "Note.", "type": ["string", "null"], "maxLength": 200},
        "placed_at": {"description": "When.", "type": "string", "format": "date-time"},
        "channel": {"description": "Channel.", "type": "string", "default": "web"},
        "tags": {
            "description": "Tags.",
            "type": "array",
            "maxItems": 10,
            "items": {"description": "Tag.", "type": "string", "maxLength": 20},
        },
        "lines": {"description": "Lines.", "type": "array", "items": {"$ref": "#/$defs/line"}},
        "attributes": {
            "description": "Free attributes.",
            "type": "object",
            "additionalProperties": {"description": "Value.", "type": "string", "maxLength": 50},
        },
        "payload": {"description": "Open object.", "type": "object"},
        "payment": {
            "description": "Card or pix.",
            "anyOf": [
                {
                    "type": "object",
                    "required": ["card"],
                    "properties": {"card": {"type": "string"}},
                },
                {"type": "object", "required": ["pix"], "properties": {"pix": {"type": "string"}}},
            ],
        },
    },
    "$defs": {
        "line": {
            "description": "One line.",
            "type": "object",
            "additionalProperties": False,
            "required": ["sku"],
            "properties": {
                "sku": {"description": "SKU.", "type": "string", "maxLength": 32},
                "qty": {"description": "Quantity.", "type": "integer", "multipleOf": 2},
            },
        }
    },
}


def _edit(change: Callable[[Schema], object]) -> Schema:
    new = copy.deepcopy(BASE)
    change(new)
    return new


def _props(schema: Schema) -> Schema:
    props: Schema = schema["properties"]
    return props


BREAKING: list[tuple[str, Callable[[Schema], object], str, str]] = [
    (
        "required field added",
        lambda s: s["required"].append("quantity"),
        "$.quantity",
        "required-added",
    ),
    (
        "required field removed",
        lambda s: s["required"].remove("status"),
        "$.status",
        "required-removed",
    ),
    (
        "new required field",
        lambda s: (
            _props(s).update(shop={"description": "Shop.", "type": "string"}),
            s["required"].append("shop"),
        ),
        "$.shop",
        "required-added",
    ),
    (
        "number narrowed to integer",
        lambda s: _props(s)["amount"].update(type="integer"),
        "$.amount",
        "type-narrowed",
    ),
    (
        "null no longer allowed",
        lambda s: _props(s)["note"].update(type="string"),
        "$.note",
        "type-narrowed",
    ),
    (
        "type given to an untyped field",
        lambda s: _props(s)["payment"].update(type="object"),
        "$.payment",
        "type-narrowed",
    ),
    (
        "enum value removed",
        lambda s: _props(s)["status"].update(enum=["OPEN"]),
        "$.status",
        "enum-value-removed",
    ),
    (
        "enum put on a free string",
        lambda s: _props(s)["channel"].update(enum=["web", "app"]),
        "$.channel",
        "enum-added",
    ),
    (
        "maxLength lowered",
        lambda s: _props(s)["note"].update(maxLength=100),
        "$.note",
        "constraint-tightened",
    ),
    (
        "minLength added",
        lambda s: _props(s)["order_id"].update(minLength=5),
        "$.order_id",
        "constraint-tightened",
    ),
    (
        "minimum raised",
        lambda s: _props(s)["amount"].update(minimum=1),
        "$.amount",
        "constraint-tightened",
    ),
    (
        "maximum lowered",
        lambda s: _props(s)["amount"].update(maximum=10),
        "$.amount",
        "constraint-tightened",
    ),
    (
        "exclusiveMaximum added",
        lambda s: _props(s)["quantity"].update(exclusiveMaximum=100),
        "$.quantity",
        "constraint-tightened",
    ),
    (
        "pattern changed",
        lambda s: _props(s)["order_id"].update(pattern="^o-[0-9]{8}$"),
        "$.order_id",
        "constraint-tightened",
    ),
    (
        "format added",
        lambda s: _props(s)["order_id"].update(format="uuid"),
        "$.order_id",
        "constraint-tightened",
    ),
    (
        "format changed",
        lambda s: _props(s)["placed_at"].update(format="date"),
        "$.placed_at",
        "constraint-tightened",
    ),
    (
        "open object closed",
        lambda s: _props(s)["payload"].update(additionalProperties=False),
        "$.payload",
        "additional-properties-tightened",
    ),
    (
        "optional property removed from a closed object",
        lambda s: _props(s).pop("quantity"),
        "$.quantity",
        "property-removed",
    ),
    (
        "map value narrowed",
        lambda s: _props(s)["attributes"]["additionalProperties"].update(maxLength=10),
        "$.attributes.*",
        "constraint-tightened",
    ),
    (
        "map key pattern added",
        lambda s: _props(s)["attributes"].update(propertyNames={"pattern": "^[a-z]+$"}),
        "$.attributes{name}",
        "constraint-tightened",
    ),
    (
        "array item narrowed",
        lambda s: _props(s)["tags"]["items"].update(maxLength=5),
        "$.tags[]",
        "constraint-tightened",
    ),
    (
        "maxItems lowered",
        lambda s: _props(s)["tags"].update(maxItems=3),
        "$.tags",
        "constraint-tightened",
    ),
    (
        "uniqueItems added",
        lambda s: _props(s)["tags"].update(uniqueItems=True),
        "$.tags",
        "constraint-tightened",
    ),
    (
        "field in $defs narrowed",
        lambda s: s["$defs"]["line"]["properties"]["sku"].update(maxLength=8),
        "$.lines[].sku",
        "constraint-tightened",
    ),
    (
        "required added in $defs",
        lambda s: s["$defs"]["line"]["required"].append("qty"),
        "$.lines[].qty",
        "required-added",
    ),
    (
        "multipleOf no longer divides",
        lambda s: s["$defs"]["line"]["properties"]["qty"].update(multipleOf=4),
        "$.lines[].qty",
        "constraint-tightened",
    ),
    (
        "default changed",
        lambda s: _props(s)["channel"].update(default="app"),
        "$.channel",
        "default-changed",
    ),
    (
        "anyOf branch removed",
        lambda s: _props(s)["payment"]["anyOf"].pop(),
        "$.payment",
        "composition-narrowed",
    ),
    (
        "not added",
        lambda s: _props(s)["order_id"].update({"not": {"const": "o-0"}}),
        "$.order_id",
        "constraint-tightened",
    ),
    (
        "title (the model's class name) changed",
        lambda s: s.update(title="DemoOrderSubmittedV1"),
        "$",
        "title-changed",
    ),
    (
        "$id changed",
        lambda s: s.update({"$id": "https://schemas.rocket.dev/demo/order-placed.v2.json"}),
        "$",
        "id-changed",
    ),
]

COMPATIBLE: list[tuple[str, Callable[[Schema], object]]] = [
    ("nothing changed", lambda s: None),
    (
        "optional field added",
        lambda s: _props(s).update(coupon={"description": "Coupon.", "type": "string"}),
    ),
    ("enum value added", lambda s: _props(s)["status"]["enum"].append("CANCELLED")),
    ("integer widened to number", lambda s: _props(s)["quantity"].update(type="number")),
    ("null allowed", lambda s: _props(s)["order_id"].update(type=["string", "null"])),
    ("maxLength raised", lambda s: _props(s)["note"].update(maxLength=500)),
    ("minimum lowered", lambda s: _props(s)["quantity"].update(minimum=0)),
    ("maximum removed", lambda s: _props(s)["amount"].pop("maximum")),
    ("pattern removed", lambda s: _props(s)["order_id"].pop("pattern")),
    ("format removed", lambda s: _props(s)["placed_at"].pop("format")),
    ("closed object opened", lambda s: s.update(additionalProperties=True)),
    ("maxItems raised", lambda s: _props(s)["tags"].update(maxItems=50)),
    (
        "multipleOf divides the old one",
        lambda s: s["$defs"]["line"]["properties"]["qty"].update(multipleOf=1),
    ),
    (
        "descriptions and examples reworded",
        lambda s: (
            s.update(description="Placed.", examples=[{}]),
            _props(s)["amount"].update(description="Order total."),
        ),
    ),
    ("anyOf branch added", lambda s: _props(s)["payment"]["anyOf"].append({"type": "string"})),
    (
        "optional field added in $defs",
        lambda s: s["$defs"]["line"]["properties"].update(
            note={"description": "N.", "type": "string"}
        ),
    ),
    (
        "$ref inlined with the same shape",
        lambda s: _props(s)["lines"].update(items=copy.deepcopy(BASE["$defs"]["line"])),
    ),
]


def _breaking(name: str) -> Callable[[Schema], object]:
    return next(case[1] for case in BREAKING if case[0] == name)


def _compatible(name: str) -> Callable[[Schema], object]:
    return next(case[1] for case in COMPATIBLE if case[0] == name)


@pytest.mark.parametrize(
    ("change", "path", "rule"), [case[1:] for case in BREAKING], ids=[case[0] for case in BREAKING]
)
def test_breaking_change_is_named_by_path_and_rule(
    change: Callable[[Schema], object], path: str, rule: str
) -> None:
    breaches = compat.check(BASE, _edit(change))

    assert (path, rule) in {(breach.path, breach.rule) for breach in breaches}, breaches


@pytest.mark.parametrize(
    "change", [case[1] for case in COMPATIBLE], ids=[case[0] for case in COMPATIBLE]
)
def test_compatible_change_passes(change: Callable[[Schema], object]) -> None:
    assert compat.check(BASE, _edit(change)) == []


def test_recursive_definitions_terminate() -> None:
    tree: Schema = {
        "$id": "https://schemas.rocket.dev/demo/tree-built.v1.json",
        "$ref": "#/$defs/node",
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                },
            }
        },
    }
    narrowed = copy.deepcopy(tree)
    narrowed["$defs"]["node"]["properties"]["name"]["maxLength"] = 3

    assert compat.check(tree, tree) == []
    assert [str(b) for b in compat.check(tree, narrowed)] == [
        "$.name: constraint-tightened: maxLength none -> 3"
    ]


@pytest.mark.parametrize("event_type", registry.event_types())
def test_every_shipped_schema_is_compatible_with_itself(event_type: str) -> None:
    schema = registry.schema_for(event_type)
    assert compat.check(schema, copy.deepcopy(schema)) == []


def _real(event_type: str, change: Callable[[Schema], object]) -> list[str]:
    old = registry.schema_for(event_type)
    new = copy.deepcopy(old)
    change(new)
    return [str(breach) for breach in compat.check(old, new)]


def test_a_real_schema_gaining_a_required_field_is_breaking() -> None:
    def add_owner(schema: Schema) -> None:
        schema["$defs"]["asset"]["required"].append("owner")
        schema["$defs"]["asset"]["properties"]["owner"] = {"description": "O.", "type": "string"}

    assert _real("assets.asset.upserted.v1", add_owner) == [
        "$.asset.owner: required-added: old messages may lack it"
    ]


def test_a_real_status_losing_a_value_is_breaking() -> None:
    def drop_no_input(schema: Schema) -> None:
        schema["properties"]["status"]["enum"].remove("NO_INPUT")

    assert _real("compactor.domain.processed.v1", drop_no_input) == [
        "$.status: enum-value-removed: ['NO_INPUT'] no longer allowed"
    ]


def test_a_real_date_range_getting_shorter_is_breaking() -> None:
    def cap(schema: Schema) -> None:
        schema["properties"]["missing_days"]["maximum"] = 366

    assert _real("gapscraper.download.requested.v1", cap) == [
        "$.missing_days: constraint-tightened: maximum 3660 -> 366"
    ]


def test_a_real_schema_gaining_an_optional_field_is_compatible() -> None:
    def add_source(schema: Schema) -> None:
        schema["properties"]["source"] = {"description": "Where from.", "type": "string"}

    assert _real("gapscraper.series.updated.v1", add_source) == []


# -- the second promise: what a consumer still on the old schema makes of new messages ------

WIDENED: list[tuple[str, str, str]] = [
    ("enum value added", "$.status", "enum-value-added"),
    ("integer widened to number", "$.quantity", "type-widened"),
    ("null allowed", "$.order_id", "type-widened"),
    ("maxLength raised", "$.note", "constraint-relaxed"),
    ("minimum lowered", "$.quantity", "constraint-relaxed"),
    ("pattern removed", "$.order_id", "constraint-relaxed"),
    ("anyOf branch added", "$.payment", "composition-widened"),
]


@pytest.mark.parametrize(("name", "path", "rule"), WIDENED, ids=[case[0] for case in WIDENED])
def test_a_widening_is_compatible_but_named_for_consumers_to_take_first(
    name: str, path: str, rule: str
) -> None:
    new = _edit(_compatible(name))

    assert compat.check(BASE, new) == []
    assert (path, rule) in {(b.path, b.rule) for b in compat.widenings(BASE, new)}


@pytest.mark.parametrize(
    "name",
    [
        "optional field added",
        "optional field added in $defs",
        "closed object opened",
        "descriptions and examples reworded",
    ],
)
def test_what_the_tolerant_reader_absorbs_is_no_widening(name: str) -> None:
    assert compat.widenings(BASE, _edit(_compatible(name))) == []


def _closed_objects(schema: Schema) -> list[Schema]:
    found = [schema] if schema.get("additionalProperties") is False else []
    for definition in schema.get("$defs", {}).values():
        found += _closed_objects(definition)
    return found


@pytest.mark.parametrize("event_type", registry.event_types())
def test_every_shipped_type_can_gain_an_optional_field_old_consumers_read(
    event_type: str,
) -> None:
    """The gate and the reader agree on every real contract: an optional field added to the
    payload is compatible, needs nothing deployed first, and the consumer built on today's
    schema reads a message that carries it."""
    old = registry.schema_for(event_type)
    new = copy.deepcopy(old)
    for closed in _closed_objects(new):
        closed.setdefault("properties", {})["added_later"] = {"description": "N.", "type": "string"}
    message = {**old["examples"][0], "added_later": "from a newer producer"}
    record = testing.sqs_record(
        bus.to_json(
            bus.wrap(
                registry.model_for(event_type).model_validate(old["examples"][0]),
                correlation_id="c-1",
                source="rocket/test",
            )
        ).replace('"data":{', '"data":{"added_later":"from a newer producer",', 1),
        message_attributes={"type": event_type},
    )

    assert compat.check(old, new) == []
    assert compat.widenings(old, new) == []
    assert validation.errors(new, message) == []
    assert bus.parse_record(record).ignored == ("$.data.added_later",)


# -- the command against a git history -------------------------------------------------------


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """A git repository whose first commit holds two schema files."""
    root = tmp_path / "history"
    schemas = root / "contracts" / "schemas" / "demo"
    schemas.mkdir(parents=True)
    (schemas / "order-placed.v1.json").write_text(json.dumps(BASE, indent=2))
    (schemas / "order-cancelled.v1.json").write_text(json.dumps(BASE, indent=2))
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "contracts")
    _git(
        root,
        "-c",
        "user.name=Rocket Tests",
        "-c",
        "user.email=tests@rocket.invalid",
        "commit",
        "-q",
        "-m",
        "Add demo schemas",
    )
    return root


def _run(root: Path, capsys: pytest.CaptureFixture[str], base: str = "main") -> tuple[int, str]:
    status = compat.main(["--base", base, "--root", str(root)])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def test_command_passes_compatible_edits_and_new_versions(
    history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schemas = history / "contracts" / "schemas" / "demo"
    (schemas / "order-placed.v1.json").write_text(
        json.dumps(_edit(_compatible("optional field added")))
    )
    v2 = _edit(lambda s: s["required"].append("quantity"))
    (schemas / "order-placed.v2.json").write_text(json.dumps(v2))

    status, output = _run(history, capsys)

    assert status == 0, output


def test_command_fails_naming_file_field_and_rule(
    history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schemas = history / "contracts" / "schemas" / "demo"
    (schemas / "order-placed.v1.json").write_text(
        json.dumps(_edit(_breaking("enum value removed")))
    )

    status, output = _run(history, capsys)

    assert status == 1
    assert "contracts/schemas/demo/order-placed.v1.json: $.status: enum-value-removed" in output


def test_command_fails_when_a_schema_version_is_deleted(
    history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (history / "contracts" / "schemas" / "demo" / "order-cancelled.v1.json").unlink()

    status, output = _run(history, capsys)

    assert status == 1
    assert "order-cancelled.v1.json: $: schema-deleted" in output


def test_command_reports_an_unknown_base_ref(
    history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, output = _run(history, capsys, base="no-such-branch")

    assert status == 2
    assert "no-such-branch" in output


def test_command_notes_widenings_without_failing(
    history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schemas = history / "contracts" / "schemas" / "demo"
    (schemas / "order-placed.v1.json").write_text(
        json.dumps(_edit(_compatible("enum value added")))
    )

    status, output = _run(history, capsys)

    assert status == 0, output
    assert "deploy consumers before producers" in output
    assert "order-placed.v1.json: $.status: enum-value-added" in output


# -- definitions shared between files (rocket_contracts.refs) --------------------------------

_SHARED_LINE = "common.v1.json#/$defs/line"


def _common(line: Schema) -> Schema:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://schemas.rocket.dev/demo/common.v1.json",
        "title": "DemoCommonV1",
        "description": "Shared.",
        "$defs": {"line": line},
    }


def _referencing_shared_line() -> Schema:
    schema = copy.deepcopy(BASE)
    del schema["$defs"]
    schema["properties"]["lines"]["items"] = {"$ref": _SHARED_LINE}
    return schema


@pytest.fixture
def shared(history: Path) -> Path:
    """The history's order-placed.v1 with its line definition moved, unchanged, into a
    shared file (not committed: the working tree against main)."""
    schemas = history / "contracts" / "schemas" / "demo"
    (schemas / "common.v1.json").write_text(json.dumps(_common(BASE["$defs"]["line"])))
    (schemas / "order-placed.v1.json").write_text(json.dumps(_referencing_shared_line()))
    return schemas


def test_moving_a_definition_into_a_shared_file_is_compatible(
    shared: Path, history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, output = _run(history, capsys)

    assert status == 0, output


def test_a_breaking_change_in_a_shared_file_fails_every_schema_using_it(
    shared: Path, history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = copy.deepcopy(BASE["$defs"]["line"])
    line["properties"]["sku"]["maxLength"] = 8
    (shared / "common.v1.json").write_text(json.dumps(_common(line)))

    status, output = _run(history, capsys)

    assert status == 1
    assert (
        "contracts/schemas/demo/order-placed.v1.json: $.lines[].sku: constraint-tightened:"
        " maxLength 32 -> 8" in output
    )


def test_a_reference_to_a_missing_shared_file_fails_the_gate(
    shared: Path, history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (shared / "common.v1.json").unlink()

    status, output = _run(history, capsys)

    assert status == 1
    assert "order-placed.v1.json: $: reference-unresolved" in output
