"""Atomic S3 writes inside the emulator process: a WSGI middleware in front of moto that lets
one write at a time change a given bucket+key.

moto checks `If-None-Match` / `If-Match` and then writes, in two steps with no lock, while the
server answers requests on many threads: two create-only writers can both win, and a writer can
read an object another thread is replacing (a 500). S3 decides each conditional write
atomically, so here every request that changes an object (PutObject, CopyObject,
CompleteMultipartUpload, DeleteObject, conditional or not: an unconditional write between a
conditional one's check and its write would break it just the same) holds that key's lock
while moto handles it. The body is read before the lock is taken, so a slow client holds no
one else up. Path-style requests only (what clients send to an IP endpoint), as
`rocket_infra.fault_middleware` recognises them.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from rocket_infra.fault_middleware import App, StartResponse, s3_operation, service_of

WRITES = frozenset({"PutObject", "CopyObject", "CompleteMultipartUpload", "DeleteObject"})


class KeyLocks:
    """One lock per key, kept only while someone holds or waits for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def holding(self, key: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        with self._guard:
            return len(self._locks)


class ConditionalWrites:
    """Wraps the emulator's WSGI app; requests that change no object pass straight through."""

    def __init__(self, app: App) -> None:
        self._app = app
        self.locks = KeyLocks()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        key = object_key(environ)
        if key is None:
            return self._app(environ, start_response)
        _buffer_body(environ)
        with self.locks.holding(key):
            # moto writes while the view runs; draining the answer under the lock as well keeps
            # a lazily built response inside it too.
            chunks = self._app(environ, start_response)
            try:
                return [b"".join(chunks)]
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()


def object_key(environ: dict[str, Any]) -> str | None:
    """'bucket/key' for an S3 request that changes an object, else None."""
    if service_of(environ) != "s3":
        return None
    parts = environ.get("PATH_INFO", "/").lstrip("/").split("/", 1)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        return None
    if s3_operation(environ) not in WRITES:
        return None
    return f"{parts[0]}/{parts[1]}"


def _buffer_body(environ: dict[str, Any]) -> None:
    """Read a sized body off the socket now; a chunked one stays a stream for moto to read."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return
    stream = environ.get("wsgi.input")
    if stream is None or length <= 0:
        return
    body = stream.read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
