"""The local runtime: plays the compute AWS would run for the deployed stacks `rocket-<stage>-*`."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from rocket_infra import naming
from rocket_infra.runtime import log
from rocket_infra.runtime.discovery import KinesisMapping, SqsMapping, Topology, discover
from rocket_infra.runtime.glue import GlueRunner
from rocket_infra.runtime.kinesis_poller import KinesisPoller
from rocket_infra.runtime.records import Activity, GlueRun, Invocation
from rocket_infra.runtime.schedules import ScheduleRunner
from rocket_infra.runtime.sqs_poller import SqsPoller
from rocket_infra.runtime.stepfunctions import StepFunctionsBridge
from rocket_infra.runtime.workers import InvokeResult, WorkerPool

# Posted to the emulator's /moto-api/config before anything is deployed: moto then interprets
# state machines itself (their Lambda tasks are answered by the runtime, see stepfunctions.py).
EMULATOR_CONFIG: dict[str, Any] = {"stepfunctions": {"execute_state_machine": True}}

_SERVICES = (
    "cloudformation",
    "lambda",
    "sqs",
    "sns",
    "kinesis",
    "events",
    "scheduler",
    "stepfunctions",
    "glue",
    "s3",
)
_IDLE_CHECK = 0.1

Poller = SqsPoller | KinesisPoller


class Runtime:
    """Discovers the deployed compute through AWS APIs and runs it in background threads:
    event source mappings (SQS, Kinesis) call the handlers in warm worker processes, schedules
    fire, state machine executions call the handlers for their Lambda tasks, Glue runs run."""

    def __init__(
        self, *, endpoint_url: str, stage: str, repo_root: Path, region: str = "us-east-1"
    ) -> None:
        self.endpoint_url = endpoint_url
        self.stage = stage
        self.repo_root = Path(repo_root)
        self.region = region
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
        )
        config = Config(retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=50)
        self._clients = {
            name: session.client(name, endpoint_url=endpoint_url, config=config)  # type: ignore[call-overload]
            for name in _SERVICES
        }
        self._workers = WorkerPool(
            endpoint_url=endpoint_url, region=region, repo_root=self.repo_root
        )
        self._activity = Activity(self._workers)
        self._pollers: dict[str, Poller] = {}
        self._taken_over: set[str] = set()
        self._schedules = ScheduleRunner(
            clients=self._clients, activity=self._activity, region=region, account=naming.ACCOUNT_ID
        )
        self._sfn = StepFunctionsBridge(
            clients=self._clients,
            activity=self._activity,
            queue_name=naming.resource_name(stage, "runtime-sfn-tasks"),
        )
        self._glue = GlueRunner(
            clients=self._clients,
            endpoint_url=endpoint_url,
            region=region,
            repo_root=self.repo_root,
            since=datetime.now(UTC) - timedelta(seconds=1),
        )
        self._lock = threading.RLock()
        self._started = False

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            log.install_stderr_handler()
            self._check_emulator_config()
            self._schedules.start()
            self._glue.start()
            self._started = True
            log.info("runtime started", endpoint_url=self.endpoint_url, stage=self.stage)
            self.refresh()

    def refresh(self) -> None:
        """Re-read the deployed stacks and run what changed (call after another deploy)."""
        with self._lock:
            topology = discover(
                self._clients, stage=self.stage, region=self.region, taken_over=self._taken_over
            )
            self._workers.sync(topology.functions)
            self._sync_pollers(topology)
            self._schedules.sync(topology.schedules)
            self._sfn.sync(topology.state_machines)
            self._glue.sync(topology.glue_jobs)
            log.info(
                "runtime refreshed",
                functions=len(topology.functions),
                sqs_mappings=len(topology.sqs),
                kinesis_mappings=len(topology.kinesis),
                schedules=len(topology.schedules),
                state_machines=len(topology.state_machines),
                glue_jobs=len(topology.glue_jobs),
            )

    def stop(self) -> None:
        with self._lock:
            pollers, self._pollers = list(self._pollers.values()), {}
            for poller in pollers:
                poller.stop()
            for poller in pollers:
                poller.join(5)
            if self._started:
                self._schedules.stop()
                self._sfn.stop()
                self._glue.stop()
            self._workers.stop()
            self._started = False
            log.info("runtime stopped", stage=self.stage)

    def trigger(self, schedule: str) -> None:
        """Fire one schedule now, by rule/schedule name or the template's logical id."""
        self._schedules.trigger(schedule)

    def invoke(self, function: str, event: Any) -> InvokeResult:
        """Call a deployed function once, synchronously, as `aws lambda invoke` does (by name
        or ARN); its answer or error in the result."""
        return self._activity.invoke(function, event, source="invoke")

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """True once every mapped queue/stream is drained, no handler is in flight and no Glue
        run or state machine execution is running (seen twice in a row, so work that one
        handler hands to another queue is not missed); False after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        streak = 0
        while time.monotonic() < deadline:
            streak = streak + 1 if self._idle() else 0
            if streak >= 2:
                return True
            time.sleep(_IDLE_CHECK)
        return False

    def glue_runs(self, job_name: str) -> list[GlueRun]:
        return self._glue.runs(job_name)

    def invocations(self) -> list[Invocation]:
        return self._activity.invocations()

    def _idle(self) -> bool:
        if self._activity.in_flight:
            return False
        with self._lock:
            pollers = list(self._pollers.values())
        if not all(poller.is_drained() for poller in pollers):
            return False
        return self._glue.is_idle() and self._sfn.is_idle() and not self._activity.in_flight

    def _sync_pollers(self, topology: Topology) -> None:
        wanted: dict[str, SqsMapping | KinesisMapping] = {m.uuid: m for m in topology.sqs}
        wanted.update({m.uuid: m for m in topology.kinesis})
        for uuid in list(self._pollers):
            if uuid not in wanted or self._pollers[uuid].mapping != wanted[uuid]:
                poller = self._pollers.pop(uuid)
                poller.stop()
                poller.join(5)
        timeouts = {spec.name: spec.timeout for spec in topology.functions}
        for mapping in topology.sqs:
            self._take_over(mapping.uuid)
            if mapping.uuid not in self._pollers:
                if mapping.visibility_timeout < timeouts.get(mapping.function_name, 0):
                    # AWS refuses such a mapping: a batch could reappear while it still runs.
                    log.warning(
                        "visibility timeout shorter than function timeout",
                        source=mapping.queue_arn,
                        function=mapping.function_name,
                    )
                self._start_poller(
                    mapping.uuid,
                    SqsPoller(
                        mapping,
                        sqs=self._clients["sqs"],
                        invoke=self._activity.invoke,
                        region=self.region,
                    ),
                )
        for kinesis in topology.kinesis:
            existing = self._pollers.get(kinesis.uuid)
            if isinstance(existing, KinesisPoller):
                existing.sync_shards()
                continue
            if existing is None:
                self._start_poller(
                    kinesis.uuid,
                    KinesisPoller(
                        kinesis,
                        clients=self._clients,
                        invoke=self._activity.invoke,
                        region=self.region,
                    ),
                )

    def _start_poller(self, uuid: str, poller: Poller) -> None:
        self._pollers[uuid] = poller
        poller.start()

    def _check_emulator_config(self) -> None:
        try:
            with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/config", timeout=5) as reply:
                config = json.loads(reply.read())
        except (OSError, ValueError) as exc:
            log.warning("emulator config unreadable", error=repr(exc))
            return
        for service, wanted in EMULATOR_CONFIG.items():
            if service not in config:
                continue  # moto 5.2.5 does not report every section it accepts
            actual = config[service]
            if any(actual.get(key) != value for key, value in wanted.items()):
                # State machine executions would stay RUNNING forever without it.
                log.error("emulator not configured for the runtime", service=service, wanted=wanted)

    def _take_over(self, uuid: str) -> None:
        # moto consumes an enabled SQS mapping itself on every send (and, without Docker, fails
        # the invoke and bumps the receive count), so the mapping is disabled in the emulator and
        # polled here instead.
        state = self._clients["lambda"].get_event_source_mapping(UUID=uuid).get("State")
        if state != "Disabled":
            self._clients["lambda"].update_event_source_mapping(UUID=uuid, Enabled=False)
        if uuid not in self._taken_over:
            self._taken_over.add(uuid)
            log.info("event source mapping taken over", uuid=uuid)
