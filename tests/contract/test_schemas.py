"""Every schema file is a valid, documented, self-contained contract with working examples,
and the registry and generated models agree with it."""

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
from rocket_contracts import bus, registry
from rocket_contracts.envelope import CloudEvent
from rocket_contracts.validation import CHECKED_FORMATS, FORMAT_CHECKER

ROOT = registry.schemas_root()
SCHEMA_FILES = sorted(ROOT.glob("*/*.json"))
IDS = [path.relative_to(ROOT).as_posix() for path in SCHEMA_FILES]
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
    if schema_path.parent.name != registry.ENVELOPE_DOMAIN:
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


def test_producer_owned_objects_are_closed(schema_path: Path) -> None:
    schema = _load(schema_path)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False


def test_schema_is_self_contained_and_uses_only_checked_formats(schema_path: Path) -> None:
    nodes = list(_walk(_load(schema_path)))
    external = [where for where, node in nodes if not str(node.get("$ref", "#")).startswith("#")]
    unchecked = {node["format"] for _, node in nodes if "format" in node} - CHECKED_FORMATS
    assert external == [], "a $ref outside the file would be fetched at run time"
    assert unchecked == set(), "these formats would pass unchecked"


def test_schema_has_at_least_two_valid_examples(schema_path: Path) -> None:
    schema = _load(schema_path)
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    examples = schema.get("examples", [])
    assert len(examples) >= 2
    for index, example in enumerate(examples):
        problems = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(example)]
        assert problems == [], f"examples[{index}]"


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
        assert isinstance(parsed.envelope, CloudEvent)
