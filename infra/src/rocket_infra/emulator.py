"""The embedded AWS emulator: moto in server mode, in its own process, on 127.0.0.1."""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
_PR_SET_PDEATHSIG = 1
# moto behind the fault middleware and the per-key lock on S3 writes
SERVER_MODULE = "rocket_infra.emulator_server"
PROBE_PATH = "/moto-api/config"


class EmulatorError(RuntimeError):
    """The emulator did not start or refused a control call."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux `preexec_fn`: the child gets SIGTERM when its parent dies, so an emulator (or a
    `rocket up` a test started) never outlives what started it, a killed test run included.
    Linux sends the signal when the *thread* that started the child ends: start emulators from
    a thread that lives as long as they should (the main thread, in practice)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Emulator:
    """A moto server subprocess. Use `Emulator.running(...)` as a context manager."""

    def __init__(self, port: int = 0, log: Path | None = None) -> None:
        self.port = port or free_port()
        self.endpoint_url = f"http://{HOST}:{self.port}"
        self.log = log  # the server's own output (moto's warnings and tracebacks) when given
        self._process: subprocess.Popen[bytes] | None = None

    @classmethod
    @contextlib.contextmanager
    def running(
        cls, port: int = 0, config: Mapping[str, Any] | None = None, log: Path | None = None
    ) -> Iterator[Emulator]:
        emulator = cls(port, log)
        emulator.start(config)
        try:
            yield emulator
        finally:
            emulator.stop()

    def start(self, config: Mapping[str, Any] | None = None, timeout: float = 30.0) -> None:
        """Start the server, wait until it answers, then apply `config` before anything exists."""
        env = {**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "true"}
        preexec = die_with_parent if sys.platform.startswith("linux") else None
        with contextlib.ExitStack() as files:
            output: Any = subprocess.DEVNULL
            if self.log is not None:
                self.log.parent.mkdir(parents=True, exist_ok=True)
                output = files.enter_context(self.log.open("ab"))
            self._process = subprocess.Popen(
                [sys.executable, "-m", SERVER_MODULE, "-H", HOST, "-p", str(self.port)],
                stdout=output,
                stderr=subprocess.STDOUT,
                env=env,
                preexec_fn=preexec,
                # A group of its own: Ctrl-C in a terminal signals the whole foreground group,
                # and an emulator that quit first would fail every poller and the bus tap while
                # `rocket up` stops them. Whoever started it stops it (stop(), or its death).
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self._process.poll() is not None:
                raise EmulatorError(
                    f"emulator exited with code {self._process.returncode} "
                    f"(is {HOST}:{self.port} already in use?)"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise EmulatorError(f"emulator did not answer on {self.endpoint_url}")
            time.sleep(0.05)
        if config:
            self.configure(config)
        logger.info("emulator started", extra={"endpoint_url": self.endpoint_url})

    def configure(self, config: Mapping[str, Any]) -> None:
        """POST /moto-api/config (switching a backend wipes it: call before deploying)."""
        self._post("/moto-api/config", config)

    def reset(self) -> None:
        self._post("/moto-api/reset", {})

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def answers(self) -> bool:
        """Whether the server answers now. Asks for moto's config, which reads no resource:
        its model dump (/moto-api/data.json) reads every attribute of every resource and fails,
        with a traceback in the log, once a Lambda function exists."""
        try:
            with urllib.request.urlopen(f"{self.endpoint_url}{PROBE_PATH}", timeout=1):
                return True
        except (urllib.error.URLError, OSError):
            return False

    def _post(self, path: str, body: Mapping[str, Any]) -> None:
        request = urllib.request.Request(
            f"{self.endpoint_url}{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
        except urllib.error.URLError as exc:
            raise EmulatorError(f"emulator refused {path}: {exc}") from exc
