"""Warm worker processes, one per Lambda function, and the invocation they return.

Why processes and not threads: every service reads its settings from `os.environ` and
Powertools keeps module-level state (logger service name, metrics namespace, idempotency
config). Two functions of two services in one interpreter would share and overwrite both.
A process per function, started with the deployed environment before the handler module is
imported, behaves like a warm Lambda container: module state survives between invocations,
a crash or a timeout only loses that container, and the next invocation starts a fresh one.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rocket_infra.runtime import log

# Warm workers per function at most: Lambda would scale further, a 2-core laptop does not.
CONCURRENCY = 2

# Variables of the runtime's own process a Lambda container would also have.
_INHERITED = ("PATH", "HOME", "LANG", "TZ", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV", "SYSTEMROOT")


@dataclass(frozen=True)
class FunctionSpec:
    """What a deployed function needs to run here (read from get_function_configuration)."""

    name: str
    arn: str
    handler: str
    environment: Mapping[str, str]
    timeout: int = 3
    memory_size: int = 128


@dataclass(frozen=True)
class InvokeResult:
    payload: Any
    error: dict[str, Any] | None
    duration: float
    request_id: str


def worker_environment(
    spec: FunctionSpec, *, endpoint_url: str, region: str, task_root: Path
) -> dict[str, str]:
    """The environment of the function's container: Lambda's reserved variables, the deployed
    ones, then the emulator endpoint and dummy credentials (which the deployed ones never
    override, so a handler can never reach a real account)."""
    env = {key: os.environ[key] for key in _INHERITED if key in os.environ}
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{uuid.uuid4().hex}",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
            "LAMBDA_TASK_ROOT": str(task_root),
            "_HANDLER": spec.handler,
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
            # No X-Ray daemon runs here, so traces go nowhere; with tracing on, the X-Ray SDK
            # logs "Subsegment ... discarded" for every AWS call made while the handler module
            # is imported (no trace header yet). A function whose deployed environment sets
            # this variable keeps its own value.
            "POWERTOOLS_TRACE_DISABLED": "true",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(spec.environment)
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
        }
    )
    return env


class FunctionWorker:
    """One warm process for one function; invocations are serialised (concurrency 1)."""

    def __init__(self, spec: FunctionSpec, env: Mapping[str, str], cwd: Path) -> None:
        self.spec = spec
        self._env = dict(env)
        self._cwd = cwd
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._responses: queue.Queue[bytes | None] = queue.Queue()
        self._closed = False

    def invoke(self, event: Any) -> InvokeResult:
        request_id = str(uuid.uuid4())
        with self._lock:
            started = time.monotonic()
            payload, error = self._invoke_locked(event, request_id)
            return InvokeResult(payload, error, time.monotonic() - started, request_id)

    def stop(self) -> None:
        """Kill the process, even mid-invocation (that call then fails as a crash)."""
        self._closed = True
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
        if self._lock.acquire(timeout=5):
            try:
                self._kill()
            finally:
                self._lock.release()

    def _invoke_locked(self, event: Any, request_id: str) -> tuple[Any, dict[str, Any] | None]:
        if self._closed:
            return None, {"errorType": "Runtime.Stopped", "errorMessage": "the runtime stopped"}
        process = self._ensure_started()
        request = {
            "request_id": request_id,
            "function_arn": self.spec.arn,
            "deadline_ms": int((time.time() + self.spec.timeout) * 1000),
            "event": event,
        }
        assert process.stdin is not None
        try:
            process.stdin.write(json.dumps(request).encode() + b"\n")
            process.stdin.flush()
        except (BrokenPipeError, OSError):
            return None, self._crashed(request_id)
        try:
            line = self._responses.get(timeout=self.spec.timeout)
        except queue.Empty:
            log.warning("function timed out", function=self.spec.name, request_id=request_id)
            self._kill()
            message = f"Task timed out after {self.spec.timeout:.2f} seconds"
            return None, {"errorType": "Sandbox.Timedout", "errorMessage": message}
        if line is None:
            return None, self._crashed(request_id)
        response = json.loads(line)
        if response.get("error"):
            return None, dict(response["error"])
        return json.loads(response["payload"]), None

    def _crashed(self, request_id: str) -> dict[str, Any]:
        code = None
        if self._process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self._process.wait(timeout=2)
        log.error("worker exited", function=self.spec.name, request_id=request_id, exit_code=code)
        self._kill()
        message = f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}"
        return {"errorType": "Runtime.ExitError", "errorMessage": message}

    def _ensure_started(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self._kill()
        self._responses = queue.Queue()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "rocket_infra.runtime.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=self._env,
            cwd=self._cwd,
            # out of the terminal's foreground group: Ctrl-C on `rocket up` must not kill a
            # worker (with a KeyboardInterrupt traceback) while the runtime is stopping it
            start_new_session=True,
        )
        assert self._process.stdout is not None
        reader = threading.Thread(
            target=_read_lines,
            args=(self._process.stdout, self._responses),
            name=f"worker-{self.spec.name}",
            daemon=True,
        )
        reader.start()
        log.info("worker started", function=self.spec.name, pid=self._process.pid)
        return self._process

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def _read_lines(stream: IO[bytes], responses: queue.Queue[bytes | None]) -> None:
    for line in stream:
        responses.put(line)
    responses.put(None)


class FunctionPool:
    """Up to `concurrency` warm workers of one function, as Lambda scales out containers for
    concurrent invocations. The most recently used idle worker serves the next call."""

    def __init__(
        self, spec: FunctionSpec, env: Mapping[str, str], cwd: Path, concurrency: int
    ) -> None:
        self.spec = spec
        self._env = env
        self._cwd = cwd
        self._concurrency = concurrency
        self._idle: queue.LifoQueue[FunctionWorker] = queue.LifoQueue()
        self._all: list[FunctionWorker] = []
        self._lock = threading.Lock()

    def invoke(self, event: Any) -> InvokeResult:
        worker = self._acquire()
        try:
            return worker.invoke(event)
        finally:
            self._idle.put(worker)

    def stop(self) -> None:
        with self._lock:
            workers, self._all = list(self._all), []
        for worker in workers:
            worker.stop()

    def _acquire(self) -> FunctionWorker:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if len(self._all) < self._concurrency:
                worker = FunctionWorker(self.spec, self._env, self._cwd)
                self._all.append(worker)
                return worker
        return self._idle.get()


class WorkerPool:
    """The functions' workers by name and ARN; `sync` restarts a worker whose config changed."""

    def __init__(
        self, *, endpoint_url: str, region: str, repo_root: Path, concurrency: int = CONCURRENCY
    ) -> None:
        self._endpoint_url = endpoint_url
        self._region = region
        self._repo_root = repo_root
        self._concurrency = concurrency
        self._workers: dict[str, FunctionPool] = {}
        self._lock = threading.Lock()

    def sync(self, specs: list[FunctionSpec]) -> None:
        with self._lock:
            wanted = {spec.name: spec for spec in specs}
            for name in list(self._workers):
                if name not in wanted or self._workers[name].spec != wanted[name]:
                    self._workers.pop(name).stop()
            for name, spec in wanted.items():
                if name not in self._workers:
                    env = worker_environment(
                        spec,
                        endpoint_url=self._endpoint_url,
                        region=self._region,
                        task_root=self._repo_root,
                    )
                    self._workers[name] = FunctionPool(
                        spec, env, self._repo_root, self._concurrency
                    )

    def get(self, name_or_arn: str) -> FunctionPool | None:
        name = function_name(name_or_arn)
        with self._lock:
            return self._workers.get(name)

    def stop(self) -> None:
        with self._lock:
            workers, self._workers = list(self._workers.values()), {}
        for worker in workers:
            worker.stop()


def function_name(name_or_arn: str) -> str:
    """`arn:aws:lambda:r:a:function:name[:qualifier]` or `name[:qualifier]` to `name`."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn.split(":")[6]
    return name_or_arn.split(":")[0]
