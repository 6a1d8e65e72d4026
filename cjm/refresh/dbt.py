"""Run the dbt project against a warehouse file, in a child process: the one place
the dbt command line is built.

dbt-duckdb keeps its DuckDB instance open for the life of the process that ran
it. In-process (dbtRunner) that would leave this process holding the file, so
the publisher, a BI reader or the next task could not open it; a child process
releases it when it exits, for ~2 s of interpreter start.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cjm.core.paths import dbt_log_dir, dbt_project_dir, dbt_target_dir


class DbtBuildFailed(RuntimeError):
    pass


def dbt_executable() -> str:
    """The dbt next to this interpreter (the project venv), else the one on PATH.

    Airflow and `cjm` are often started as `.venv/bin/...` without the venv on PATH.
    """
    sibling = Path(sys.executable).with_name("dbt")
    return str(sibling) if sibling.exists() else shutil.which("dbt") or "dbt"


def dbt_env(warehouse: Path) -> dict[str, str]:
    return {
        "CJM_WAREHOUSE": str(Path(warehouse).resolve()),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def dbt_args(
    verb: str,
    warehouse: Path,
    select: Sequence[str] = (),
    target_path: Path | None = None,
    log_path: Path | None = None,
    quiet: bool = False,
    extra: Sequence[str] = (),
) -> list[str]:
    """The command line for `dbt <verb>` on the shipped (or overridden) project."""
    project = str(dbt_project_dir())
    args = [
        dbt_executable(), verb,
        "--project-dir", project, "--profiles-dir", project,
        "--log-path", str(log_path or dbt_log_dir(warehouse)),
        "--target-path", str(target_path or dbt_target_dir(warehouse)),
    ]  # fmt: skip
    if quiet:
        args.append("--quiet")
    if select:
        args += ["--select", *select]
    return [*args, *extra]


def run_dbt(
    verb: str,
    warehouse: Path,
    select: Sequence[str] = (),
    target_path: Path | None = None,
    log_path: Path | None = None,
    capture: bool = False,
    quiet: bool = False,
    extra: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    """`dbt <verb>` in a child process against `warehouse`; the caller checks the code."""
    return subprocess.run(
        dbt_args(verb, warehouse, select, target_path, log_path, quiet, extra),
        env={**os.environ, **dbt_env(warehouse)},
        capture_output=capture,
        text=True,
        check=False,
    )


def dbt_run_or_raise(
    warehouse: Path, select: Sequence[str], work_dir: Path, what: str
) -> subprocess.CompletedProcess[str]:
    """A few models (and the seeds they select) for a benchmark or test, without the data
    tests (those of the marts need the whole project built); output in the error."""
    proc = run_dbt(
        "build",
        warehouse,
        select,
        work_dir / "target",
        work_dir / "logs",
        capture=True,
        quiet=True,
        extra=("--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"),
    )
    if proc.returncode != 0:
        raise RuntimeError(f"dbt run of {what} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def dbt_build(
    warehouse: Path,
    select: list[str] | None = None,
    target_path: Path | None = None,
    quiet: bool = False,
) -> dict[str, Any]:
    warehouse = Path(warehouse).resolve()
    target = Path(target_path or dbt_target_dir(warehouse))
    started = time.perf_counter()
    proc = run_dbt(
        "build",
        warehouse,
        select or (),
        target,
        quiet=quiet or not sys.stdout.isatty(),
        # Unit tests check the models' logic on fixed inputs, not the data: they run in
        # development and CI (`make test`: tests/dbt/test_dbt_build.py), not in every
        # refresh, as dbt's docs advise (18 nodes, ~5 s of a refresh at 10^5 mentions).
        extra=("--exclude-resource-type", "unit_test"),
    )
    seconds = round(time.perf_counter() - started, 2)
    nodes: dict[str, int] = {}
    failures: list[str] = []
    results_file = target / "run_results.json"
    if results_file.exists():
        for r in json.loads(results_file.read_text(encoding="utf-8")).get("results", []):
            nodes[r["status"]] = nodes.get(r["status"], 0) + 1
            if r["status"] in {"error", "fail"}:
                failures.append(f"{r['unique_id']}: {r.get('message')}")
    if proc.returncode != 0:
        detail = "; ".join(failures[:5]) or f"exit code {proc.returncode}"
        raise DbtBuildFailed(f"dbt build failed ({detail}); logs in {dbt_log_dir(warehouse)}")
    return {"seconds": seconds, "nodes": nodes}
