"""One refresh per warehouse at a time (cjm/refresh/lock.py), with real processes: a
holder process keeps the lock; a second `cjm run` gives up after --wait with one line
and exit code 3; a waiting run proceeds once the holder ends; a killed holder never
leaves the lock stuck."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cjm.refresh.lock import RunLocked, run_lock
from tests.pipeline_helpers import FIXTURES

HOLDER = """
import sys, time
from pathlib import Path
from cjm.refresh.lock import run_lock
with run_lock(Path(sys.argv[1]), "holder-run", 0):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """A process holding the lock of tmp_path/warehouse.duckdb for up to 60 s."""
    warehouse = tmp_path / "warehouse.duckdb"
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(warehouse), "60"], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    try:
        yield warehouse, proc
    finally:
        proc.kill()
        proc.wait()


def test_a_second_cjm_run_gives_up_with_one_line_and_exit_3(holder) -> None:
    warehouse, proc = holder
    cli = Path(sys.executable).with_name("cjm")
    started = time.monotonic()
    result = subprocess.run(
        [str(cli), "run", "--config", str(FIXTURES / "config.yml"),
         "--warehouse", str(warehouse), "--wait", "1"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 3, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert f"run holder-run (pid {proc.pid}" in line and "after 1 s of waiting" in line
    assert "waiting for run holder-run" in result.stdout
    assert time.monotonic() - started < 60
    assert not warehouse.exists(), "the locked-out run touched the warehouse"


def test_a_waiting_run_proceeds_when_the_holder_ends(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(warehouse), "1.5"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        said: list[str] = []
        started = time.monotonic()
        with run_lock(warehouse, "second", wait_seconds=30, say=said.append, poll_seconds=0.1):
            waited = time.monotonic() - started
        assert len(said) == 1 and f"run holder-run (pid {proc.pid}" in said[0]
        assert 0.5 < waited < 30
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()


def test_a_killed_holder_leaves_no_stuck_lock(holder) -> None:
    warehouse, proc = holder
    with (
        pytest.raises(RunLocked, match="holder-run"),
        run_lock(warehouse, "second", wait_seconds=0.3, poll_seconds=0.1),
    ):
        pass
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with run_lock(warehouse, "third", wait_seconds=5, poll_seconds=0.1):
        pass
