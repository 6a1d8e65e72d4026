"""A BI tool or an ad-hoc query holding the *working* warehouse read-only (issue 12,
case 6): `cjm run` waits for it with one line naming the holder, and if it waits in
vain stops with one line pointing at the published copy — exit 3, no traceback, and
nothing lost: the next run loads everything. Real processes: a child python keeps
`duckdb.connect(path, read_only=True)` open until the test tells it to let go."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cjm.core.warehouse import LOCK_WAIT_ENV, open_warehouse
from tests.pipeline_helpers import FIXTURES, scalar

READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("select count(*) from raw.mentions").fetchone()
print("reading", flush=True)
sys.stdin.readline()  # until the test says stop
con.close()
"""
CLI = Path(sys.executable).with_name("cjm")


@contextmanager
def reader(warehouse: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", READER, str(warehouse)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "reading"
        yield proc
    finally:
        proc.kill()
        proc.wait()


def release(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.write("\n")
    proc.stdin.flush()
    assert proc.wait(timeout=30) == 0


def cjm_run(warehouse: Path, wait: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(CLI), "run", "--config", str(FIXTURES / "config.yml"), "--warehouse", str(warehouse)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, LOCK_WAIT_ENV: wait},
    )  # fmt: skip


@pytest.mark.integration
def test_a_reader_on_the_working_file_makes_a_run_wait_not_crash(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with open_warehouse(warehouse):
        pass  # the tables exist, empty: what a reader finds before the first load

    # 1. The reader outlasts a short wait: one line, exit 3, nothing half-loaded.
    with reader(warehouse) as bi:
        run = cjm_run(warehouse, "1")
        out, err = run.communicate(timeout=300)
    assert run.returncode == 3, out + err
    lines = err.strip().splitlines()
    assert f"(pid {bi.pid}) still holds the warehouse after 1 s" in lines[-1], err
    assert "published copy in " + str(tmp_path / "bi") in lines[-1]
    assert "Traceback" not in err and len(lines) == 2, err  # the waiting line, the last line
    assert "is held by python" in lines[0] and f"(pid {bi.pid})" in lines[0]
    assert scalar(warehouse, "select count(*) from raw.mentions") == 0
    assert scalar(warehouse, "select count(*) from ops.source_state") == 0

    # 2. The reader lets go while the run waits: the run goes on and loads everything.
    with reader(warehouse) as bi:
        run = cjm_run(warehouse, "120")
        assert run.stderr is not None
        waiting = run.stderr.readline()
        assert f"(pid {bi.pid})" in waiting and "waiting up to 120 s" in waiting
        release(bi)
        out, err = run.communicate(timeout=600)
    assert run.returncode == 0, out + err
    assert "Traceback" not in err
    # the fixture: 40 Finly listening rows + 20 media articles, 51 CRM events
    assert scalar(warehouse, "select count(*) from raw.mentions") == 60
    assert scalar(warehouse, "select count(*) from raw.crm_events") == 51
    assert scalar(warehouse, "select count(*) from ops.source_state") == 3
    assert scalar(warehouse, "select count(*) from marts.mentions") > 0
