"""Glue Python shell job `rocket-<stage>-ingest-gate-canary`: proves the front door works.

It does nothing but report the arguments it was started with, so a synthetic request through
ingest-gate (rocket-ingest request --job rocket-<stage>-ingest-gate-canary ...) shows, end to
end, that requests are accepted, deduplicated and started. It reads sys.argv directly (Glue
passes `--name value` pairs) so it runs the same on Glue and on the local platform.
"""

import json
import sys


def parse_arguments(argv: list[str]) -> dict[str, str]:
    arguments: dict[str, str] = {}
    pending: str | None = None
    for token in argv:
        if token.startswith("--"):
            name, equals, value = token[2:].partition("=")
            if equals:
                arguments[name] = value
                pending = None
            else:
                pending = name
                arguments[name] = ""
        elif pending is not None:
            arguments[pending] = token
            pending = None
    return arguments


if __name__ == "__main__":
    arguments = parse_arguments(sys.argv[1:])
    print(json.dumps({"message": "canary run", "arguments": arguments}, sort_keys=True))
    if "transaction_id" not in arguments:
        sys.exit("canary: started without --transaction_id")
