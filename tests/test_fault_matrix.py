"""`kill -9` in every step of a refresh, then a re-run, equals a clean run exactly
(issue 12's fault matrix): a real child `cjm run` on the small file-source fixture is
killed (its whole process group, dbt included) once it is in the step — told by its own
output lines and by the files the step creates, never by hooks in the product — and
the next `cjm run` must leave the same row counts per raw/ops/marts table, the same id
sets, the same marts.mentions content, the same cursors, no temp files or
`__dbt_tmp` relations, and the run lock free.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cjm.core.paths import bi_dir_for, dbt_log_dir, landing_dir
from cjm.refresh.lock import run_lock
from tests.pipeline_helpers import FIXTURES

CLI = Path(sys.executable).with_name("cjm")
CONFIG = FIXTURES / "config.yml"
SOURCES = 3  # listening, media, crm in the fixture config
# the module's clean run starts before conftest's per-test environment is set
ENV = {"CJM_CUSTOMER_KEY_SECRET": os.environ.get("CJM_CUSTOMER_KEY_SECRET", "test-secret")}
IDS = {"raw.mentions": "mention_id", "raw.crm_events": "event_id", "marts.mentions": "mention_id"}


class Child:
    """A `cjm run` in its own process group, its output collected line by line."""

    def __init__(self, warehouse: Path) -> None:
        self.warehouse = warehouse
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [str(CLI), "run", "--config", str(CONFIG), "--warehouse", str(warehouse)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True, env={**os.environ, **ENV},
        )  # fmt: skip
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def said(self, prefix: str) -> int:
        return sum(line.startswith(prefix) for line in self.lines)

    def kill_when(self, reached: Callable[[Child], bool], what: str) -> None:
        deadline = time.monotonic() + 600
        while not reached(self):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self._reader.join(5)
                pytest.fail(f"the run ended before {what}:\n" + "\n".join(self.lines))
            time.sleep(0.005)
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._reader.join(5)

    def finish(self) -> None:
        code = self.proc.wait(timeout=900)
        self._reader.join(5)
        assert code == 0, "\n".join(self.lines)


def _in_extract(run: Child) -> bool:
    return run.said("[extract]") >= 1  # the first source landed, the next one is being read


def _in_load(run: Child) -> bool:
    # Every batch validated, and the loader has created the warehouse file: it is loading.
    return run.said("[validate]") == SOURCES and run.warehouse.exists()


def _in_dbt(run: Child) -> bool:
    log = dbt_log_dir(run.warehouse) / "dbt.log"
    # mid-build: the incremental Python model (the one that stages __dbt_tmp tables) started
    return run.said("[load]") == 1 and log.exists() and "int_mentions_enriched" in log.read_text()


def _in_publish(run: Child) -> bool:
    bi = bi_dir_for(run.warehouse)
    # the BI file is being written under its temp name
    return run.said("[dbt build]") == 1 and any(bi.glob(".marts.duckdb.*.tmp*"))


STEPS = {"extract": _in_extract, "load": _in_load, "dbt": _in_dbt, "publish": _in_publish}


def _has_marts_mentions(warehouse: Path) -> bool:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return bool(
            con.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = 'marts' and table_name = 'mentions'"
            ).fetchone()[0]
        )
    finally:
        con.close()


# What the kill left, so each case is known to have died inside its step.
LEFT = {
    "extract": lambda wh: not wh.exists(),  # nothing loaded yet
    "load": lambda wh: wh.exists(),  # the loader had opened the warehouse
    "dbt": lambda wh: not _has_marts_mentions(wh),  # loaded; the mentions mart not built
    "publish": lambda wh: any(bi_dir_for(wh).glob(".marts.duckdb.*.tmp*")),  # half a BI file
}


def facts(warehouse: Path) -> dict[str, Any]:
    """What a user could tell apart: counts, ids, the mentions' content, the cursors."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [
            f"{s}.{t}"
            for s, t in con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_schema in ('raw', 'ops', 'marts') and table_type = 'BASE TABLE' "
                "order by 1, 2"
            ).fetchall()
        ]
        out: dict[str, Any] = {
            "counts": {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables},
            "ids": {
                t: sorted(r[0] for r in con.execute(f"select {c} from {t}").fetchall())
                for t, c in IDS.items()
            },
            "cursors": dict(con.execute("select source, cursor from ops.source_state").fetchall()),
            "quarantine_ids": sorted(
                r[0] for r in con.execute("select quarantine_id from ops.quarantine").fetchall()
            ),
        }
        mentions = con.execute("select * from marts.mentions order by mention_id").fetchall()
        out["marts.mentions sha256"] = hashlib.sha256(repr(mentions).encode()).hexdigest()
        out["__dbt_tmp relations"] = con.execute(
            "select count(*) from information_schema.tables where table_name like '%dbt_tmp%'"
        ).fetchone()[0]
        return out
    finally:
        con.close()


def leftovers(warehouse: Path) -> list[str]:
    """Temp files and half-published versions a crash could leave behind."""
    bi = bi_dir_for(warehouse)
    found = [*landing_dir(warehouse).glob("*/.*.tmp"), *bi.glob(".*.tmp*"), *bi.glob(".*.link")]
    versions = bi / ".parquet.versions"
    current = os.readlink(bi / "parquet").rsplit("/", 1)[-1]
    found += [
        v for v in versions.iterdir() if v.name != current and not (v / "_manifest.json").exists()
    ]
    return sorted(str(p.relative_to(warehouse.parent)) for p in found)


def lock_is_free(warehouse: Path) -> bool:
    try:
        with run_lock(warehouse, "probe", wait_seconds=0):
            return True
    except RuntimeError:
        return False


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    warehouse = tmp_path_factory.mktemp("clean") / "warehouse.duckdb"
    Child(warehouse).finish()
    got = facts(warehouse)
    assert got["counts"]["raw.mentions"] > 0 and got["counts"]["marts.mentions"] > 0
    assert len(got["cursors"]) == SOURCES
    return got


@pytest.mark.integration
@pytest.mark.parametrize("step", list(STEPS))
def test_kill_9_in_a_step_then_a_rerun_equals_a_clean_run(
    step: str, clean: dict[str, Any], tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    killed = Child(warehouse)
    killed.kill_when(STEPS[step], f"reaching {step}")
    assert LEFT[step](warehouse), f"the kill did not land inside {step}"
    assert lock_is_free(warehouse), "the killed run left the run lock held"
    Child(warehouse).finish()
    after = facts(warehouse)
    assert after == clean
    assert after["__dbt_tmp relations"] == 0
    assert leftovers(warehouse) == []
    assert lock_is_free(warehouse)


def test_temp_files_of_dead_writers_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    from cjm.core.landing import remove_dead_temp_files

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    (tmp_path / "news").mkdir()
    left = tmp_path / "news" / f".run.parquet.{dead.stdout.strip()}.tmp"
    live = tmp_path / "news" / f".run.passed.parquet.{os.getpid()}.tmp"
    done = tmp_path / "news" / "run.parquet"
    for p in (left, live, done):
        p.write_bytes(b"x")
    assert remove_dead_temp_files(tmp_path) == [left]
    assert not left.exists() and live.exists() and done.exists()
