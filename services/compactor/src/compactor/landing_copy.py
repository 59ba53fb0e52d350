"""A local copy of one range's landing objects, written as they are fetched.

A range screened again another way (exact, strict) reads its objects a second time: from this
copy that costs no second GET, which on S3 is most of a range's time and all of its request
charges. The copy is the range's size on the function's ephemeral storage, beside the range's
lines and its Parquet file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

# Writes go to the file in large blocks: a landing object is a few kilobytes.
_BUFFER_BYTES = 1 << 20


class LandingCopy:
    """The objects that passed through `through`, in their order, read back by `objects`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._kept: list[tuple[str, int]] = []
        self._whole = False

    @property
    def whole(self) -> bool:
        """Whether every object of the range was kept (a pass read them all)."""
        return self._whole

    def through(self, objects: Iterable[tuple[str, bytes]]) -> Iterator[tuple[str, bytes]]:
        """`objects`, each kept as it passes; the copy is whole once they are all read."""
        self._kept, self._whole = [], False
        with self.path.open("wb", buffering=_BUFFER_BYTES) as out:
            for key, data in objects:
                out.write(data)
                self._kept.append((key, len(data)))
                yield key, data
        self._whole = True

    def objects(self) -> Iterator[tuple[str, bytes]]:
        """The kept objects, as they were fetched."""
        if not self._whole:
            raise RuntimeError("the range's objects were not all kept")
        with self.path.open("rb", buffering=_BUFFER_BYTES) as kept:
            for key, size in self._kept:
                yield key, kept.read(size)
