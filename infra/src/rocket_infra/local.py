"""The whole platform on one machine: the emulator, every stack deployed into it, the runtime."""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pydantic import BaseModel
from rocket_contracts.envelope import CloudEvent

from rocket_infra import aws, deploy, events, faults, naming, project
from rocket_infra.emulator import Emulator
from rocket_infra.parameters import ParameterError
from rocket_infra.standins import Standins

if TYPE_CHECKING:
    from rocket_infra.runtime import Runtime

logger = logging.getLogger(__name__)


def emulator_config() -> dict[str, Any]:
    """What the runtime needs switched on in the emulator before anything is deployed."""
    try:
        runtime = importlib.import_module("rocket_infra.runtime")
    except ImportError:
        return {}
    return dict(getattr(runtime, "EMULATOR_CONFIG", {}) or {})


class LocalPlatform:
    """The emulator with the platform and service stacks deployed and the runtime running."""

    def __init__(
        self,
        *,
        endpoint_url: str,
        stage: str,
        repo_root: Path,
        region: str = aws.DEFAULT_REGION,
        out: TextIO | None = None,
        parameters: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.stage = stage
        self.region = region
        self.repo_root = repo_root
        self.deployed: dict[str, deploy.Deployed] = {}
        self.runtime: Runtime
        self._runtime: Runtime | None = None
        self._tap: events.BusTap | None = None
        self._out: TextIO = out or sys.stderr
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self.standins = Standins()
        self._standin_urls: dict[str, dict[str, str]] = {}
        self._parameters = {k: dict(v) for k, v in (parameters or {}).items()}

    @classmethod
    @contextlib.contextmanager
    def start(
        cls,
        *,
        port: int = 0,
        stage: str = "local",
        services: Sequence[str] | None = None,
        journal: Path | None = None,
        out: TextIO | None = None,
        repo_root: Path | None = None,
        parameters: Mapping[str, Mapping[str, str]] | None = None,
    ) -> Iterator[LocalPlatform]:
        """Emulator on 127.0.0.1 (a free port when 0), platform + services deployed, runtime
        started; everything stopped on exit. `journal` records the bus for `rocket events` (and the
        emulator's own log goes next to it). `parameters`: {service: {Name: value}} stack
        parameter overrides, which win over a stand-in's URL."""
        root = repo_root or project.repo_root()
        log = journal.with_name(f"{stage}-emulator.log") if journal else None
        with Emulator.running(port, config=emulator_config(), log=log) as emulator:
            platform = cls(
                endpoint_url=emulator.endpoint_url,
                stage=stage,
                repo_root=root,
                out=out,
                parameters=parameters,
            )
            try:
                started = time.monotonic()
                platform.deploy_all(services, journal)
                platform.start_runtime()
                logger.info(
                    "platform started",
                    extra={
                        "endpoint_url": platform.endpoint_url,
                        "stacks": sorted(platform.deployed),
                        "seconds": round(time.monotonic() - started, 2),
                    },
                )
                yield platform
            finally:
                platform.stop()

    def deploy_all(
        self, services: Sequence[str] | None = None, journal: Path | None = None
    ) -> None:
        """The platform stack, the bus tap, then each service (all of them when None)."""
        names = services if services is not None else project.service_names(self.repo_root)
        stray = sorted(set(self._parameters) - {project.PLATFORM, *names})
        if stray:
            raise ParameterError(f"--parameter for {', '.join(stray)}, which is not deployed")
        self.deploy(project.PLATFORM)
        queue_url = events.ensure_tap(
            self.client("sqs"), self.client("sns"), self.stage, self.topic_arn
        )
        self._tap = events.BusTap(self.client("sqs"), queue_url, journal)
        self._tap.start()
        for name in names:
            if name != project.PLATFORM:
                self.deploy(name)

    def deploy(self, service: str, overrides: Mapping[str, str] | None = None) -> deploy.Deployed:
        """Deploy (or update) one stack into the emulator, with the same code as for AWS; its
        stand-ins are started first (once) and their URLs passed as stack parameters."""
        found = project.service(self.repo_root, service)
        if service not in self._standin_urls:
            self._standin_urls[service] = self.standins.start_for(found)
        values = {
            **self._standin_urls[service],
            **self._parameters.get(service, {}),
            **(overrides or {}),
        }
        deployed = deploy.deploy(
            found,
            stage=self.stage,
            endpoint_url=self.endpoint_url,
            region=self.region,
            repo_root=self.repo_root,
            out=self._out,
            overrides=values,
        )
        self.deployed[service] = deployed
        if self._runtime is not None:
            self._runtime.refresh()
        return deployed

    def start_runtime(self) -> None:
        from rocket_infra.runtime import Runtime

        self._runtime = Runtime(
            endpoint_url=self.endpoint_url,
            stage=self.stage,
            repo_root=self.repo_root,
            region=self.region,
        )
        self.runtime = self._runtime
        self._runtime.start()

    def stop(self) -> None:
        if self._runtime is not None:
            self._runtime.stop()
        if self._tap is not None:
            self._tap.stop()
        self.standins.stop()  # after the consumers, whose handlers may still be calling them

    def set_fault(self, **fault: Any) -> None:
        """Make the emulator fail an operation (see `rocket_infra.faults.set_fault`)."""
        faults.set_fault(self.endpoint_url, **fault)

    def clear_faults(self) -> None:
        faults.clear_faults(self.endpoint_url)

    def list_faults(self) -> list[dict[str, Any]]:
        return faults.list_faults(self.endpoint_url)

    @property
    def topic_arn(self) -> str:
        return self.export(naming.export_name(self.stage, naming.EVENT_TOPIC_ARN))

    def client(self, service_name: str) -> Any:
        """A boto3 client bound to the emulator (one per service, shared: clients are
        thread-safe)."""
        with self._clients_lock:
            if service_name not in self._clients:
                self._clients[service_name] = aws.client(
                    service_name, endpoint_url=self.endpoint_url, region=self.region
                )
            return self._clients[service_name]

    def export(self, name: str) -> str:
        return deploy.exports(self.client("cloudformation"))[name]

    def outputs(self, service: str) -> dict[str, str]:
        """Outputs of rocket-<stage>-<service> ("platform" for the shared stack)."""
        return deploy.stack_outputs(
            self.client("cloudformation"),
            project.stack_name(self.stage, service),
            self.client("ssm"),
        )

    @contextlib.contextmanager
    def quick_redrive(
        self, queue_url: str, *, visibility_timeout: int = 2, max_receive_count: int = 2
    ) -> Iterator[str]:
        """The queue with a short visibility timeout and fewer deliveries before its DLQ, for
        as long as the block runs; its own attributes are put back after, and the pollers
        re-read both times."""
        sqs = self.client("sqs")
        saved = sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["VisibilityTimeout", "RedrivePolicy"]
        )["Attributes"]
        policy = json.loads(saved["RedrivePolicy"])
        sqs.set_queue_attributes(
            QueueUrl=queue_url,
            Attributes={
                "VisibilityTimeout": str(visibility_timeout),
                "RedrivePolicy": json.dumps({**policy, "maxReceiveCount": max_receive_count}),
            },
        )
        if self._runtime is not None:
            self._runtime.refresh()
        try:
            yield queue_url
        finally:
            sqs.set_queue_attributes(QueueUrl=queue_url, Attributes=saved)
            if self._runtime is not None:
                self._runtime.refresh()

    def physical_id(self, service: str, logical_id: str) -> str:
        if service in self.deployed and logical_id in self.deployed[service].physical_ids:
            return self.deployed[service].physical_ids[logical_id]
        stack = project.stack_name(self.stage, service)
        return deploy.physical_ids(self.client("cloudformation"), stack)[logical_id]

    def publish(
        self, event_model: BaseModel, *, correlation_id: str, source: str = "rocket/demo"
    ) -> CloudEvent:
        """Publish a contract event to the shared topic, exactly as a producer does."""
        from rocket_contracts import bus

        return bus.publish(
            self.topic_arn,
            event_model,
            correlation_id=correlation_id,
            sns_client=self.client("sns"),
            source=source,
        )

    def wait_idle(self, timeout: float = 60.0) -> bool:
        if self._runtime is None:
            return True
        idle: bool = self._runtime.wait_idle(timeout)
        return idle

    def bus_events(self) -> list[CloudEvent]:
        """Every event that crossed the shared topic so far, in arrival order."""
        return self._tap.events() if self._tap else []

    def bus_messages(self) -> list[events.BusMessage]:
        """Every message that crossed the shared topic so far, flagged ones included."""
        return self._tap.messages() if self._tap else []

    def bus_rejects(self) -> list[str]:
        """Bodies published to the shared topic that are not CloudEvents (after bus_events())."""
        return list(self._tap.not_cloudevents) if self._tap else []
