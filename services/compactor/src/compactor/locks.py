"""A lock per (domain, day) from S3 conditional writes, so two executions never both commit.

The lock is `_locks/<domain>/dt=<day>.json`, created with If-None-Match: * (one creator wins);
its body names the owning execution and an expiry. The owner taking it again (a retried step)
succeeds. A lock past its expiry belongs to an execution that died without releasing it: it is
taken over with If-Match on the ETag read, so two executions cannot both take it over. Before
committing, the owner renews it the same way, so an owner whose lock was taken over learns it
there and stops.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from compactor.observability import logger, metrics
from compactor.ports import LockLostError, ObjectStore, StorageError


@dataclass(frozen=True)
class LockState:
    acquired: bool
    holder: str | None = None


def lock_key(domain: str, day: str) -> str:
    return f"_locks/{domain}/dt={day}.json"


class DayLocks:
    def __init__(self, store: ObjectStore, bucket: str, ttl: timedelta) -> None:
        self.store = store
        self.bucket = bucket
        self.ttl = ttl

    def _body(self, owner: str, now: datetime) -> dict[str, Any]:
        return {"owner": owner, "expires_at": (now + self.ttl).isoformat()}

    @staticmethod
    def _expired(body: dict[str, Any], now: datetime) -> bool:
        try:
            return datetime.fromisoformat(str(body["expires_at"])) <= now
        except (KeyError, ValueError):  # an unreadable lock cannot be trusted to expire
            return True

    def acquire(self, key: str, owner: str, now: datetime) -> LockState:
        """Take the lock for `owner`, or say who holds it. Never waits: a busy day is the
        other execution's to finish."""
        while True:
            if self.store.create_json(self.bucket, key, self._body(owner, now)):
                return LockState(acquired=True, holder=owner)
            current = self.store.read_json(self.bucket, key)
            if current is None:  # released between the two calls
                continue
            body, etag = current
            holder = str(body.get("owner"))
            if holder == owner:
                return LockState(acquired=True, holder=owner)
            if not self._expired(body, now):
                metrics.add_metric(name="DayLockBusy", unit="Count", value=1)
                return LockState(acquired=False, holder=holder)
            if self.store.replace_json(self.bucket, key, self._body(owner, now), etag):
                logger.warning(
                    "expired day lock taken over", extra={"lock": key, "previous_owner": holder}
                )
                metrics.add_metric(name="DayLocksTakenOver", unit="Count", value=1)
                return LockState(acquired=True, holder=owner)

    def renew(self, key: str, owner: str, now: datetime) -> None:
        """Extend the lock before committing; raise LockLostError when it is no longer ours."""
        current = self.store.read_json(self.bucket, key)
        if current is None or current[0].get("owner") != owner:
            holder = None if current is None else current[0].get("owner")
            raise LockLostError(f"s3://{self.bucket}/{key} is held by {holder}, not {owner}")
        if not self.store.replace_json(self.bucket, key, self._body(owner, now), current[1]):
            raise LockLostError(f"s3://{self.bucket}/{key} changed while {owner} renewed it")

    def release(self, key: str, owner: str) -> bool:
        """Delete the lock if it is still ours. A failure is left to the expiry, not raised."""
        try:
            current = self.store.read_json(self.bucket, key)
            if current is None or current[0].get("owner") != owner:
                return False
            self.store.delete(self.bucket, key)
        except StorageError:
            logger.warning("day lock left to expire", extra={"lock": key, "owner": owner})
            return False
        return True
