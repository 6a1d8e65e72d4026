"""Run the dbt project against a warehouse file, in a child process.

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
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"


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


def dbt_build(
    warehouse: Path,
    select: list[str] | None = None,
    target_path: Path | None = None,
    quiet: bool = False,
) -> dict[str, Any]:
    warehouse = Path(warehouse).resolve()
    log_dir = warehouse.parent / "logs"
    target = Path(target_path or warehouse.parent / "dbt_target")
    args = [
        dbt_executable(),
        "build",
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--log-path",
        str(log_dir),
        "--target-path",
        str(target),
    ]
    if quiet or not sys.stdout.isatty():
        args.append("--quiet")
    if select:
        args += ["--select", *select]
    started = time.perf_counter()
    proc = subprocess.run(args, env={**os.environ, **dbt_env(warehouse)}, check=False)
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
        raise DbtBuildFailed(f"dbt build failed ({detail}); logs in {log_dir}")
    return {"seconds": seconds, "nodes": nodes}
