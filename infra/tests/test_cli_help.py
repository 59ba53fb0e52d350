"""`rocket <command> --help` says what the command does and each option's default; commands that
take a service name say which names are valid."""

from __future__ import annotations

import pytest
from rocket_infra import cli

SERVICES = ["asset-events", "ingest-gate"]


def _help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        cli.build_parser(SERVICES).parse_args([*argv, "--help"])
    assert exited.value.code == 0
    return " ".join(capsys.readouterr().out.split())


def test_help_never_splits_a_hyphenated_name_across_lines(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "44")  # narrow, so every help text wraps
    for argv in (["up"], ["deploy"], ["redrive"], ["query"]):
        with pytest.raises(SystemExit):
            cli.build_parser(SERVICES).parse_args([*argv, "--help"])
        lines = capsys.readouterr().out.splitlines()

        broken = [line for line in lines if line.rstrip().endswith(("ingest-", "asset-"))]
        assert broken == [], argv


def test_help_describes_the_command_and_shows_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(["up"], capsys)

    assert "run the whole platform locally until Ctrl-C" in text
    assert "emulator port (0: a free one) (default: 4566)" in text
    assert "stage (default: local)" in text
    assert "(default: None)" not in text
    assert "(default: False)" not in text


def test_service_options_name_the_valid_services(capsys: pytest.CaptureFixture[str]) -> None:
    assert "of: asset-events, ingest-gate (default: all)" in _help(["up"], capsys)
    assert "one of: asset-events, ingest-gate, or 'platform'" in _help(["deploy"], capsys)


def test_an_unknown_service_is_refused_with_the_valid_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.build_parser(SERVICES).parse_args(["up", "--services", "ingest-gat"])

    assert exited.value.code == 2
    assert "(choose from 'asset-events', 'ingest-gate')" in capsys.readouterr().err


def test_query_and_publish_show_their_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert "output (default: table)" in _help(["query", "x"], capsys)
    assert "any URI-reference (default: rocket/cli)" in _help(["publish", "t"], capsys)
