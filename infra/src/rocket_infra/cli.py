"""rocket: build, deploy and run the Rocket platform (locally, on an embedded AWS emulator)."""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import json
import logging
import os
import signal
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from rocket_infra import (
    aws,
    control,
    deploy,
    events,
    faults,
    naming,
    parameters,
    project,
    publish,
    query,
    redrive,
    standins,
    table,
)
from rocket_infra.build import LAMBDA_PLATFORM, BuildError
from rocket_infra.emulator import EmulatorError
from rocket_infra.standins import StandinError
from rocket_infra.templates import TemplateError

logger = logging.getLogger("rocket_infra")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Each option's default in its help, unless there is none to show or the help says it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text or action.default in (None, False, [], argparse.SUPPRESS):
            return text
        return super()._get_help_string(action)

    # argparse wraps with textwrap's defaults, which break lines inside hyphenated words:
    # service names (`ingest-gate`) and options would be split across lines.
    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(
            " ".join(text.split()), width, break_on_hyphens=False, break_long_words=False
        )

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return textwrap.fill(
            " ".join(text.split()),
            width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_on_hyphens=False,
            break_long_words=False,
        )


def _describe_commands(parser: argparse.ArgumentParser) -> None:
    """Every (sub)command's --help says what it does (its one-line help) and shows defaults."""
    parser.formatter_class = _HelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                sub.description = sub.description or helps.get(name)
                _describe_commands(sub)


def _add_stage(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stage", default="local", help="stage")
    parser.add_argument("--region", default=aws.DEFAULT_REGION, help="AWS region")


def _known_services() -> list[str]:
    try:
        return project.service_names(project.repo_root())
    except OSError:  # not inside a checkout: argparse then accepts any name
        return []


def build_parser(services: Sequence[str] | None = None) -> argparse.ArgumentParser:
    names = list(services) if services is not None else _known_services()
    listed = ", ".join(names) or "the folders under services/"
    parser = argparse.ArgumentParser(prog="rocket", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens (INFO)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser("up", help="run the whole platform locally until Ctrl-C")
    up.add_argument("--port", type=int, default=4566, help="emulator port (0: a free one)")
    up.add_argument("--stage", default="local", help="stage")
    up.add_argument(
        "--services",
        nargs="*",
        choices=names or None,
        metavar="SERVICE",
        help=f"deploy only these services, of: {listed} (default: all)",
    )
    up.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="SERVICE:NAME=VALUE",
        help="a stack parameter of one service (repeatable; wins over a stand-in's URL)",
    )

    commands.add_parser("demo", help="a sample workload through every service; exit 1 on failure")

    dep = commands.add_parser(
        "deploy", help="package and deploy one stack (AWS, or --endpoint-url)"
    )
    dep.add_argument("service", help=f"one of: {listed}, or 'platform'")
    _add_stage(dep)
    dep.add_argument("--endpoint-url", help="deploy into this emulator instead of AWS")
    dep.add_argument("--package", type=Path, help="a zip from `rocket build` (AWS only)")
    dep.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a stack parameter the template declares (repeatable)",
    )

    bld = commands.add_parser("build", help="the Lambda zip of one service, under dist/")
    bld.add_argument("service", help=f"one of: {listed}")
    bld.add_argument("--dist", type=Path, help="output folder (default: <repo>/dist)")
    bld.add_argument("--python-version", default="3.12", help="Lambda runtime's Python")
    bld.add_argument(
        "--platform",
        default=LAMBDA_PLATFORM,
        help="wheel platform; aarch64-manylinux_2_28 for arm64",
    )

    evt = commands.add_parser("events", help="the messages that crossed the shared topic")
    evt.add_argument("--follow", "-f", action="store_true", help="keep printing new events")
    evt.add_argument("--correlation-id", help="only this request's events")
    evt.add_argument("--json", action="store_true", help="whole CloudEvents, one per line")
    evt.add_argument("--endpoint-url", help="read the tap queue of this emulator directly")
    _add_stage(evt)

    pub = commands.add_parser(
        "publish",
        help="validate one contract event and publish it to the shared topic",
        description="Wrap DATA in a CloudEvent of TYPE, validate it as the consumers will, and"
        " publish it to the shared topic with the `type` message attribute set.",
    )
    pub.add_argument("type", help="event type, e.g. ingest.job.requested.v1")
    pub.add_argument(
        "--data", required=True, help="the event's data: @file.json, - (stdin) or JSON text"
    )
    pub.add_argument(
        "--source", default=publish.DEFAULT_SOURCE, help="CloudEvents source, any URI-reference"
    )
    pub.add_argument("--correlation-id", help="correlation id (default: the new event's id)")
    pub.add_argument("--subject", help="CloudEvents subject (default: none)")
    pub.add_argument("--endpoint-url", help="the emulator (default: a running `rocket up`)")
    pub.add_argument("--topic-arn", help="publish here (default: the stage's shared topic)")
    _add_stage(pub)

    qry = commands.add_parser(
        "query",
        help="SQL over the running platform's lake (DuckDB, Athena's table names)",
        description="Run SQL with DuckDB over the lake of a running platform: every table in its"
        " Glue catalog is a view <database>.<table> over its S3 location (Hive partitions, the"
        " catalog's column types).",
    )
    sql = qry.add_mutually_exclusive_group(required=True)
    sql.add_argument("sql", nargs="?", help="the SQL to run")
    sql.add_argument("--file", type=Path, help="read the SQL from this file")
    qry.add_argument(
        "--format", choices=query.FORMATS, default="table", help="output (default: table)"
    )
    qry.add_argument(
        "--alias",
        action="append",
        default=[],
        metavar="NAME=DATABASE.TABLE",
        help="also expose a catalog table as NAME, e.g. the name an Athena query uses"
        " (repeatable; default: none)",
    )
    qry.add_argument("--endpoint-url", help="the emulator (default: a running `rocket up`)")
    _add_stage(qry)

    trg = commands.add_parser("trigger", help="fire one schedule now (on a running `rocket up`)")
    trg.add_argument("schedule", help="rule/schedule name or the template's logical id")
    _add_stage(trg)

    rdr = commands.add_parser(
        "redrive",
        help="move a DLQ's messages back to its source queue",
        description="Move a DLQ's messages back to its source queue. A service with its own"
        " redrive for the queue (a rule rocket-<stage>-<service>-redrive-<queue> targeting a"
        " function, e.g. asset-events' upsert and drop: attempts counted in a message"
        " attribute, a message past RedriveMaxAttempts parked in the content bucket with its"
        " history and the MessagesParked alarm metric) runs that function once, now, and prints"
        " what it moved and parked. Any other queue is moved as it is (StartMessageMoveTask on"
        " AWS; receive, send, delete on the local platform), without counting attempts.",
    )
    rdr.add_argument("service", help=f"one of: {listed}")
    rdr.add_argument(
        "queue",
        help="source queue or DLQ: logical id, name or name suffix"
        " (e.g. `rocket redrive asset-events upsert`)",
    )
    _add_stage(rdr)
    rdr.add_argument("--endpoint-url", help="the emulator (default: a running `rocket up`)")

    flt = commands.add_parser("fault", help="make the emulator fail chosen operations")
    actions = flt.add_subparsers(dest="action", required=True, metavar="ACTION")
    fault_set = actions.add_parser("set", help="fault one operation (replaces its fault)")
    fault_set.add_argument("--service", required=True, help="signing name: dynamodb, s3, sqs, ...")
    fault_set.add_argument("--operation", required=True, help="e.g. BatchWriteItem; '*': any")
    fault_set.add_argument("--kind", required=True, choices=faults.KINDS)
    how_often = fault_set.add_mutually_exclusive_group()
    how_often.add_argument("--rate", type=float, help="probability per call, 0..1")
    how_often.add_argument("--count", type=int, help="the next N calls")
    fault_set.add_argument("--seed", type=int, help="makes --rate reproducible")
    fault_set.add_argument("--delay-seconds", type=float, help="timeout: wait before answering")
    fault_clear = actions.add_parser("clear", help="remove every fault")
    fault_list = actions.add_parser("list", help="the faults set and how often each fired")
    for action in (fault_set, fault_clear, fault_list):
        action.add_argument("--stage", default="local", help="stage")
        action.add_argument("--endpoint-url", help="the emulator (default: a running `rocket up`)")
    _describe_commands(parser)
    return parser


def platform_command(runtime: Any, command: dict[str, Any]) -> dict[str, Any] | None:
    """Run one control-queue command on a running platform's runtime; what goes back in the
    reply (a raised error becomes the reply's `error`)."""
    if command.get("command") == "trigger":
        runtime.trigger(str(command["schedule"]))
    elif command.get("command") == "refresh":  # a stack was (re)deployed
        runtime.refresh()
    elif command.get("command") == "invoke":  # one synchronous invocation, e.g. a redrive
        result = runtime.invoke(str(command["function"]), command.get("event", {}))
        if result.error is not None:
            error = result.error
            raise RuntimeError(f"{error.get('errorType')}: {error.get('errorMessage')}")
        return {"payload": result.payload}
    else:
        raise ValueError(f"unknown command {command.get('command')!r}")
    return None


def _local_endpoint(root: Path, stage: str, given: str | None) -> str | None:
    if given:
        return given
    state = control.read_state(root, stage)
    return state.endpoint_url if state else None


# --- commands ------------------------------------------------------------------------------


def cmd_up(args: argparse.Namespace, root: Path) -> int:
    from rocket_infra.local import LocalPlatform

    running = control.read_state(root, args.stage)
    if running is not None:
        print(f"stage {args.stage} is already up at {running.endpoint_url} (pid {running.pid})")
        return 1
    journal = control.journal_path(root, args.stage)
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.write_text("")
    started = time.monotonic()
    overrides = parameters.parse_per_service(args.parameter)
    with LocalPlatform.start(
        port=args.port,
        stage=args.stage,
        services=args.services,
        journal=journal,
        parameters=overrides,
    ) as platform:
        sqs = platform.client("sqs")
        queue_url = sqs.create_queue(QueueName=control.control_queue_name(args.stage))["QueueUrl"]
        state = control.State(
            args.stage, platform.endpoint_url, os.getpid(), platform.region, str(journal)
        )
        path = control.write_state(root, state)
        try:
            print(f"rocket {args.stage} is up in {time.monotonic() - started:.1f} s")
            print(
                f"endpoint: {platform.endpoint_url}  (aws --endpoint-url {platform.endpoint_url})"
            )
            print(describe_platform(platform.client, args.stage))
            if platform.standins.running:
                print()
                print(
                    table.render(
                        ("service", "stand-in", "parameter", "url"), platform.standins.table_rows()
                    )
                )
            print("\nCtrl-C to stop.", flush=True)

            def run_command(command: dict[str, Any]) -> dict[str, Any] | None:
                return platform_command(platform.runtime, command)

            while True:
                try:
                    control.serve_once(sqs, queue_url, run_command)
                except (ClientError, BotoCoreError):  # an emulator hiccup must not stop `up`
                    logger.exception("control queue read failed")
                    time.sleep(1)
        except KeyboardInterrupt:
            print("\nstopping")
        finally:
            path.unlink(missing_ok=True)
    return 0


def describe_platform(client: Any, stage: str) -> str:
    """Tables of the deployed stacks, queues and functions."""
    cfn, sqs, lambda_ = client("cloudformation"), client("sqs"), client("lambda")
    stacks = [
        (s["StackName"], s["StackStatus"])
        for s in cfn.describe_stacks()["Stacks"]
        if s["StackName"].startswith(naming.prefix(stage))
    ]
    queues = []
    for url in sqs.list_queues(QueueNamePrefix=naming.prefix(stage)).get("QueueUrls", []):
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "RedrivePolicy"]
        )["Attributes"]
        dlq = json.loads(attributes.get("RedrivePolicy", "{}")).get("deadLetterTargetArn", "")
        queues.append(
            (url.rsplit("/", 1)[-1], attributes["ApproximateNumberOfMessages"], dlq.split(":")[-1])
        )
    functions = [
        (f["FunctionName"], f["Handler"])
        for f in lambda_.list_functions()["Functions"]
        if f["FunctionName"].startswith(naming.prefix(stage))
    ]
    return "\n\n".join(
        [
            table.render(("stack", "status"), sorted(stacks)),
            table.render(("queue", "messages", "dead-letter queue"), sorted(queues)),
            table.render(("function", "handler"), sorted(functions)),
            table.render(("schedule / state machine / glue job", "kind"), _compute(client, stage)),
        ]
    )


def _compute(client: Any, stage: str) -> list[tuple[str, str]]:
    prefix = naming.prefix(stage)
    rules = [
        (r["Name"], f"rule {r['ScheduleExpression']}")
        for r in client("events").list_rules(NamePrefix=prefix)["Rules"]
        if r.get("ScheduleExpression")
    ]
    schedules = [
        (s["Name"], "schedule")
        for s in client("scheduler").list_schedules(NamePrefix=prefix)["Schedules"]
    ]
    machines = [
        (m["name"], "state machine")
        for m in client("stepfunctions").list_state_machines()["stateMachines"]
        if m["name"].startswith(prefix)
    ]
    jobs = [
        (name, "glue job")
        for name in client("glue").list_jobs()["JobNames"]
        if name.startswith(prefix)
    ]
    return sorted(rules + schedules + machines + jobs)


def cmd_demo(args: argparse.Namespace, root: Path) -> int:
    from rocket_infra.demo.runner import run_demo

    # The same place as the other files of the local stage (.rocket/<stage>...).
    log = None if args.verbose else root / ".rocket" / "local-demo.log"
    return run_demo(log=log)


def cmd_deploy(args: argparse.Namespace, root: Path) -> int:
    service = project.service(root, args.service)
    overrides = parameters.parse_many(args.parameter)
    running = control.read_state(root, args.stage)
    if running is not None and args.endpoint_url == running.endpoint_url:
        cfn = aws.client("cloudformation", endpoint_url=running.endpoint_url, region=args.region)
        stack = project.stack_name(args.stage, args.service)
        overrides = {**standins.deployed_urls(service, cfn, stack), **overrides}
    deployed = deploy.deploy(
        service,
        stage=args.stage,
        endpoint_url=args.endpoint_url,
        region=args.region,
        repo_root=root,
        package=args.package,
        out=sys.stdout,
        overrides=overrides,
    )
    if deployed.outputs:
        print(table.render(("output", "value"), sorted(deployed.outputs.items())))
    if running is not None and args.endpoint_url == running.endpoint_url:
        sqs = aws.client("sqs", endpoint_url=running.endpoint_url, region=running.region)
        control.send(sqs, args.stage, {"command": "refresh"})
        print(f"the running platform ({args.stage}) now runs the new {args.service}")
    return 0


def cmd_build(args: argparse.Namespace, root: Path) -> int:
    from rocket_infra.build import build

    build(
        project.service(root, args.service),
        root,
        dist=args.dist,
        python_version=args.python_version,
        platform=args.platform,
        out=sys.stdout,
    )
    return 0


def cmd_events(args: argparse.Namespace, root: Path) -> int:
    state = control.read_state(root, args.stage)
    show = _message_printer(args)
    if state is not None and args.endpoint_url in (None, state.endpoint_url):
        journal = Path(state.journal)
        seen = 0
        while True:
            recorded = events.read_journal(journal)
            for message in events.select(recorded[seen:], args.correlation_id):
                show(message)
            seen = len(recorded)
            if not args.follow:
                return 0
            time.sleep(0.5)
    endpoint = args.endpoint_url
    if endpoint is None:
        print(f"no `rocket up` is running for stage {args.stage}; pass --endpoint-url")
        return 1
    sqs = aws.client("sqs", endpoint_url=endpoint, region=args.region)
    try:
        queue_url = sqs.get_queue_url(QueueName=events.tap_queue_name(args.stage))["QueueUrl"]
    except ClientError:
        print(f"no bus tap queue {events.tap_queue_name(args.stage)}: is the platform up?")
        return 1
    while True:
        for message in events.select(events.receive(sqs, queue_url, 1), args.correlation_id):
            show(message)
        if not args.follow:
            return 0


def _message_printer(args: argparse.Namespace) -> Callable[[events.BusMessage], None]:
    header = [] if args.json else [events.HEADER]

    def show(message: events.BusMessage) -> None:
        while header:
            print(header.pop(), flush=True)
        line = events.message_json(message) if args.json else events.format_message(message)
        print(line, flush=True)

    return show


def cmd_publish(args: argparse.Namespace, root: Path) -> int:
    outgoing = publish.build(
        args.type,
        publish.read_data(args.data),
        source=args.source,
        correlation_id=args.correlation_id,
        subject=args.subject,
    )
    endpoint = _local_endpoint(root, args.stage, args.endpoint_url)
    topic = args.topic_arn or publish.topic_arn(
        aws.client("cloudformation", endpoint_url=endpoint, region=args.region), args.stage
    )
    sns = aws.client("sns", endpoint_url=endpoint, region=args.region)
    message_id = publish.send(sns, topic, outgoing)
    print(
        f"published {outgoing.event_type} id {outgoing.event_id}"
        f" correlation id {outgoing.correlation_id} (SNS message {message_id})"
    )
    return 0


def cmd_query(args: argparse.Namespace, root: Path) -> int:
    sql = args.sql if args.file is None else args.file.read_text(encoding="utf-8")
    endpoint = _local_endpoint(root, args.stage, args.endpoint_url)
    if endpoint is None:
        print(f"no `rocket up` is running for stage {args.stage}; pass --endpoint-url")
        return 1
    glue = aws.client("glue", endpoint_url=endpoint, region=args.region)
    s3 = aws.client("s3", endpoint_url=endpoint, region=args.region)
    with query.lake(glue, s3, query.parse_aliases(args.alias)) as con:
        print(query.render(query.run(con, sql), args.format))
    return 0


def cmd_trigger(args: argparse.Namespace, root: Path) -> int:
    state = control.read_state(root, args.stage)
    if state is None:
        print(f"no `rocket up` is running for stage {args.stage}")
        return 1
    sqs = aws.client("sqs", endpoint_url=state.endpoint_url, region=state.region)
    reply = control.send(sqs, args.stage, {"command": "trigger", "schedule": args.schedule})
    if not reply.get("ok"):
        print(f"trigger {args.schedule} failed: {reply.get('error')}")
        return 1
    print(f"triggered {args.schedule}")
    return 0


def service_redrive(events_client: Any, stage: str, service: str, source_url: str) -> Any:
    """(function ARN, input) of a service's own redrive of a queue, or None: the Lambda target
    of its rule `rocket-<stage>-<service>-redrive-<q>` for the queue `rocket-<stage>-<service>-<q>`
    (what the schedule runs; the command runs it now)."""
    prefix = naming.stack_name(stage, service) + "-"
    queue_name = source_url.rsplit("/", 1)[-1]
    if not queue_name.startswith(prefix):
        return None
    rule = f"{prefix}redrive-{queue_name.removeprefix(prefix)}"
    try:
        targets = events_client.list_targets_by_rule(Rule=rule)["Targets"]
    except events_client.exceptions.ResourceNotFoundException:
        return None
    for target in targets:
        if target["Arn"].split(":")[2] == "lambda":
            return target["Arn"], target.get("Input") or "{}"
    return None


def _run_service_redrive(
    args: argparse.Namespace, endpoint: str | None, function_arn: str, payload: str
) -> int:
    function = function_arn.rsplit(":", 1)[-1]
    if endpoint is None:
        lam = aws.synchronous_invoker(function_arn, region=args.region)
        answer = lam.invoke(FunctionName=function_arn, Payload=payload.encode())
        body = json.loads(answer["Payload"].read() or b"null")
        if answer.get("FunctionError"):
            print(f"{function} failed: {body.get('errorType')}: {body.get('errorMessage')}")
            return 1
    else:
        sqs = aws.client("sqs", endpoint_url=endpoint, region=args.region)
        command = {"command": "invoke", "function": function_arn, "event": json.loads(payload)}
        reply = control.send(sqs, args.stage, command, timeout=180.0)
        if not reply.get("ok"):
            print(f"{function} failed: {reply.get('error')}")
            return 1
        body = reply.get("payload")
    report = body if isinstance(body, dict) else {}
    parked = list(report.get("parked", []))
    print(f"{function} {payload}: moved {report.get('moved', 0)}, parked {len(parked)}")
    for where in parked:
        print(f"  parked {where}")
    return 0


def cmd_redrive(args: argparse.Namespace, root: Path) -> int:
    endpoint = _local_endpoint(root, args.stage, args.endpoint_url)
    cfn = aws.client("cloudformation", endpoint_url=endpoint, region=args.region)
    sqs = aws.client("sqs", endpoint_url=endpoint, region=args.region)
    stack = project.stack_name(args.stage, args.service)
    queues = deploy.resources_of_type(cfn, stack, "AWS::SQS::Queue")
    pair = redrive.find_pair(sqs, queues, args.queue)
    events_client = aws.client("events", endpoint_url=endpoint, region=args.region)
    own = service_redrive(events_client, args.stage, args.service, pair.source_url)
    if own is not None:
        return _run_service_redrive(args, endpoint, *own)
    if endpoint is None:
        handle = redrive.start_move_task(sqs, pair)
        print(f"started moving {pair.dlq_arn} -> {pair.source_arn} (task {handle})")
        return 0
    moved = redrive.move_messages(sqs, pair)
    print(
        f"moved {moved} messages {pair.dlq_url.rsplit('/', 1)[-1]} -> "
        f"{pair.source_url.rsplit('/', 1)[-1]}"
    )
    return 0


def cmd_fault(args: argparse.Namespace, root: Path) -> int:
    endpoint = _local_endpoint(root, args.stage, args.endpoint_url)
    if endpoint is None:
        print(f"no `rocket up` is running for stage {args.stage}; pass --endpoint-url")
        return 1
    if args.action == "set":
        faults.set_fault(
            endpoint,
            service=args.service,
            operation=args.operation,
            kind=args.kind,
            rate=args.rate,
            count=args.count,
            seed=args.seed,
            delay_seconds=args.delay_seconds,
        )
        print(f"fault set: {args.service} {args.operation} {args.kind}")
    elif args.action == "clear":
        faults.clear_faults(endpoint)
        print("faults cleared")
    else:
        columns = ("service", "operation", "kind", "rate", "count", "seed", "fired")
        rows = [
            tuple("" if f[c] is None else str(f[c]) for c in columns)
            for f in faults.list_faults(endpoint)
        ]
        print(table.render(columns, rows) if rows else "no faults set")
    return 0


COMMANDS = {
    "up": cmd_up,
    "demo": cmd_demo,
    "deploy": cmd_deploy,
    "build": cmd_build,
    "events": cmd_events,
    "publish": cmd_publish,
    "query": cmd_query,
    "trigger": cmd_trigger,
    "redrive": cmd_redrive,
    "fault": cmd_fault,
}

_EXPECTED_ERRORS = (
    deploy.DeployError,
    BuildError,
    TemplateError,
    project.UnknownServiceError,
    redrive.RedriveError,
    parameters.ParameterError,
    faults.FaultError,
    publish.PublishError,
    query.QueryError,
    StandinError,
    control.ControlError,
    EmulatorError,
    ClientError,
    BotoCoreError,
)


_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, the constant message and its fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **{k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS},
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if args.verbose else logging.WARNING)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    # `kill -USR1 <pid>` of a `rocket up` that does not stop writes where each thread is;
    # not where there is no SIGUSR1 (Windows) or stderr has no file descriptor (captured)
    with contextlib.suppress(AttributeError, OSError, ValueError):
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    root = project.repo_root()
    try:
        return COMMANDS[args.command](args, root)
    except _EXPECTED_ERRORS as exc:
        print(f"rocket {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
