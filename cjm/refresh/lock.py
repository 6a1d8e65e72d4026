"""One refresh at a time per warehouse, politely.

DuckDB allows one writer process per file. In Airflow the `cjm_warehouse` pool
serialises the writers; `cjm run` takes this lock instead: an advisory file lock beside
the warehouse (`<warehouse>.lock`, released by the kernel if the holder dies, so a
`kill -9` never leaves it stuck) holding who has it. A second run says once whom it is
waiting for, waits up to `wait_seconds`, then gives up with one line (exit code 3).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from cjm.core.paths import run_lock_file
from cjm.core.warehouse import env_seconds

DEFAULT_WAIT_SECONDS = 600.0
WAIT_ENV = "CJM_RUN_LOCK_WAIT"


class RunLocked(RuntimeError):
    """Another refresh kept the warehouse for longer than this run would wait."""


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "another run"
    return f"run {info.get('run_id')} (pid {info.get('pid')}, since {info.get('since')})"


def default_wait() -> float:
    return env_seconds(WAIT_ENV, DEFAULT_WAIT_SECONDS)


@contextmanager
def run_lock(
    warehouse: Path,
    run_id: str,
    wait_seconds: float | None = None,
    say: Callable[[str], None] = lambda msg: None,
    poll_seconds: float = 0.5,
) -> Iterator[None]:
    path = run_lock_file(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    wait = default_wait() if wait_seconds is None else wait_seconds
    deadline = time.monotonic() + wait
    fh = path.open("a+", encoding="utf-8")
    try:
        announced = False
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(path)
                if time.monotonic() >= deadline:
                    raise RunLocked(
                        f"{warehouse}: {holder} is still refreshing this warehouse after "
                        f"{wait:.0f} s of waiting; try again when it has finished"
                    ) from None
                if not announced:
                    say(f"waiting for {holder} to finish (up to {wait:.0f} s)")
                    announced = True
                time.sleep(poll_seconds)
        fh.seek(0)
        fh.truncate()
        since = datetime.now(UTC).isoformat(timespec="seconds")
        fh.write(json.dumps({"run_id": run_id, "pid": os.getpid(), "since": since}))
        fh.flush()
        yield
    finally:
        try:
            fh.seek(0)
            fh.truncate()
        finally:
            fh.close()  # closing releases the lock
