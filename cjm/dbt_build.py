"""Run the dbt project in-process (dbtRunner) against a warehouse file.

In-process saves the ~2 s interpreter start per invocation; the DuckDB file
must not be held open by this process while dbt writes to it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"


class DbtBuildFailed(RuntimeError):
    pass


def dbt_env(warehouse: Path) -> dict[str, str]:
    return {"CJM_WAREHOUSE": str(Path(warehouse).resolve())}


def dbt_build(
    warehouse: Path, select: list[str] | None = None, target_path: Path | None = None
) -> dict[str, Any]:
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_env(warehouse))
    log_dir = Path(warehouse).resolve().parent / "logs"
    args = [
        "build",
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--log-path",
        str(log_dir),
        "--target-path",
        str(target_path or PROJECT_DIR / "target"),
    ]
    if select:
        args += ["--select", *select]
    started = time.perf_counter()
    result = dbtRunner().invoke(args)
    seconds = round(time.perf_counter() - started, 2)
    nodes: dict[str, int] = {}
    failures: list[str] = []
    for r in getattr(result.result, "results", None) or []:
        status = str(r.status)
        nodes[status] = nodes.get(status, 0) + 1
        if status in {"error", "fail"}:
            failures.append(f"{r.node.unique_id}: {r.message}")
    if not result.success:
        detail = "; ".join(failures[:5]) or str(result.exception)
        raise DbtBuildFailed(f"dbt build failed ({detail}); logs in {log_dir}")
    return {"seconds": seconds, "nodes": nodes}
