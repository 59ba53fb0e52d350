"""Every schema file is a valid, documented contract with working examples whose references
resolve only into the contracts' shared definitions, and the registry and generated models agree
with it."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError
from rocket_contracts import bus, invariants, refs, registry, validation
from rocket_contracts.envelope import CloudEvent, ReceivedCloudEvent
from rocket_contracts.models.assets import common_v1
from rocket_contracts.validation import CHECKED_FORMATS, FORMAT_CHECKER

ROOT = registry.schemas_root()
SCHEMA_FILES = sorted(ROOT.glob("*/*.json"))
IDS = [path.relative_to(ROOT).as_posix() for path in SCHEMA_FILES]
# Schemas of messages (event types and the envelope), without the shared-definitions files.
MESSAGE_FILES = [path for path in SCHEMA_FILES if not refs.is_definitions_file(path)]
MESSAGE_IDS = [path.relative_to(ROOT).as_posix() for path in MESSAGE_FILES]
DEFINITIONS_FILES = [path for path in SCHEMA_FILES if refs.is_definitions_file(path)]
METASCHEMA = "https://json-schema.org/draft/2020-12/schema"

# The message types DESIGN.md's table promises; each needs a schema.
DESIGNED_TYPES = {
    "ingest.job.requested.v1",
    "ingest.job.started.v1",
    "ingest.job.rejected.v1",
    "etl.delivery.published.v1",
    "compactor.compaction.requested.v1",
    "compactor.domain.processed.v1",
    "gapscraper.download.requested.v1",
    "gapscraper.series.updated.v1",
    "assets.upsert.requested.v1",
    "assets.drop.requested.v1",
    "assets.asset.upserted.v1",
    "assets.asset.dropped.v1",
}
# Keywords under which a value is itself a schema (or a list / map of schemas).
_SUBSCHEMA = ("items", "additionalProperties", "propertyNames", "not", "contains", "if", "then")
_SUBSCHEMA_LISTS = ("prefixItems", "anyOf", "oneOf", "allOf")


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _walk(schema: Any, path: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (sub)schema in ``schema`` with where it is."""
    if not isinstance(schema, dict):
        return
    yield path, schema
    for name, prop in schema.get("properties", {}).items():
        yield from _walk(prop, f"{path}.properties.{name}")
    for name, definition in schema.get("$defs", {}).items():
        yield from _walk(definition, f"{path}.$defs.{name}")
    for keyword in _SUBSCHEMA:
        yield from _walk(schema.get(keyword), f"{path}.{keyword}")
    for keyword in _SUBSCHEMA_LISTS:
        for index, branch in enumerate(schema.get(keyword, [])):
            yield from _walk(branch, f"{path}.{keyword}[{index}]")


def _pascal(event_type: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in event_type.split("."))


@pytest.fixture(params=SCHEMA_FILES, ids=IDS)
def schema_path(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path


@pytest.fixture(params=MESSAGE_FILES, ids=MESSAGE_IDS)
def message_schema_path(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path


def test_every_designed_message_type_has_a_schema() -> None:
    assert set(registry.event_types()) >= DESIGNED_TYPES


def test_schema_is_valid_draft_2020_12(schema_path: Path) -> None:
    schema = _load(schema_path)
    assert schema["$schema"] == METASCHEMA
    Draft202012Validator.check_schema(schema)


def test_schema_is_named_after_its_file(schema_path: Path) -> None:
    schema = _load(schema_path)
    relative = schema_path.relative_to(ROOT).as_posix()
    assert schema["$id"] == f"https://schemas.rocket.dev/{relative}"
    if refs.is_definitions_file(schema_path):
        stem = schema_path.name.removesuffix(".json")
        assert schema["title"] == _pascal(f"{schema_path.parent.name}.{stem}")
    elif schema_path.parent.name != registry.ENVELOPE_DOMAIN:
        (found,) = [f for f in registry.discover(ROOT) if f.path == schema_path]
        assert schema["title"] == _pascal(found.event_type)


def test_schema_describes_itself_and_every_property(schema_path: Path) -> None:
    schema = _load(schema_path)
    assert schema.get("description", "").strip()
    undocumented = [
        f"{where}.properties.{name}"
        for where, node in _walk(schema)
        for name, prop in node.get("properties", {}).items()
        if not (isinstance(prop, dict) and str(prop.get("description", "")).strip())
    ]
    assert undocumented == []


def test_producer_owned_objects_are_closed(message_schema_path: Path) -> None:
    schema = _load(message_schema_path)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False


def test_schema_refers_only_to_shared_definitions_and_uses_only_checked_formats(
    schema_path: Path,
) -> None:
    schema = _load(schema_path)
    nodes = list(_walk(schema))
    elsewhere = {
        f"{where}: {target}"
        for target in refs.external_refs(schema)
        for where in [schema_path.relative_to(ROOT).as_posix()]
        # A definition in a shared file of the same domain, named by #/$defs/<name>.
        if not re.fullmatch(r"common\.v[1-9][0-9]*\.json#/\$defs/[a-z_]+", target)
    }
    unchecked = {node["format"] for _, node in nodes if "format" in node} - CHECKED_FORMATS
    assert elsewhere == set(), "a $ref outside the domain's shared definitions"
    assert unchecked == set(), "these formats would pass unchecked"
    # Every reference resolves among the contract documents (nothing would be fetched), and
    # the bundled schema validators, the tolerant reader and the gate read is self-contained.
    bundled = refs.bundle(schema, registry.schema_registry())
    assert refs.external_refs(bundled) == []
    Draft202012Validator.check_schema(bundled)


def test_every_shared_definition_is_used(repo_root: Path) -> None:
    used = {
        f"{path.parent.name}/{target}"
        for path in MESSAGE_FILES
        for target in refs.external_refs(_load(path))
    }
    for path in DEFINITIONS_FILES:
        for name in _load(path)["$defs"]:
            assert f"{path.parent.name}/{path.name}#/$defs/{name}" in used, (path.name, name)


def test_schema_has_at_least_two_valid_examples(message_schema_path: Path) -> None:
    schema = _load(message_schema_path)
    # The validator bus.publish uses: it resolves a $ref into the shared definitions.
    check = validation.validator(schema)
    examples = schema.get("examples", [])
    assert len(examples) >= 2
    for index, example in enumerate(examples):
        problems = [f"{e.json_path}: {e.message}" for e in check.iter_errors(example)]
        assert problems == [], f"examples[{index}]"


ASSET_MESSAGES = [
    "assets.upsert.requested.v1",
    "assets.drop.requested.v1",
    "assets.asset.upserted.v1",
    "assets.asset.dropped.v1",
]


@pytest.mark.parametrize("event_type", ASSET_MESSAGES)
def test_every_asset_message_carries_the_one_shared_asset_type(event_type: str) -> None:
    model = registry.model_for(event_type)
    example = registry.schema_for(event_type)["examples"][0]

    assert model.model_fields["asset"].annotation is common_v1.Asset
    assert type(model.model_validate(example).asset) is common_v1.Asset  # type: ignore[attr-defined]
    assert (
        registry.schema_for(event_type)["$defs"]["asset"]
        == (_load(ROOT / "assets" / "common.v1.json")["$defs"]["asset"])
    )


@pytest.mark.parametrize("event_type", registry.event_types())
def test_generated_model_reads_every_example_and_writes_it_back_valid(event_type: str) -> None:
    schema = registry.schema_for(event_type)
    model = registry.model_for(event_type)
    for example in schema["examples"]:
        parsed = model.model_validate(example)
        written = bus.payload(parsed)
        assert (
            list(Draft202012Validator(schema, format_checker=FORMAT_CHECKER).iter_errors(written))
            == []
        )
        assert model.model_validate(written) == parsed


@pytest.mark.parametrize("event_type", registry.event_types())
def test_schema_and_model_both_reject_an_unknown_field(event_type: str) -> None:
    schema = registry.schema_for(event_type)
    example = copy.deepcopy(schema["examples"][0])
    example["not_in_the_contract"] = "x"

    assert not Draft202012Validator(schema).is_valid(example)
    with pytest.raises(ValidationError):
        registry.model_for(event_type).model_validate(example)


@pytest.mark.parametrize("event_type", registry.event_types())
def test_schema_and_model_both_reject_a_missing_required_field(event_type: str) -> None:
    schema = registry.schema_for(event_type)
    example = copy.deepcopy(schema["examples"][0])
    del example[schema["required"][0]]

    assert not Draft202012Validator(schema).is_valid(example)
    with pytest.raises(ValidationError):
        registry.model_for(event_type).model_validate(example)


@pytest.mark.parametrize("event_type", registry.event_types())
def test_registry_maps_type_model_and_schema_both_ways(event_type: str) -> None:
    model = registry.model_for(event_type)
    module = model.__module__

    assert re.fullmatch(registry.EVENT_TYPE_PATTERN, event_type)
    assert module.startswith("rocket_contracts.models.")
    assert model.__name__ == registry.schema_for(event_type)["title"]
    assert registry.event_type_for(model) == event_type
    assert (
        registry.event_type_for(
            model.model_validate(registry.schema_for(event_type)["examples"][0])
        )
        == event_type
    )
    assert registry.schema_id(event_type).endswith(registry.schema_file(event_type).relative_path)


def test_registry_rejects_what_is_not_a_contract() -> None:
    with pytest.raises(registry.UnknownEventTypeError):
        registry.schema_for("ingest.job.exploded.v1")
    with pytest.raises(registry.UnknownEventTypeError):
        registry.event_type_for(CloudEvent)


def test_registry_refuses_a_badly_named_schema_file(tmp_path: Path) -> None:
    (tmp_path / "ingest").mkdir()
    (tmp_path / "ingest" / "JobRequested.json").write_text("{}")

    with pytest.raises(ValueError, match="<entity>-<verb>"):
        registry.discover(tmp_path)


def test_envelope_examples_carry_valid_data() -> None:
    envelope = registry.envelope_schema()
    for example in envelope["examples"]:
        parsed = bus.parse_envelope(example)
        assert parsed.event_type == example["type"]
        assert isinstance(parsed.envelope, ReceivedCloudEvent)


def test_tolerant_reading_reaches_every_closed_object(schema_path: Path) -> None:
    # The tolerant reader does not look inside anyOf/oneOf/allOf (which branch applies is
    # ambiguous once fields are left out), so a closed object there would fail a message from a
    # newer producer instead of ignoring its added field.
    for where, node in _walk(_load(schema_path)):
        if any(f".{keyword}[" in where for keyword in ("anyOf", "oneOf", "allOf")):
            assert node.get("additionalProperties") is not False, where


# -- rules between fields (rocket_contracts.invariants) -----------------------------------------


@pytest.mark.parametrize("event_type", registry.event_types())
def test_every_example_keeps_its_types_rules(event_type: str) -> None:
    for example in registry.schema_for(event_type)["examples"]:
        assert invariants.errors(event_type, example) == []


def test_rules_name_only_known_types() -> None:
    assert set(invariants.RULES) <= set(registry.event_types())


def _broken(event_type: str, change: Any, index: int = 0) -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(registry.schema_for(event_type)["examples"][index])
    change(data)
    assert registry.model_for(event_type).model_validate(data), "still schema-valid"
    return data


BROKEN_RULES: list[tuple[str, str, Any, int, str]] = [
    (
        "range backwards",
        "gapscraper.download.requested.v1",
        lambda d: d.update(end_date="2026-11-01"),
        0,
        "$.data.end_date: 2026-11-01 is before start_date 2026-11-10",
    ),
    (
        "a download longer than the API serves",
        "gapscraper.download.requested.v1",
        lambda d: d.update(end_date="2036-11-11"),
        0,
        "$.data.end_date: 2036-11-11 is more than ten years after start_date",
    ),
    (
        "more missing days than the range has",
        "gapscraper.download.requested.v1",
        lambda d: d.update(missing_days=6),
        0,
        "$.data.missing_days: 6 is more than the 5 days of the range",
    ),
    (
        "written dates outside the range",
        "gapscraper.series.updated.v1",
        lambda d: d.update(last_date="2026-11-20"),
        0,
        "$.data.first_date: start_date <= first_date <= last_date <= end_date does not hold",
    ),
    (
        "points written without dates",
        "gapscraper.series.updated.v1",
        lambda d: d.update(points_written=3),
        1,
        "$.data.points_written: first_date and last_date are present exactly when it is > 0",
    ),
    (
        "only one written date",
        "gapscraper.series.updated.v1",
        lambda d: d.pop("last_date"),
        0,
        "$.data.first_date: first_date and last_date come together",
    ),
    (
        "output records do not add up",
        "compactor.domain.processed.v1",
        lambda d: d["output"].update(records=1),
        0,
        "$.data.output.records: 1 is not the sum over output.files (1950000)",
    ),
    (
        "no input but files read",
        "compactor.domain.processed.v1",
        lambda d: d["source"].update(files=3),
        1,
        "$.data.status: NO_INPUT with landing files read or output files written",
    ),
    (
        "compacted from nothing",
        "compactor.domain.processed.v1",
        lambda d: d.update(status="COMPACTED"),
        1,
        "$.data.status: COMPACTED but no landing file was read",
    ),
    (
        "file outside its partition",
        "compactor.domain.processed.v1",
        lambda d: d["output"]["files"][0].update(uri="s3://elsewhere/x.parquet"),
        0,
        "$.data.output.files[0].uri: s3://elsewhere/x.parquet is not under partition.location",
    ),
    (
        "asset id of another asset",
        "assets.drop.requested.v1",
        lambda d: d["asset"].update(table="orders"),
        0,
        "$.data.asset_id: postgres-erp.sales.orders_2019 is not <system>.<database>.<table>"
        " (postgres-erp.sales.orders)",
    ),
    (
        "snapshot of other content",
        "assets.upsert.requested.v1",
        lambda d: d["content"].update(sha256="0" * 64),
        0,
        "$.data.content.sha256: differs from content_hash",
    ),
    (
        "upsert that changes nothing",
        "assets.asset.upserted.v1",
        lambda d: d.update(previous_hash=d["content_hash"]),
        1,
        "$.data.previous_hash: equals content_hash, so nothing changed",
    ),
    (
        "created with a previous state",
        "assets.asset.upserted.v1",
        lambda d: d.update(previous_hash="0" * 64),
        0,
        "$.data.previous_hash: null exactly when change is CREATED",
    ),
]


@pytest.mark.parametrize(
    ("event_type", "change", "index", "error"),
    [case[1:] for case in BROKEN_RULES],
    ids=[case[0] for case in BROKEN_RULES],
)
def test_a_broken_rule_is_a_contract_violation_both_ways(
    event_type: str, change: Any, index: int, error: str
) -> None:
    data = _broken(event_type, change, index)
    model = registry.model_for(event_type).model_validate(data)

    assert error in invariants.errors(event_type, data)
    # A producer cannot send it ...
    with pytest.raises(bus.ContractViolation) as refused:
        bus.wrap(model, correlation_id="c-1", source="rocket/test")
    assert error in refused.value.errors
    # ... and a consumer quarantines it when someone else does.
    envelope = copy.deepcopy(registry.envelope_schema()["examples"][0])
    envelope.update(type=event_type, dataschema=registry.schema_id(event_type), data=data)
    with pytest.raises(bus.ContractViolation) as rejected:
        bus.parse_envelope(envelope)
    assert rejected.value.errors == [error]
