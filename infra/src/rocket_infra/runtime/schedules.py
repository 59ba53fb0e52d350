"""Fires EventBridge schedule rules and Scheduler schedules on time (moto never does)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rocket_infra.runtime import log
from rocket_infra.runtime.discovery import Schedule, ScheduleTarget
from rocket_infra.runtime.events import scheduled_event
from rocket_infra.runtime.records import Activity
from rocket_infra.runtime.schedule_expressions import At, Cron, Rate, parse

_TICK = 0.2
ASYNC_RETRY_DELAYS = (1.0, 2.0)


class UnknownScheduleError(KeyError):
    """`trigger()` was given a name that is neither a deployed schedule nor its logical id."""


@dataclass
class _Armed:
    schedule: Schedule
    expression: Rate | Cron | At
    next_fire: datetime | None


class ScheduleRunner:
    def __init__(
        self,
        *,
        clients: Any,
        activity: Activity,
        region: str,
        account: str,
        clock: Callable[[str], datetime] | None = None,
    ) -> None:
        self._clock = clock or _now
        self._clients = clients
        self._activity = activity
        self._region = region
        self._account = account
        self._armed: dict[str, _Armed] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="schedules", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def sync(self, schedules: list[Schedule]) -> None:
        """Arm new or changed schedules; an unchanged one keeps its next fire time."""
        with self._lock:
            armed: dict[str, _Armed] = {}
            for schedule in schedules:
                current = self._armed.get(schedule.name)
                if current is not None and current.schedule == schedule:
                    armed[schedule.name] = current
                    continue
                try:
                    expression = parse(schedule.expression)
                except ValueError as exc:
                    log.error("schedule rejected", schedule=schedule.name, error=str(exc))
                    continue
                now = self._clock(schedule.timezone)
                armed[schedule.name] = _Armed(schedule, expression, expression.next_after(now))
                log.info(
                    "schedule armed",
                    schedule=schedule.name,
                    expression=schedule.expression,
                    enabled=schedule.enabled,
                )
            self._armed = armed

    def trigger(self, name: str) -> None:
        with self._lock:
            match = [
                a.schedule
                for a in self._armed.values()
                if name in (a.schedule.name, a.schedule.logical_id)
            ]
        if not match:
            raise UnknownScheduleError(name)
        for schedule in match:
            self._fire(schedule, reason="trigger")

    def _run(self) -> None:
        while not self._stop.wait(_TICK):
            self.tick()

    def tick(self) -> int:
        """Fire every schedule that is due now; how many fired."""
        due = self._due()
        for schedule in due:
            self._fire(schedule, reason="time")
        return len(due)

    def _due(self) -> list[Schedule]:
        due = []
        with self._lock:
            for armed in self._armed.values():
                now = self._clock(armed.schedule.timezone)
                if armed.next_fire is None or now < armed.next_fire:
                    continue
                armed.next_fire = armed.expression.next_after(max(now, armed.next_fire))
                if armed.schedule.enabled:
                    due.append(armed.schedule)
        return due

    def _fire(self, schedule: Schedule, *, reason: str) -> None:
        log.info(
            "schedule fired", schedule=schedule.name, reason=reason, targets=len(schedule.targets)
        )
        for target in schedule.targets:
            self._activity.begin()
            thread = threading.Thread(
                target=self._deliver,
                args=(schedule, target),
                name=f"schedule-{schedule.name}",
                daemon=True,
            )
            thread.start()

    def _deliver(self, schedule: Schedule, target: ScheduleTarget) -> None:
        try:
            self._deliver_to(schedule, target)
        except Exception as exc:  # one failed delivery must not stop the schedule
            log.error(
                "schedule delivery failed",
                schedule=schedule.name,
                target=target.arn,
                error=repr(exc),
            )
        finally:
            self._activity.end()

    def _deliver_to(self, schedule: Schedule, target: ScheduleTarget) -> None:
        if target.input is not None:
            body = target.input
        elif schedule.kind == "rule":
            body = json.dumps(
                scheduled_event(
                    rule_arn=schedule.arn,
                    region=self._region,
                    account=self._account,
                    now=datetime.now(UTC),
                )
            )
        else:
            body = "{}"
        service = target.arn.split(":")[2]
        if service == "lambda":
            self._invoke_async(schedule, target, json.loads(body))
        elif service == "sqs":
            sqs = self._clients["sqs"]
            url = sqs.get_queue_url(QueueName=target.arn.split(":")[5])["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=body)
        elif service == "states":
            self._clients["stepfunctions"].start_execution(
                stateMachineArn=target.arn,
                name=f"{schedule.name[:40]}-{uuid.uuid4().hex[:20]}",
                input=body,
            )
        elif service == "sns":
            self._clients["sns"].publish(TopicArn=target.arn, Message=body)
        else:
            log.error("schedule target unsupported", schedule=schedule.name, target=target.arn)
            return
        log.info("schedule delivered", schedule=schedule.name, target=target.arn)

    def _invoke_async(self, schedule: Schedule, target: ScheduleTarget, event: Any) -> None:
        """An asynchronous invocation: Lambda retries a function error twice (after about 1 and
        2 minutes on AWS; after ASYNC_RETRY_DELAYS here, so local runs stay short)."""
        for attempt, delay in enumerate((0.0, *ASYNC_RETRY_DELAYS)):
            if delay and self._stop.wait(delay):
                return
            result = self._activity.invoke(target.arn, event, source=f"schedule:{schedule.name}")
            if result.error is None:
                return
            log.warning("async invocation failed", schedule=schedule.name, attempt=attempt + 1)


def _now(timezone: str) -> datetime:
    return datetime.now(ZoneInfo(timezone))
