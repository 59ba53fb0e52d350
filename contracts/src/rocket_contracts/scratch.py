"""Local scratch directories of a function, and the sweep of those a killed invocation left.

Lambda keeps /tmp across the invocations of one execution environment, and an invocation that
times out or runs out of memory is ended before it can remove its files: without a sweep, its
retry in the same environment finds the dead one's files (a compactor range's copy and lines,
an etl-layers file and its engine's spill) taking the ephemeral storage, and fails for want of
space. Each scratch directory holds a lock (flock) on
a file inside it while it is used; the kernel releases the lock when the process ends, however
it ends, so a directory whose lock can be taken has no owner left. Directories of live
invocations (other workers of the local runtime, other threads) keep their lock and are left.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

_OWNER = ".owner"
# A directory without its lock file is one being made (the lock comes a moment after) or one
# whose maker ended in that moment: only the second is ever this old.
_UNLOCKED_GRACE_SECONDS = 600.0


@dataclass(frozen=True)
class Swept:
    directories: int = 0
    bytes: int = 0


def _size(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def _ownerless(path: Path, now: float) -> bool:
    try:
        fd = os.open(path / _OWNER, os.O_RDWR)
    except FileNotFoundError:
        try:
            return now - path.stat().st_mtime > _UNLOCKED_GRACE_SECONDS
        except FileNotFoundError:
            return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        # Closing drops the lock taken just now: the directory is removed right after.
        os.close(fd)
    return True


def sweep(work_dir: Path, prefix: str, now: float | None = None) -> Swept:
    """Remove the scratch directories named `prefix`... under `work_dir` that no live process
    holds."""
    now = time.time() if now is None else now
    swept = Swept()
    for path in sorted(work_dir.glob(f"{prefix}*")):
        if path.is_dir() and _ownerless(path, now):
            size = _size(path)
            shutil.rmtree(path, ignore_errors=True)
            swept = Swept(swept.directories + 1, swept.bytes + size)
    return swept


@contextmanager
def scratch_dir(work_dir: Path, prefix: str) -> Iterator[Path]:
    """A new directory `prefix`... under `work_dir`, locked while in use and removed after."""
    work_dir.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=work_dir))
    # Locked under another name, then put in place: a sweep never finds the lock file free
    # between its making and its locking.
    fd = os.open(path / f"{_OWNER}-new", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(path / f"{_OWNER}-new", path / _OWNER)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)
