"""Every `rocket ...` command a README shows exists, with the options it shows, and its --help
runs; no README tells a reader to run a command a fresh clone does not have.

A fresh machine has only Python: `make setup` installs uv as `python3 -m uv` and the CLI as
`.venv/bin/rocket`, so `uv run ...` is "command not found" there.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path

import pytest
from rocket_infra import cli

ROOT = Path(__file__).resolve().parents[2]
_COMMAND = re.compile(r"(?<![\w./-])(?:\.venv/bin/)?rocket((?: [a-z][a-z-]*)+)((?: [^\s`|]+)*)")


def _readmes() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "*README.md"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / name for name in listed]


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _commands() -> list[tuple[str, str]]:
    """(README, the command as written) for every `rocket <command> ...` in every README."""
    found: list[tuple[str, str]] = []
    for readme in _readmes():
        for line in readme.read_text(encoding="utf-8").splitlines():
            for match in _COMMAND.finditer(line):
                found.append((readme.relative_to(ROOT).as_posix(), match.group(0)))
    return found


COMMANDS = _commands()


def _resolve(words: list[str]) -> tuple[list[str], argparse.ArgumentParser]:
    """The command path (e.g. ['fault', 'set']) and its parser; the rest are arguments."""
    parser, path = cli.build_parser(), list[str]()
    for word in words:
        sub = _subcommands(parser).get(word)
        if sub is None:
            break
        parser, path = sub, [*path, word]
    return path, parser


def test_the_readmes_show_rocket_commands() -> None:
    assert len(COMMANDS) >= 20
    assert {readme for readme, _ in COMMANDS} >= {"README.md", "infra/README.md"}


@pytest.mark.parametrize(("readme", "command"), COMMANDS, ids=[c for _, c in COMMANDS])
def test_every_readme_rocket_command_exists_and_its_help_runs(
    readme: str, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    words = command.split()[1:]
    path, parser = _resolve(words)
    assert path, f"{readme}: `{command}` names no rocket command"
    known = {option for action in parser._actions for option in action.option_strings}
    shown = {re.sub(r"[=\[\],.;:)]+.*$", "", word) for word in words if word.startswith("--")} - {
        "--"
    }
    assert shown <= known, f"{readme}: `{command}` shows options `rocket {' '.join(path)}` lacks"

    with pytest.raises(SystemExit) as exited:
        cli.main([*path, "--help"])

    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: rocket {' '.join(path)}")


@pytest.mark.parametrize("readme", _readmes(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_readme_needs_a_command_a_fresh_clone_lacks(readme: Path) -> None:
    text = readme.read_text(encoding="utf-8")
    assert not re.search(r"(?<![\w-])uv run\b", text), "uv is `python3 -m uv` after make setup"
    assert not re.search(r"\.\./shared/", text), "a clone has no shared/ beside it"


def test_the_root_readmes_request_json_is_what_rocket_publish_accepts() -> None:
    from rocket_infra import publish

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [data] = re.findall(r"^echo '(\{.*\})' > request\.json$", readme, re.M)

    outgoing = publish.build("ingest.job.requested.v1", json.loads(data))

    assert outgoing.event_type == "ingest.job.requested.v1"
