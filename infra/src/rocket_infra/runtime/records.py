"""What the runtime did: invocations and Glue runs, as the Runtime's API returns them."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from rocket_infra.runtime import log
from rocket_infra.runtime.events import failed_item_ids
from rocket_infra.runtime.workers import InvokeResult, WorkerPool, function_name

MAX_INVOCATIONS = 100_000


@dataclass(frozen=True)
class Invocation:
    """One call of a function's handler."""

    function: str
    source: str  # the event source ARN, "schedule:<name>", "stepfunctions:<arn>" or "invoke"
    batch_size: int
    failed_item_ids: list[str]
    duration: float  # seconds
    error: str | None  # "<errorType>: <errorMessage>" for a function error
    request_id: str = ""
    item_ids: list[str] = field(default_factory=list)  # message ids / sequence numbers
    correlation_ids: list[str] = field(default_factory=list)


@dataclass
class GlueRun:
    """One Glue job run as it actually happened here (moto only ever reports SUCCEEDED)."""

    run_id: str
    job_name: str
    arguments: dict[str, str]
    state: str  # RUNNING | SUCCEEDED | FAILED
    log: str = ""
    error: str | None = None
    started_on: float = 0.0
    completed_on: float | None = None


class Invoker(Protocol):
    def __call__(
        self,
        function: str,
        event: Any,
        *,
        source: str,
        item_ids: list[str] | None = None,
        correlation_ids: list[str] | None = None,
        partial: bool = True,
    ) -> InvokeResult: ...


class Activity:
    """In-flight work and the history of invocations, shared by every poller."""

    def __init__(self, workers: WorkerPool) -> None:
        self._workers = workers
        self._lock = threading.Lock()
        self._in_flight = 0
        # Bounded, so a long `rocket up` does not grow without end.
        self._invocations: deque[Invocation] = deque(maxlen=MAX_INVOCATIONS)

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def begin(self) -> None:
        with self._lock:
            self._in_flight += 1

    def end(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def invocations(self) -> list[Invocation]:
        with self._lock:
            return list(self._invocations)

    def invoke(
        self,
        function: str,
        event: Any,
        *,
        source: str,
        item_ids: list[str] | None = None,
        correlation_ids: list[str] | None = None,
        partial: bool = True,
    ) -> InvokeResult:
        """Call the function's handler in its worker, record and log what happened."""
        function = function_name(function)
        worker = self._workers.get(function)
        items = item_ids or []
        cids = correlation_ids or []
        self.begin()
        try:
            if worker is None:
                error = {"errorType": "ResourceNotFoundException", "errorMessage": function}
                result = InvokeResult(None, error, 0.0, "")
            else:
                log.info(
                    "function invoked",
                    function=function,
                    source=source,
                    batch_size=len(items),
                    correlation_ids=cids,
                )
                result = worker.invoke(event)
            failed = _failed_ids(result, items, partial)
            error_text = None
            if result.error is not None:
                error_text = f"{result.error.get('errorType')}: {result.error.get('errorMessage')}"
            record = Invocation(
                function=function,
                source=source,
                batch_size=len(items),
                failed_item_ids=failed,
                duration=result.duration,
                error=error_text,
                request_id=result.request_id,
                item_ids=list(items),
                correlation_ids=cids,
            )
            with self._lock:
                self._invocations.append(record)
            log_fields: dict[str, Any] = {
                "function": function,
                "source": source,
                "request_id": result.request_id,
                "duration_ms": round(result.duration * 1000, 1),
                "failed_item_ids": failed,
                "correlation_ids": cids,
            }
            if error_text:
                log.warning("function failed", error=error_text, **log_fields)
            else:
                log.info("function returned", **log_fields)
            return result
        finally:
            self.end()


def _failed_ids(result: InvokeResult, items: list[str], partial: bool) -> list[str]:
    if result.error is not None:
        return list(items)
    if not partial:
        return []
    ids = failed_item_ids(result.payload, items)
    return list(items) if ids is None else ids
