"""`getResolvedOptions`, as Glue provides it to job scripts (local runs only)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def getResolvedOptions(args: Sequence[str], options: Sequence[str]) -> dict[str, str]:  # noqa: N802 - Glue's name
    """The values of `--<option> value` for each option; a missing one is an error, as in Glue."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    for option in options:
        parser.add_argument(f"--{option}", required=True)
    known, _ = parser.parse_known_args(list(args)[1:])
    return {option: str(getattr(known, option)) for option in options}
