"""Scratch directories: removed after use, and those of a killed invocation swept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from rocket_contracts.scratch import scratch_dir, sweep

PREFIX = "svc-scratch-"

_HOLD = """
import sys, time
from pathlib import Path
from rocket_contracts.scratch import scratch_dir
with scratch_dir(Path(sys.argv[1]), "svc-scratch-") as path:
    (path / "landing.bin").write_bytes(b"x" * 4096)
    print(path, flush=True)
    time.sleep(120)
"""


def _holder(work_dir: Path) -> tuple[subprocess.Popen[str], Path]:
    """A process in the middle of a range: its scratch directory made, locked and in use."""
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(work_dir)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert process.stdout is not None
    return process, Path(process.stdout.readline().strip())


def test_a_scratch_directory_is_removed_after_use_even_on_an_error(tmp_path: Path) -> None:
    try:
        with scratch_dir(tmp_path, PREFIX) as path:
            (path / "part.parquet").write_bytes(b"1")
            raise RuntimeError("the range failed")
    except RuntimeError:
        pass
    assert not path.exists()


def test_a_killed_invocation_s_directory_is_swept_a_live_one_kept(tmp_path: Path) -> None:
    killed, dead = _holder(tmp_path)
    live, alive = _holder(tmp_path)
    try:
        # SIGKILL, as Lambda ends an invocation past its timeout: nothing of it runs after.
        killed.send_signal(signal.SIGKILL)
        killed.wait(10)
        with scratch_dir(tmp_path, PREFIX) as mine:
            swept = sweep(tmp_path, PREFIX)
            assert (swept.directories, swept.bytes) == (1, 4096)
            assert not dead.exists()
            assert alive.exists()
            assert mine.exists()
    finally:
        live.kill()
        live.wait(10)
        assert killed.stdout is not None
        assert live.stdout is not None
        killed.stdout.close()
        live.stdout.close()
    assert sweep(tmp_path, PREFIX).directories == 1  # the second holder, ended now
    assert list(tmp_path.iterdir()) == []


def test_a_directory_without_its_lock_file_is_kept_while_it_may_be_in_the_making(
    tmp_path: Path,
) -> None:
    making = tmp_path / f"{PREFIX}abc"
    making.mkdir()
    other = tmp_path / "not-ours"
    other.mkdir()
    assert sweep(tmp_path, PREFIX).directories == 0
    assert sweep(tmp_path, PREFIX, now=time.time() + 3600).directories == 1
    assert not making.exists()
    assert other.exists()
