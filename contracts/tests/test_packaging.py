"""Installed as a Lambda package (schemas inside the package), the registry needs no repo."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import rocket_contracts

PACKAGE = Path(rocket_contracts.__file__).resolve().parent
REPO_SCHEMAS = PACKAGE.parents[1] / "schemas"


def test_packaged_schemas_are_found_without_the_repository(tmp_path: Path) -> None:
    site = tmp_path / "lambda"
    shutil.copytree(
        PACKAGE, site / "rocket_contracts", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(REPO_SCHEMAS, site / "rocket_contracts" / "schemas")
    probe = (
        "import json; from rocket_contracts import bus, registry;"
        "print(json.dumps([str(registry.schemas_root()), registry.event_types()]))"
    )

    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    root, types = json.loads(result.stdout)
    assert Path(root) == site / "rocket_contracts" / "schemas"
    assert "ingest.job.requested.v1" in types
