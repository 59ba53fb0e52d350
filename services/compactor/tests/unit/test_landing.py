"""Landing objects as sinks write them: JSON lines, or the same gzipped."""

from __future__ import annotations

import gzip

import pytest
from compactor.landing import GZIP_TOO_LARGE, INVALID_GZIP, UnreadableObjectError, lines_of

LINES = b'{"a":1}\n{"a":2}\n'


def test_a_json_object_is_its_lines_as_written() -> None:
    assert lines_of("t+0+1.json", LINES) is LINES


def test_a_gzipped_object_is_its_lines_every_member_of_it() -> None:
    assert lines_of("t+0+1.json.gz", gzip.compress(LINES)) == LINES
    two = gzip.compress(LINES) + gzip.compress(b'{"a":3}\n')
    assert lines_of("t+0+1.json.gz", two) == LINES + b'{"a":3}\n'


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (LINES, INVALID_GZIP),  # not gzip at all
        (gzip.compress(LINES)[:-12], INVALID_GZIP),  # cut short
        (gzip.compress(LINES) + b"garbage", INVALID_GZIP),
        (gzip.compress(b"x" * 10_000), GZIP_TOO_LARGE),
    ],
    ids=["not-gzip", "cut-short", "trailing-garbage", "too-large"],
)
def test_an_object_that_cannot_be_read_says_why(data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableObjectError) as caught:
        lines_of("t+0+1.json.gz", data, limit=1_000)
    assert caught.value.reason == reason
