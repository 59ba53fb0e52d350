"""Deploys reach AWS only through GitHub OIDC, one role per stage, and infra/README.md documents
the trust policy of every stage's role (its `sub` pinned to that stage's environment).

The checks take the workflows apart (not a grep alone), and each is shown to fail on a workflow
that keeps long-lived keys or shares one role between stages.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
WORKFLOW_PATHS = sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])
README = REPO_ROOT / "infra" / "README.md"
OIDC_PROVIDER = "token.actions.githubusercontent.com"

# Inputs of configure-aws-credentials that carry a long-lived (or pasted) credential.
KEY_INPUTS = {"aws-access-key-id", "aws-secret-access-key", "aws-session-token"}
KEY_TEXT = re.compile(
    r"AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|aws-access-key-id"
    r"|aws-secret-access-key|\b(AKIA|ASIA)[0-9A-Z]{16}\b|secrets\.",
)


def load(text: str) -> dict[str, Any]:
    loaded = yaml.safe_load(text)
    assert isinstance(loaded, dict)
    if True in loaded:  # YAML 1.1 reads the bare key `on` as true
        loaded["on"] = loaded.pop(True)
    return loaded


def credential_problems(name: str, text: str) -> list[str]:
    """What in one workflow lets a job reach AWS other than by the stage's OIDC role."""
    problems = [f"{name}: mentions {m.group(0)!r}" for m in KEY_TEXT.finditer(text)]
    for job_name, job in (load(text).get("jobs") or {}).items():
        for step in job.get("steps") or []:
            if "configure-aws-credentials" not in str(step.get("uses", "")):
                continue
            inputs = step.get("with") or {}
            where = f"{name}/{job_name}"
            problems += [f"{where}: passes {key}" for key in sorted(KEY_INPUTS & set(inputs))]
            role = str(inputs.get("role-to-assume", ""))
            if not re.fullmatch(r"\$\{\{ vars\.[A-Z_]+ \}\}", role):
                problems.append(f"{where}: role-to-assume {role!r} is not an environment variable")
            if (job.get("permissions") or {}).get("id-token") != "write":
                problems.append(f"{where}: no id-token: write (no OIDC token to exchange)")
            if not job.get("environment"):
                problems.append(f"{where}: no environment, so no role per stage")
    return problems


def test_workflows_reach_aws_only_through_the_stage_role() -> None:
    found = [p for path in WORKFLOW_PATHS for p in credential_problems(path.name, path.read_text())]
    assert found == []


def test_the_deploy_job_runs_in_the_environment_of_its_stage() -> None:
    (job,) = load((WORKFLOWS / "deploy-stack.yml").read_text())["jobs"].values()
    assert job["environment"] == "${{ inputs.stage }}"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}


LEAKY = """
on: push
permissions: {}
jobs:
  deploy:
    runs-on: ubuntu-latest
    permissions: {contents: read}
    steps:
      - uses: aws-actions/configure-aws-credentials@v6
        with:
          role-to-assume: arn:aws:iam::123456789012:role/rocket-deploy
          aws-access-key-id: ${{ secrets.KEY }}
          aws-region: us-east-1
"""


def test_the_check_catches_keys_a_shared_role_and_a_missing_token() -> None:
    assert credential_problems("leaky.yml", LEAKY) == [
        "leaky.yml: mentions 'aws-access-key-id'",
        "leaky.yml: mentions 'secrets.'",
        "leaky.yml/deploy: passes aws-access-key-id",
        "leaky.yml/deploy: role-to-assume 'arn:aws:iam::123456789012:role/rocket-deploy' is not "
        "an environment variable",
        "leaky.yml/deploy: no id-token: write (no OIDC token to exchange)",
        "leaky.yml/deploy: no environment, so no role per stage",
    ]


# ---------------------------------------------------------------- the documented trust policies


def deployed_stages() -> set[str]:
    jobs = load((WORKFLOWS / "ci.yml").read_text())["jobs"]
    return {
        str(job["with"]["stage"])
        for job in jobs.values()
        if "deploy-stack" in str(job.get("uses", ""))
    }


def documented_trust_policies(text: str) -> list[dict[str, Any]]:
    """The JSON blocks of the README's Security section that are OIDC trust policies."""
    section = text.split("## Security", 1)[-1].split("\n## ", 1)[0]
    blocks = re.findall(r"```json\n(.*?)```", section, re.DOTALL)
    policies = [json.loads(block) for block in blocks]
    return [p for p in policies if "AssumeRoleWithWebIdentity" in json.dumps(p)]


def trusted_stage(policy: dict[str, Any]) -> str | None:
    """The environment whose tokens the policy trusts, when it trusts exactly that and nothing
    else: the GitHub provider, the STS audience, `sub` pinned by StringEquals."""
    (statement,) = policy["Statement"]
    federated = statement["Principal"]["Federated"]
    if statement["Action"] != "sts:AssumeRoleWithWebIdentity" or statement["Effect"] != "Allow":
        return None
    if not federated.endswith(f":oidc-provider/{OIDC_PROVIDER}"):
        return None
    if set(statement["Condition"]) != {"StringEquals"}:
        return None
    equals = statement["Condition"]["StringEquals"]
    if equals.get(f"{OIDC_PROVIDER}:aud") != "sts.amazonaws.com":
        return None
    match = re.fullmatch(
        r"repo:<org>/<repo>:environment:([a-z][a-z0-9-]*)", equals.get(f"{OIDC_PROVIDER}:sub", "")
    )
    return match.group(1) if match else None


def test_readme_documents_a_trust_policy_for_every_deployed_stage() -> None:
    stages = deployed_stages()
    assert stages == {"dev", "prod"}
    documented = [trusted_stage(p) for p in documented_trust_policies(README.read_text())]
    assert sorted(s for s in documented if s) == sorted(stages)
    assert None not in documented, "a documented trust policy is looser than one environment"


@pytest.mark.parametrize(
    "loosen",
    [
        lambda c: c["StringEquals"].update(
            {f"{OIDC_PROVIDER}:sub": "repo:<org>/<repo>:environment:*"}
        ),
        lambda c: c.update({"StringLike": {f"{OIDC_PROVIDER}:sub": "repo:<org>/<repo>:*"}}),
        lambda c: c["StringEquals"].pop(f"{OIDC_PROVIDER}:aud"),
        lambda c: c["StringEquals"].update({f"{OIDC_PROVIDER}:sub": "repo:<org>/<repo>:ref:main"}),
    ],
)
def test_a_looser_trust_policy_is_not_taken_for_a_stage(loosen: Any) -> None:
    (policy, *_) = documented_trust_policies(README.read_text())
    assert trusted_stage(policy) is not None
    loosen(policy["Statement"][0]["Condition"])
    assert trusted_stage(policy) is None
