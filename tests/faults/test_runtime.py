"""Faults and a short soak of the local runtime itself, on the session's LocalPlatform.

A test-only stack (one queue + DLQ, one function, one event source mapping) is deployed into
the running platform with the same deploy code as every service, and its handler records each
attempt and writes one marker per message id with an exclusive create (the conditional write
that makes an effect idempotent). Then:

- a worker process is killed (SIGKILL) in the middle of a batch: the batch fails as a crashed
  Lambda, its messages come back after the visibility timeout and every one is done, once;
- a short soak: messages at a steady rate for a while; every one is done once, none reaches the
  DLQ, and the latency (against the same sends to a bare queue read directly, the floor),
  throughput and memory of the emulator and the workers are printed.

Nothing here asserts on time: the figures go to BENCHMARKS.md (section "Local runtime") by hand.
Run: `make faults` (or `.venv/bin/pytest -m faults -s -p no:xdist tests/faults`).
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rocket_infra import deploy
from rocket_infra.local import LocalPlatform
from rocket_infra.project import Service

NAME = "faultprobe"
VISIBILITY_TIMEOUT = 10
SOAK_SECONDS = float(os.environ.get("ROCKET_SOAK_SECONDS", "60"))
SOAK_RATE = float(os.environ.get("ROCKET_SOAK_RATE", "20"))  # messages per second

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Description: Test-only stack of the runtime's fault suite.
Parameters:
  Stage: {Type: String}
  OutDir: {Type: String, Default: /tmp}
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
  Dlq:
    Type: AWS::SQS::Queue
    Properties: {QueueName: !Sub "rocket-${Stage}-faultprobe-dlq"}
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub rocket-${Stage}-faultprobe
      VisibilityTimeout: %(visibility)d
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 5}
  Function:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: !Sub rocket-${Stage}-faultprobe
      Runtime: python3.12
      Handler: fault_handlers.record
      Role: !GetAtt Role.Arn
      Timeout: %(timeout)d
      Code: {ZipFile: "def record(event, context):\\n    return None\\n"}
      Environment: {Variables: {OUT_DIR: "%(out_dir)s"}}
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Queue.Arn
      FunctionName: !Ref Function
      BatchSize: 10
      MaximumBatchingWindowInSeconds: 1
      FunctionResponseTypes: [ReportBatchItemFailures]
"""

# The worker imports this from PYTHONPATH, as Lambda imports the handler from the package.
HANDLER = """
import json
import os
import time


def record(event, context):
    out = os.environ["OUT_DIR"]
    for item in event["Records"]:
        body = json.loads(item["body"])
        attempt = {
            "id": body["id"],
            "pid": os.getpid(),
            "receive_count": int(item["attributes"]["ApproximateReceiveCount"]),
        }
        with open(os.path.join(out, "attempts.jsonl"), "a") as attempts:
            attempts.write(json.dumps(attempt) + "\\n")
        time.sleep(float(body.get("work", 0)))
        try:  # the effect: first delivery wins, a redelivery finds it done
            with open(os.path.join(out, "done", body["id"]), "x") as done:
                done.write(json.dumps({"sent": body["sent"], "done": time.time()}))
        except FileExistsError:
            pass
    return {"batchItemFailures": []}
"""


@dataclass
class Probe:
    platform: LocalPlatform
    out_dir: Path
    queue_url: str
    dlq_url: str

    def send(self, bodies: list[dict[str, Any]], queue_url: str | None = None) -> None:
        sqs = self.platform.client("sqs")
        for start in range(0, len(bodies), 10):
            chunk = bodies[start : start + 10]
            sqs.send_message_batch(
                QueueUrl=queue_url or self.queue_url,
                Entries=[{"Id": str(n), "MessageBody": json.dumps(b)} for n, b in enumerate(chunk)],
            )

    def attempts(self) -> list[dict[str, Any]]:
        path = self.out_dir / "attempts.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def done(self, ids: set[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for path in (self.out_dir / "done").iterdir():
            if path.name in ids:
                found[path.name] = json.loads(path.read_text())
        return found

    def dlq_depth(self) -> int:
        attributes = self.platform.client("sqs").get_queue_attributes(
            QueueUrl=self.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])


@pytest.fixture(scope="module")
def probe(platform: LocalPlatform, tmp_path_factory: pytest.TempPathFactory) -> Probe:
    root = tmp_path_factory.mktemp(NAME)
    out_dir, lambdas = root / "out", root / "lambdas"
    (out_dir / "done").mkdir(parents=True)
    lambdas.mkdir()
    (lambdas / "fault_handlers.py").write_text(HANDLER)
    template = root / "template.yaml"
    template.write_text(
        TEMPLATE
        % {"visibility": VISIBILITY_TIMEOUT, "timeout": VISIBILITY_TIMEOUT, "out_dir": out_dir}
    )
    with pytest.MonkeyPatch.context() as patch:
        # Workers take PYTHONPATH from this process when they are created (at refresh).
        patch.setenv("PYTHONPATH", str(lambdas))
        deploy.deploy(
            Service(NAME, root, template),
            stage=platform.stage,
            endpoint_url=platform.endpoint_url,
            region=platform.region,
            repo_root=platform.repo_root,
        )
        platform.runtime.refresh()
    sqs = platform.client("sqs")
    return Probe(
        platform,
        out_dir,
        sqs.get_queue_url(QueueName=f"rocket-{platform.stage}-{NAME}")["QueueUrl"],
        sqs.get_queue_url(QueueName=f"rocket-{platform.stage}-{NAME}-dlq")["QueueUrl"],
    )


def _bodies(count: int, work: float) -> list[dict[str, Any]]:
    token = uuid.uuid4().hex[:8]
    return [{"id": f"{token}-{n}", "work": work, "sent": time.time()} for n in range(count)]


def _wait_for_attempts(probe: Probe, count: int) -> list[dict[str, Any]]:
    hang_guard = time.monotonic() + 300
    while len(attempts := probe.attempts()) < count:
        assert time.monotonic() < hang_guard, "the function never ran"
        time.sleep(0.05)
    return attempts


def test_a_worker_killed_mid_batch_loses_nothing(probe: Probe) -> None:
    bodies = _bodies(30, work=0.2)
    ids = {b["id"] for b in bodies}
    before = len(probe.attempts())
    probe.send(bodies)

    # three records of a batch are in; the rest of that batch is still to come
    victim = _wait_for_attempts(probe, before + 3)[before + 2]
    os.kill(victim["pid"], signal.SIGKILL)
    killed_at = time.monotonic()

    assert probe.platform.wait_idle(timeout=10 * VISIBILITY_TIMEOUT)
    recovered = time.monotonic() - killed_at
    attempts = [a for a in probe.attempts() if a["id"] in ids]
    done = probe.done(ids)
    crashed = [
        i
        for i in probe.platform.runtime.invocations()
        if NAME in i.function and (i.error or "").startswith("Runtime.ExitError")
    ]
    redelivered = {a["id"] for a in attempts if a["receive_count"] > 1}

    assert set(done) == ids  # nothing lost
    assert probe.dlq_depth() == 0
    assert crashed  # the runtime saw the batch fail as a crashed Lambda would
    assert victim["id"] in redelivered  # the killed batch came back, in full
    print(
        f"\nkill mid-batch: 30 messages, batch of 10, worker SIGKILLed after 3 records; "
        f"{len(redelivered)} redelivered, {len(attempts)} attempts, {len(done)} done once, "
        f"DLQ 0; all done {recovered:.1f} s after the kill (visibility timeout "
        f"{VISIBILITY_TIMEOUT} s)"
    )


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _children(pid: int) -> Iterator[tuple[int, str]]:
    """This process's descendants (the emulator, the workers, Glue runs) with their commands."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid:
            yield int(entry.name), command
            yield from _children(int(entry.name))


def _memory() -> dict[str, int]:
    """RSS in MiB: this process (the runtime and its threads), the emulator, the workers."""
    totals = {"runtime": _rss_kib(os.getpid()) // 1024, "emulator": 0, "workers": 0}
    for pid, command in _children(os.getpid()):
        with_rss = _rss_kib(pid) // 1024
        if "moto" in command:
            totals["emulator"] += with_rss
        elif "rocket_infra.runtime.worker" in command:
            totals["workers"] += with_rss
    return totals


def _send_steadily(probe: Probe, queue_url: str, total: int) -> set[str]:
    """One SendMessageBatch of 10 every 10 / rate seconds, on schedule (not after the last)."""
    ids: set[str] = set()
    started = time.monotonic()
    for tick in range(total // 10):
        bodies = _bodies(10, work=0.0)
        ids |= {b["id"] for b in bodies}
        probe.send(bodies, queue_url)
        time.sleep(max(0.0, started + (tick + 1) * 10 / SOAK_RATE - time.monotonic()))
    return ids


def _bare_queue_latencies(probe: Probe, total: int) -> list[float]:
    """The floor: the same sends to a queue with no mapping, read by one long-polling loop
    that deletes at once (what SQS + the emulator cost without the runtime and a handler)."""
    sqs = probe.platform.client("sqs")
    url = sqs.create_queue(QueueName=f"rocket-{probe.platform.stage}-{NAME}-baseline")["QueueUrl"]
    latencies: list[float] = []
    sender = threading.Thread(target=_send_steadily, args=(probe, url, total))
    sender.start()
    while len(latencies) < total:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        now = time.time()
        latencies += [now - json.loads(m["Body"])["sent"] for m in messages]
        if messages:
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                    for n, m in enumerate(messages)
                ],
            )
    sender.join()
    return sorted(latencies)


def test_a_short_soak_delivers_every_message_once(probe: Probe) -> None:
    total = int(SOAK_SECONDS * SOAK_RATE)
    baseline = statistics.quantiles(_bare_queue_latencies(probe, min(total, 1000)), n=100)
    memory_before = _memory()
    started = time.monotonic()
    ids = _send_steadily(probe, probe.queue_url, total)
    assert probe.platform.wait_idle(timeout=600)
    elapsed = time.monotonic() - started
    memory_after = _memory()

    done = probe.done(ids)
    attempts = [a for a in probe.attempts() if a["id"] in ids]
    latencies = sorted(d["done"] - d["sent"] for d in done.values())
    assert set(done) == ids
    assert probe.dlq_depth() == 0
    quantiles = statistics.quantiles(latencies, n=100)
    print(
        f"\nsoak: {len(ids)} messages at {SOAK_RATE:.0f}/s for {SOAK_SECONDS:.0f} s, "
        f"{len(attempts)} attempts ({len(attempts) - len(ids)} duplicates), DLQ 0; "
        f"all done in {elapsed:.1f} s ({len(ids) / elapsed:.1f} msg/s); "
        f"send->done latency p50 {quantiles[49]:.2f} s, p95 {quantiles[94]:.2f} s, "
        f"max {latencies[-1]:.2f} s (bare queue, same rate: p50 {baseline[49]:.2f} s, "
        f"p95 {baseline[94]:.2f} s; ratio p50 {quantiles[49] / baseline[49]:.1f}x, "
        f"p95 {quantiles[94] / baseline[94]:.1f}x); "
        f"RSS MiB before {memory_before} after {memory_after}"
    )
