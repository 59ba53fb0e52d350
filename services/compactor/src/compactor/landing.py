"""A landing object's bytes as its lines: as written, or gunzipped for a `.json.gz`.

An object that cannot be read (a gzip stream broken or cut short, or one that would unpack
past `MAX_OBJECT_BYTES`) is not a failure of its range: it is set aside whole with the
reason, as a line that is not JSON is.
"""

from __future__ import annotations

import zlib

# Past this a gzipped object is not a sink's flush but something else (a gzip bomb): what a
# range holds on local disk stays bounded.
MAX_OBJECT_BYTES = 1024**3
INVALID_GZIP = "invalid_gzip"
GZIP_TOO_LARGE = "gzip_too_large"


def is_gzipped(key: str) -> bool:
    return key.endswith(".gz")


class UnreadableObjectError(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def lines_of(key: str, data: bytes, limit: int = MAX_OBJECT_BYTES) -> bytes:
    """The object's JSON lines; raise UnreadableObjectError when they cannot be had."""
    if not is_gzipped(key):
        return data
    parts: list[bytes] = []
    size, rest = 0, data
    # A gzip file may be several members one after another (`cat a.gz b.gz`): each is read.
    while rest:
        inflater = zlib.decompressobj(wbits=31)
        try:
            part = inflater.decompress(rest, limit - size + 1)
        except zlib.error as error:
            raise UnreadableObjectError(INVALID_GZIP, f"not a gzip stream: {error}") from None
        size += len(part)
        if size > limit or inflater.unconsumed_tail:
            raise UnreadableObjectError(GZIP_TOO_LARGE, f"unpacks past {limit} bytes")
        if not inflater.eof:
            raise UnreadableObjectError(INVALID_GZIP, "the gzip stream is cut short")
        parts.append(part)
        rest = inflater.unused_data
    return b"".join(parts)
