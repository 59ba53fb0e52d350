"""Which stacks a push changes: the deploy jobs of the CI workflow deploy exactly these.

    python -m rocket_infra.changes --base <sha> --head <sha>   # JSON for $GITHUB_OUTPUT

Standard library only, so the workflow runs it straight from the checkout (`PYTHONPATH=infra/src`)
before anything is installed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from rocket_infra import project

# What every service's package or deploy is made from: a change here redeploys them all.
EVERY_SERVICE = (
    "contracts/",
    "infra/src/",
    "infra/pyproject.toml",
    "pyproject.toml",
    "uv.lock",
    "requirements/infra.txt",
)
# How any stack is deployed: a change here redeploys every stack, the platform too.
EVERY_STACK = (".github/workflows/deploy-stack.yml",)
PLATFORM_FILES = ("infra/platform.yaml",)
NO_BASE = "0" * 40


def changed_stacks(paths: Iterable[str], services: list[str]) -> dict[str, object]:
    """{"platform": bool, "services": [names]} for the changed repository paths."""
    platform = False
    changed: set[str] = set()
    for path in paths:
        if path in EVERY_STACK:
            platform = True
            changed |= set(services)
        elif path in PLATFORM_FILES:
            platform = True
        elif path in EVERY_SERVICE or path.startswith(
            tuple(p for p in EVERY_SERVICE if p.endswith("/"))
        ):
            changed |= set(services)
        else:
            changed |= {
                s for s in services if path.startswith((f"services/{s}/", f"requirements/{s}.txt"))
            }
    return {"platform": platform, "services": sorted(changed)}


def changed_paths(base: str, head: str, root: Path) -> list[str] | None:
    """Paths changed between two commits; None when the base is unknown (a new branch, a
    force push, a shallow clone): then everything counts as changed."""
    if not base or base == NO_BASE:
        return None
    done = subprocess.run(
        ["git", "diff", "--name-only", "--no-renames", base, head],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.split() if done.returncode == 0 else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="", help="the commit before the push (empty: all)")
    parser.add_argument("--head", default="HEAD")
    args = parser.parse_args(argv)
    root = project.repo_root()
    services = project.service_names(root)
    paths = changed_paths(args.base, args.head, root)
    result = (
        {"platform": True, "services": services}
        if paths is None
        else changed_stacks(paths, services)
    )
    print(f"platform={json.dumps(result['platform'])}")
    print(f"services={json.dumps(result['services'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
