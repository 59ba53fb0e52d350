"""The whole platform on one machine: the emulator, every stack deployed into it, the runtime."""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pydantic import BaseModel
from rocket_contracts.envelope import CloudEvent

from rocket_infra import aws, deploy, project
from rocket_infra.emulator import Emulator

if TYPE_CHECKING:
    from rocket_infra.runtime import Runtime

logger = logging.getLogger(__name__)


def tap_queue_name(stage: str) -> str:
    """The queue subscribed to the shared topic with no filter: everything that crossed the bus."""
    return f"rocket-{stage}-bus-tap"


def emulator_config() -> dict[str, Any]:
    """What the runtime needs switched on in the emulator before anything is deployed."""
    try:
        runtime = importlib.import_module("rocket_infra.runtime")
    except ImportError:
        return {}
    return dict(getattr(runtime, "EMULATOR_CONFIG", {}) or {})


class BusTap:
    """Subscribes a queue to the shared topic with no filter and keeps every event read from it."""

    def __init__(self, sqs: Any, sns: Any, stage: str, topic_arn: str) -> None:
        self._sqs = sqs
        self._events: list[CloudEvent] = []
        self._lock = threading.Lock()
        self.queue_url: str = sqs.create_queue(QueueName=tap_queue_name(stage))["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "true"},
        )

    def drain(self, wait_seconds: int = 0) -> list[CloudEvent]:
        """Read everything waiting on the tap queue; returns what was new."""
        with self._lock:
            new: list[CloudEvent] = []
            while True:
                messages = self._sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
                ).get("Messages", [])
                if not messages:
                    break
                wait_seconds = 0
                for message in messages:
                    event = parse_tapped(message["Body"])
                    if event is not None:
                        new.append(event)
                self._sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(messages)
                    ],
                )
            self._events.extend(new)
            return new

    def events(self) -> list[CloudEvent]:
        self.drain()
        with self._lock:
            return list(self._events)


def parse_tapped(body: str) -> CloudEvent | None:
    """A tapped body as a CloudEvent envelope; None (logged) for anything that is not one."""
    try:
        return CloudEvent.model_validate(json.loads(body))
    except ValueError:
        logger.warning("non-cloudevent message on the bus", extra={"body": body[:200]})
        return None


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
    ) -> None:
        self.endpoint_url = endpoint_url
        self.stage = stage
        self.region = region
        self.repo_root = repo_root
        self.deployed: dict[str, deploy.Deployed] = {}
        self.runtime: Runtime
        self._tap: BusTap | None = None
        self._out: TextIO = out or sys.stderr

    @classmethod
    @contextlib.contextmanager
    def start(
        cls, *, port: int = 0, stage: str = "local", services: Sequence[str] | None = None
    ) -> Iterator[LocalPlatform]:
        """Emulator on 127.0.0.1 (a free port when 0), platform + services deployed, runtime
        started; everything stopped on exit."""
        root = project.repo_root()
        with Emulator.running(port, config=emulator_config()) as emulator:
            platform = cls(endpoint_url=emulator.endpoint_url, stage=stage, repo_root=root)
            platform.deploy_all(services)
            platform.start_runtime()
            try:
                yield platform
            finally:
                platform.stop_runtime()

    def deploy_all(self, services: Sequence[str] | None = None) -> None:
        names = (
            list(services)
            if services is not None
            else [s.name for s in project.services(self.repo_root)]
        )
        self.deploy(project.PLATFORM)
        self._tap = BusTap(
            self.client("sqs"),
            self.client("sns"),
            self.stage,
            self.export(f"rocket-{self.stage}-EventTopicArn"),
        )
        for name in names:
            if name != project.PLATFORM:
                self.deploy(name)

    def deploy(self, service: str) -> None:
        """Deploy (or update) one stack into the emulator, with the same code as for AWS."""
        self.deployed[service] = deploy.deploy(
            project.service(self.repo_root, service),
            stage=self.stage,
            endpoint_url=self.endpoint_url,
            region=self.region,
            repo_root=self.repo_root,
            out=self._out,
        )
        runtime: Runtime | None = getattr(self, "runtime", None)
        if runtime is not None:
            runtime.refresh()

    def start_runtime(self) -> None:
        from rocket_infra.runtime import Runtime

        self.runtime = Runtime(
            endpoint_url=self.endpoint_url,
            stage=self.stage,
            repo_root=self.repo_root,
            region=self.region,
        )
        self.runtime.start()

    def stop_runtime(self) -> None:
        runtime: Runtime | None = getattr(self, "runtime", None)
        if runtime is not None:
            runtime.stop()

    def client(self, service_name: str) -> Any:
        return aws.client(service_name, endpoint_url=self.endpoint_url, region=self.region)

    def export(self, name: str) -> str:
        return deploy.exports(self.client("cloudformation"))[name]

    def outputs(self, service: str) -> dict[str, str]:
        """Outputs of rocket-<stage>-<service> ("platform" for the shared stack)."""
        return deploy.stack_outputs(
            self.client("cloudformation"),
            project.stack_name(self.stage, service),
            self.client("ssm"),
        )

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
            self.export(f"rocket-{self.stage}-EventTopicArn"),
            event_model,
            correlation_id=correlation_id,
            sns_client=self.client("sns"),
            source=source,
        )

    def wait_idle(self, timeout: float = 60.0) -> bool:
        return self.runtime.wait_idle(timeout)

    def bus_events(self) -> list[CloudEvent]:
        """Every event that crossed the shared topic so far, in arrival order."""
        return self._tap.events() if self._tap else []
