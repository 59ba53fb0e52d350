"""The local copy a range's later passes read instead of fetching its objects again."""

from __future__ import annotations

from pathlib import Path

import pytest
from compactor.landing_copy import LandingCopy


def test_the_kept_objects_come_back_whole_in_their_order(tmp_path: Path) -> None:
    objects = [("a.json", b'{"x":1}\n'), ("empty.json", b""), ("b.json", b"\xe9\r\n" * 5000)]
    copy = LandingCopy(tmp_path / "landing.bin")
    assert list(copy.through(iter(objects))) == objects
    assert copy.whole
    assert list(copy.objects()) == objects
    assert list(copy.objects()) == objects  # read as often as passes need


def test_a_pass_that_stopped_part_way_leaves_no_copy_to_read(tmp_path: Path) -> None:
    copy = LandingCopy(tmp_path / "landing.bin")
    passing = copy.through(iter([("a.json", b"1\n"), ("b.json", b"2\n")]))
    next(passing)
    assert not copy.whole
    with pytest.raises(RuntimeError, match="not all kept"):
        list(copy.objects())
    # Fetched again, the copy holds the new pass's objects only.
    assert list(copy.through(iter([("c.json", b"3\n")]))) == [("c.json", b"3\n")]
    assert list(copy.objects()) == [("c.json", b"3\n")]
