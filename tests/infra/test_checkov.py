"""checkov over every CloudFormation template: no failed check, and every skip in a template
says why (rocket_infra.policy.checkov; checkov runs from its own venv, installed on first use).

One checkov run covers the repository's templates and a known-bad one, so the test also proves
the run would catch a finding and a skip with no reason.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from rocket_infra.policy import checkov
from rocket_infra.policy.template_rules import discover_templates

REPO_ROOT = Path(__file__).resolve().parents[2]

BAD = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  PlainQueue:
    Type: AWS::SQS::Queue
  QuietQueue:
    Type: AWS::SQS::Queue
    Metadata:
      checkov:
        skip:
          - id: CKV_AWS_27
"""


def test_checkov_fails_no_check_and_every_skip_has_a_reason(tmp_path: Path) -> None:
    templates = discover_templates(REPO_ROOT)
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    report = checkov.run(REPO_ROOT, [*templates, bad])

    names = {t.relative_to(REPO_ROOT).as_posix() for t in templates}
    scanned = {f.file for f in report.passed + report.failed + report.skipped}
    assert names <= scanned, f"checkov did not scan {sorted(names - scanned)}"
    assert [str(f) for f in report.failed if f.file in names] == []
    assert [str(f) for f in report.skipped_without_reason if f.file in names] == []
    skipped = Counter(f.check_id for f in report.skipped if f.file in names)
    assert skipped, "the templates skip nothing: the skips are not read"

    # the known-bad template: a finding, and a skip without its reason
    assert [(f.check_id, f.resource) for f in report.failed if f.file == bad.as_posix()] == [
        ("CKV_AWS_27", "AWS::SQS::Queue.PlainQueue")
    ]
    assert [f.resource for f in report.skipped_without_reason] == ["AWS::SQS::Queue.QuietQueue"]


def test_checkov_installs_from_hashed_pins() -> None:
    requirements = (REPO_ROOT / checkov.REQUIREMENTS).read_text("utf-8")
    # one entry per package: its `name==version \` line and the continuation lines after it
    entries = re.split(r"\n(?=\S)", requirements)
    packages = [e for e in entries if not e.startswith("#")]
    assert any(e.startswith("checkov==") for e in packages)
    unhashed = [e.split()[0] for e in packages if "--hash=sha256:" not in e]
    assert unhashed == []
    assert all(re.match(r"^[A-Za-z0-9._-]+==\S+", e) for e in packages), "unpinned entries"
    assert "://" not in requirements, "the requirements name no index host"
