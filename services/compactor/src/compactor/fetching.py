"""A range's landing objects fetched concurrently and read in order, a bounded way ahead.

A GET's time on S3 has a long tail. Fetched a window at a time, each window waits for its
slowest object while the pool's other threads idle; here a new fetch starts each time the
reader takes an object, so a slow GET holds up its own place only, and the pool stays busy.
At most `objects` objects or `held_bytes` bytes (by the plan's sizes) are in flight or waiting
for the reader at once: memory stays bounded whatever the range's size.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from compactor.planning import ManifestEntry

AHEAD_OBJECTS = 512
AHEAD_BYTES = 64 * 1024 * 1024


def fetched_in_order(
    get: Callable[[ManifestEntry], bytes],
    entries: Sequence[ManifestEntry],
    concurrency: int,
    *,
    objects: int = AHEAD_OBJECTS,
    held_bytes: int = AHEAD_BYTES,
) -> Iterator[tuple[str, bytes]]:
    """(key, bytes) of each entry, in the entries' order, `get` running on `concurrency`
    threads. One object larger than `held_bytes` is fetched alone."""
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        ahead: deque[tuple[ManifestEntry, Future[bytes]]] = deque()
        held, position = 0, 0
        try:
            while True:
                while position < len(entries) and (
                    not ahead
                    or (len(ahead) < objects and held + entries[position].size <= held_bytes)
                ):
                    entry = entries[position]
                    ahead.append((entry, pool.submit(get, entry)))
                    held += entry.size
                    position += 1
                if not ahead:
                    return
                entry, future = ahead.popleft()
                held -= entry.size
                yield entry.key, future.result()
        finally:
            # A failed GET, or a reader that stopped: the fetches not started are dropped.
            for _, future in ahead:
                future.cancel()
