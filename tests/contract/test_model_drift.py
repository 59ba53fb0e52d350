"""The generated models are exactly what the schemas generate, and the check says so when not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rocket_contracts import codegen

MODELS = Path("contracts/src/rocket_contracts/models")


def _check(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = codegen.main(["--check", "--root", str(root)])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


@pytest.fixture
def regenerated(contracts_copy: Path) -> Path:
    """The scratch copy with its models regenerated, so it starts in sync."""
    assert codegen.main(["--root", str(contracts_copy)]) == 0
    return contracts_copy


def test_checked_in_models_match_the_schemas(repo_root: Path) -> None:
    stale = codegen.plan(codegen.Layout(repo_root)).changes
    assert stale == [], f"run `make models`; stale generated files: {stale}"


def test_generation_is_byte_identical_on_every_run(regenerated: Path) -> None:
    models = regenerated / MODELS
    first = {p.relative_to(models): p.read_bytes() for p in sorted(models.rglob("*.py"))}
    assert codegen.main(["--root", str(regenerated)]) == 0
    second = {p.relative_to(models): p.read_bytes() for p in sorted(models.rglob("*.py"))}
    assert first == second
    assert all(content.startswith(codegen.HEADER.encode()) for content in second.values())


def test_check_fails_when_a_generated_model_is_edited_by_hand(
    regenerated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edited = regenerated / MODELS / "compactor" / "compaction_requested_v1.py"
    edited.write_text(edited.read_text() + "\nEXTRA = 1\n")

    status, output = _check(regenerated, capsys)

    assert status == 1
    assert "models/compactor/compaction_requested_v1.py" in output


def test_check_fails_when_a_schema_changes_without_regeneration(
    regenerated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = regenerated / "contracts/schemas/gapscraper/series-updated.v1.json"
    schema = json.loads(path.read_text())
    schema["properties"]["source_note"] = {"description": "A new note.", "type": "string"}
    path.write_text(json.dumps(schema, indent=2))

    status, output = _check(regenerated, capsys)

    assert status == 1
    assert "models/gapscraper/series_updated_v1.py" in output
    assert "models/assets" not in output


def test_check_fails_on_a_schema_without_a_model_and_a_model_without_a_schema(
    regenerated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schemas = regenerated / "contracts/schemas"
    (schemas / "gapscraper/series-updated.v1.json").rename(
        schemas / "gapscraper/series-refreshed.v1.json"
    )

    status, output = _check(regenerated, capsys)

    assert status == 1
    assert "models/gapscraper/series_refreshed_v1.py" in output
    assert "models/gapscraper/series_updated_v1.py" in output


def test_regenerating_brings_the_copy_back_in_sync_and_deletes_orphans(
    regenerated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (regenerated / "contracts/schemas/gapscraper/series-updated.v1.json").unlink()
    orphan = regenerated / MODELS / "gapscraper" / "series_updated_v1.py"

    assert codegen.main(["--root", str(regenerated)]) == 0
    status, _ = _check(regenerated, capsys)

    assert status == 0
    assert not orphan.exists()


def test_command_line_check_exits_non_zero_on_drift(regenerated: Path) -> None:
    model = regenerated / MODELS / "assets" / "asset_dropped_v1.py"
    model.write_text(model.read_text().replace("class ", "class Renamed", 1))
    command = [sys.executable, "-m", "rocket_contracts.codegen", "--check"]

    result = subprocess.run(
        [*command, "--root", str(regenerated)], capture_output=True, text=True, check=False
    )

    assert result.returncode == 1
    assert "models/assets/asset_dropped_v1.py" in result.stderr
