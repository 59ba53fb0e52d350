"""rocket-ingest: publish a job request for ingest-gate, as any producer would.

    rocket-ingest request --job NAME --arg k=v --transaction-id ID \
        [--endpoint-url URL] [--stage local]

The topic is the platform's export rocket-<stage>-EventTopicArn unless --topic-arn is given.
With --endpoint-url (the local platform) dummy credentials are used.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError
from rocket_contracts.bus import ContractViolation, publish, to_json, wrap
from rocket_contracts.models.ingest.job_requested_v1 import IngestJobRequestedV1

SOURCE = "rocket/ingest-cli"


class UsageError(ValueError):
    """Arguments that cannot make a valid request."""


def parse_pairs(pairs: Sequence[str]) -> dict[str, str]:
    arguments: dict[str, str] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise UsageError(f"--arg expects name=value, got {pair!r}")
        arguments[name.removeprefix("--")] = value
    return arguments


def build_request(
    *, job: str, pairs: Sequence[str], transaction_id: str, requested_by: str, now: datetime
) -> IngestJobRequestedV1:
    try:
        return IngestJobRequestedV1(
            transaction_id=transaction_id,
            job_name=job,
            arguments=parse_pairs(pairs),
            requested_by=requested_by,
            requested_at=now,
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise UsageError(problems) from exc


def _session(args: argparse.Namespace) -> boto3.Session:
    if args.endpoint_url:
        return boto3.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name=args.region
        )
    return boto3.Session(region_name=args.region)


def _client(session: boto3.Session, name: str, endpoint_url: str | None) -> Any:
    return session.client(name, endpoint_url=endpoint_url)  # type: ignore[call-overload]


def topic_arn(cloudformation: Any, stage: str) -> str:
    wanted = f"rocket-{stage}-EventTopicArn"
    for page in cloudformation.get_paginator("list_exports").paginate():
        for export in page.get("Exports", []):
            if export["Name"] == wanted:
                return str(export["Value"])
    raise UsageError(f"no export {wanted}: is the platform stack deployed?")


def request(args: argparse.Namespace) -> int:
    event = build_request(
        job=args.job,
        pairs=args.arg,
        transaction_id=args.transaction_id,
        requested_by=args.requested_by,
        now=datetime.now(UTC),
    )
    correlation_id = args.correlation_id or str(uuid.uuid4())
    # Refuse an invalid request before contacting AWS at all.
    wrap(event, correlation_id=correlation_id, source=SOURCE, subject=event.transaction_id)
    session = _session(args)
    arn = args.topic_arn or topic_arn(
        _client(session, "cloudformation", args.endpoint_url), args.stage
    )
    sent = publish(
        arn,
        event,
        correlation_id=correlation_id,
        sns_client=_client(session, "sns", args.endpoint_url),
        source=SOURCE,
        subject=event.transaction_id,
    )
    print(to_json(sent))
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="rocket-ingest", description=__doc__.splitlines()[0])
    commands = root.add_subparsers(dest="command", required=True)
    req = commands.add_parser("request", help="publish ingest.job.requested.v1")
    req.add_argument("--job", required=True, help="Glue job name (must be on the allow-list)")
    req.add_argument(
        "--arg", action="append", default=[], metavar="NAME=VALUE", help="job argument (repeat)"
    )
    req.add_argument("--transaction-id", required=True, help="idempotency key: one run per id")
    req.add_argument("--requested-by", default=f"cli/{getpass.getuser()}")
    req.add_argument("--correlation-id", default=None, help="default: a new UUID")
    req.add_argument("--endpoint-url", default=None, help="e.g. http://127.0.0.1:4566")
    req.add_argument("--stage", default="local")
    req.add_argument("--region", default="us-east-1")
    req.add_argument("--topic-arn", default=None, help="default: the platform's export")
    req.set_defaults(run=request)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (UsageError, ContractViolation) as exc:
        print(f"rocket-ingest: {exc}", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError) as exc:
        print(f"rocket-ingest: AWS error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
