"""Per-partition locks in S3, from conditional writes, so TRUSTED partitions change one file at
a time.

Dedupe against TRUSTED and the day's summary both read a partition and then write it: two
files of the same day processed at once would each miss the other's rows. A lock is an object
`_locks/<dataset>/year=/month=/day=.json` created with If-None-Match: * (exactly one creator
wins); its body names the owner and an expiry. A lock past its expiry belongs to a run that
died: it is taken over with If-Match on the ETag read, so two runs cannot both take it over.
Locks are taken in sorted order, so two runs needing overlapping days cannot deadlock.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from etl_layers.observability import logger, metrics
from etl_layers.ports import ObjectStore, PartitionBusyError, StorageError

LOCK_PREFIX = "_locks/"


@dataclass(frozen=True)
class LockPolicy:
    # Longer than the function's timeout (300 s) and one object's time in the Glue job, so a
    # live owner never loses its lock; short enough that a crash blocks a day only minutes.
    ttl: timedelta = timedelta(seconds=900)
    # How long a run waits for a busy day before failing its record for a later redelivery.
    wait_seconds: float = 120.0
    poll_seconds: float = 0.25


DEFAULT_POLICY = LockPolicy()


def lock_key(name: str) -> str:
    return f"{LOCK_PREFIX}{name}.json"


class PartitionLocks:
    """The locks one run holds; a context manager that releases them on exit."""

    def __init__(
        self,
        store: ObjectStore,
        bucket: str,
        *,
        owner: str,
        clock: Callable[[], datetime],
        policy: LockPolicy = DEFAULT_POLICY,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.bucket = bucket
        self.owner = f"{owner}/{uuid.uuid4().hex}"
        self.clock = clock
        self.policy = policy
        self.sleep = sleep
        self.monotonic = monotonic
        self.held: list[str] = []

    def acquire(self, names: Iterable[str]) -> None:
        """Take the lock of every name not held yet, in sorted order (no deadlock)."""
        deadline = self.monotonic() + self.policy.wait_seconds
        for name in sorted(set(names)):
            key = lock_key(name)
            if key not in self.held:
                self._acquire_one(key, deadline)
                self.held.append(key)

    def _body(self) -> dict[str, Any]:
        return {"owner": self.owner, "expires_at": (self.clock() + self.policy.ttl).isoformat()}

    def _expired(self, body: dict[str, Any]) -> bool:
        try:
            return datetime.fromisoformat(str(body["expires_at"])) <= self.clock()
        except (KeyError, ValueError):  # an unreadable lock cannot be trusted to expire
            return True

    def _acquire_one(self, key: str, deadline: float) -> None:
        while True:
            if self.store.create_json(self.bucket, key, self._body()):
                return
            current = self.store.read_json(self.bucket, key)
            if current is None:  # released between the two calls: try again at once
                continue
            body, etag = current
            if self._expired(body):
                if self.store.replace_json(self.bucket, key, self._body(), etag):
                    logger.warning(
                        "expired partition lock taken over",
                        extra={"lock": key, "previous_owner": body.get("owner")},
                    )
                    metrics.add_metric(name="PartitionLocksTakenOver", unit="Count", value=1)
                    return
                continue
            if self.monotonic() >= deadline:
                metrics.add_metric(name="PartitionLocksBusy", unit="Count", value=1)
                raise PartitionBusyError(f"s3://{self.bucket}/{key} held by {body.get('owner')}")
            self.sleep(self.policy.poll_seconds)

    def release(self) -> None:
        """Delete the locks still ours. A failure is left to the lock's expiry, not raised:
        the work is done, and raising would fail (and redo) a record that succeeded."""
        while self.held:
            key = self.held.pop()
            try:
                current = self.store.read_json(self.bucket, key)
                if current is not None and current[0].get("owner") == self.owner:
                    self.store.delete(self.bucket, key)
            except StorageError:
                logger.warning("partition lock left to expire", extra={"lock": key})

    def __enter__(self) -> PartitionLocks:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
