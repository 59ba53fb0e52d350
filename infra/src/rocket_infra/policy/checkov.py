"""checkov over the repository's CloudFormation templates, from its own virtual environment.

checkov pins boto3, networkx and packaging far below what the workspace uses, so it cannot be
a dev dependency: it lives in `.tools/checkov`, installed on first use from the pinned, hashed
`requirements/tools/checkov.txt` (regenerate with `make checkov-requirements`). It runs with
`--skip-download`: no guidelines or external checks fetched, the same findings offline.

A finding is either fixed in the template or skipped there, on the resource, with the reason:

    Metadata:
      checkov:
        skip:
          - id: CKV_AWS_117
            comment: Talks only to AWS APIs; no VPC resource to reach.

`python -m rocket_infra.policy.checkov` (`make checkov`) prints every failed check and every
skip without a reason, and exits 1 when there is any.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rocket_infra import project
from rocket_infra.build import uv_command
from rocket_infra.policy.template_rules import discover_templates

REQUIREMENTS = Path("requirements") / "tools" / "checkov.txt"
TOOL_DIR = Path(".tools") / "checkov"
# checkov's own text when a skip gives no comment
_NO_COMMENT = "No comment provided"


class CheckovError(RuntimeError):
    """checkov could not be installed or did not run."""


@dataclass(frozen=True)
class Finding:
    check_id: str
    name: str
    file: str  # relative to the repository root
    resource: str  # e.g. AWS::S3::Bucket.RawBucket
    reason: str = ""  # the skip comment, for a skipped check

    def __str__(self) -> str:
        return f"{self.file} {self.resource} {self.check_id}: {self.name}"


@dataclass(frozen=True)
class Report:
    failed: list[Finding]
    skipped: list[Finding]
    passed: list[Finding]

    @property
    def skipped_without_reason(self) -> list[Finding]:
        return [f for f in self.skipped if not f.reason or f.reason == _NO_COMMENT]


def executable(root: Path) -> Path:
    return root / TOOL_DIR / "bin" / "checkov"


def _stamp(root: Path) -> Path:
    return root / TOOL_DIR / ".installed"


def _installed(root: Path) -> bool:
    """Installed, and from the requirements file as it is now."""
    stamp = _stamp(root)
    wanted = (root / REQUIREMENTS).read_text("utf-8")
    return executable(root).is_file() and stamp.is_file() and stamp.read_text("utf-8") == wanted


def ensure_installed(root: Path) -> Path:
    """checkov's executable, installing its venv first when missing or out of date. Parallel
    test workers wait on a lock instead of installing over each other."""
    tool = root / TOOL_DIR
    tool.parent.mkdir(exist_ok=True)
    with (tool.parent / ".checkov.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _installed(root):
            requirements = root / REQUIREMENTS
            uv = uv_command()
            for command in (
                [*uv, "venv", "--quiet", "--clear", "--python", sys.executable, str(tool)],
                [
                    *uv,
                    "pip",
                    "install",
                    "--quiet",
                    "--python",
                    str(tool),
                    "--require-hashes",
                    "-r",
                    str(requirements),
                ],
            ):
                done = subprocess.run(command, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    raise CheckovError(f"{' '.join(command[:3])} failed:\n{done.stderr.strip()}")
            _stamp(root).write_text(requirements.read_text("utf-8"), "utf-8")
    return executable(root)


def _finding(root: Path, check: dict[str, Any]) -> Finding:
    result = check.get("check_result") or {}
    path = Path(str(check["file_abs_path"]))
    return Finding(
        check_id=str(check["check_id"]),
        name=str(check.get("check_name", "")),
        file=(path.relative_to(root) if path.is_relative_to(root) else path).as_posix(),
        resource=str(check.get("resource", "")),
        reason=str(result.get("suppress_comment") or ""),
    )


def parse(root: Path, output: str) -> Report:
    """checkov's JSON output (one report, or a list of them per framework)."""
    loaded = json.loads(output) if output.strip() else []
    reports = loaded if isinstance(loaded, list) else [loaded]
    failed: list[Finding] = []
    skipped: list[Finding] = []
    passed: list[Finding] = []
    for report in reports:
        if "results" not in report:  # `{"passed": 0, ...}`: nothing was scanned
            continue
        results = report["results"]
        failed += [_finding(root, c) for c in results.get("failed_checks", [])]
        skipped += [_finding(root, c) for c in results.get("skipped_checks", [])]
        passed += [_finding(root, c) for c in results.get("passed_checks", [])]
    return Report(failed, skipped, passed)


def run(root: Path, templates: Sequence[Path]) -> Report:
    """checkov's CloudFormation checks over these templates, in one process."""
    command = [
        str(ensure_installed(root)),
        "--framework",
        "cloudformation",
        "--skip-download",
        "--output",
        "json",
        *(arg for path in templates for arg in ("--file", str(path))),
    ]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}
    done = subprocess.run(
        command, cwd=root, capture_output=True, text=True, check=False, env=env, timeout=300
    )
    # 0: every check passed, 1: some failed; anything else is checkov failing
    if done.returncode not in (0, 1):
        raise CheckovError(f"checkov exited {done.returncode}:\n{done.stderr.strip()[-2000:]}")
    return parse(root, done.stdout)


def main(argv: list[str] | None = None) -> int:
    root = project.repo_root()
    paths = [Path(p).resolve() for p in argv] if argv else discover_templates(root)
    report = run(root, paths)
    for finding in report.failed:
        print(f"FAILED  {finding}")
    for finding in report.skipped_without_reason:
        print(f"NO REASON  {finding}")
    print(
        f"checkov: {len(paths)} templates, {len(report.passed)} passed, "
        f"{len(report.failed)} failed, {len(report.skipped)} skipped with a reason in the template"
    )
    return 1 if report.failed or report.skipped_without_reason else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
