"""A self-contained, offline Airflow installation for this project: env, DB, pool.

Used by the Airflow tests and by anyone who wants `airflow dags test cjm_refresh`
or `airflow standalone` on a laptop without touching ~/airflow. Everything lives
under one AIRFLOW_HOME folder (SQLite metadata DB, logs, generated airflow.cfg),
so deleting that folder is a full reset.

    python -m cjm.airflow_env .airflow     # prepare, then print `export` lines

Why each variable is set is written next to it in :func:`airflow_env`.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cjm.refresh.scheduling import WAREHOUSE_POOL, WAREHOUSE_POOL_DESCRIPTION

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DAGS_FOLDER = PROJECT_ROOT / "dags"


def airflow_executable() -> str:
    """The `airflow` of this interpreter's venv: PATH may not include the venv."""
    candidate = Path(sys.executable).with_name("airflow")
    return str(candidate) if candidate.exists() else "airflow"


def airflow_env(
    home: str | Path,
    *,
    dags_folder: str | Path = DAGS_FOLDER,
    base: Mapping[str, str] | None = None,
    jwt_secret: str | None = None,
) -> dict[str, str]:
    """Environment for an isolated, offline Airflow 3 rooted at ``home``.

    ``base`` (default: the current environment) is copied first, then every
    ``AIRFLOW__*`` variable it carries is dropped so a developer's own Airflow
    settings cannot leak into a test run.
    """
    home = Path(home).resolve()
    env = {k: v for k, v in (os.environ if base is None else base).items()}
    env = {k: v for k, v in env.items() if not k.startswith("AIRFLOW__")}
    # The CLI runs a venv entry point; make sure the venv's tools (dbt) are found too.
    venv_bin = str(Path(sys.executable).parent)
    if venv_bin not in env.get("PATH", "").split(os.pathsep):
        env["PATH"] = os.pathsep.join(p for p in (venv_bin, env.get("PATH", "")) if p)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            # The project's DAGs only; the ~80 example DAGs would slow every parse.
            "AIRFLOW__CORE__DAGS_FOLDER": str(Path(dags_folder).resolve()),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            # Explicit, so a stray global setting cannot point tests at a real DB.
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            # Offline machine: no phoning home (Airflow, Cosmos/Scarf, dbt, GX).
            "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "DO_NOT_TRACK": "true",
            "SCARF_NO_ANALYTICS": "true",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "GX_ANALYTICS_ENABLED": "false",
            # Keep Cosmos' partial-parse and dbt-ls caches inside this home.
            "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos_cache"),
        }
    )
    if jwt_secret:
        # Signs the tokens tasks present to the Execution API. Without it Airflow
        # generates one into $AIRFLOW_HOME/airflow.cfg on first start, which every
        # process sharing this home reads; pass one when processes do not share it.
        env["AIRFLOW__API_AUTH__JWT_SECRET"] = jwt_secret
    return env


def _run(args: list[str], env: Mapping[str, str], timeout: float) -> None:
    proc = subprocess.run(
        args, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
        raise RuntimeError(f"{shlex.join(args)} exited {proc.returncode}:\n{tail}")


def prepare_airflow_home(
    home: str | Path,
    *,
    dags_folder: str | Path = DAGS_FOLDER,
    base: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> dict[str, str]:
    """Create (or upgrade) the metadata DB and the warehouse pool; return the env.

    The pool is not needed by `airflow dags test`, which runs tasks in-process one
    at a time, but the scheduler never queues a task whose pool does not exist.
    """
    home = Path(home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    env = airflow_env(home, dags_folder=dags_folder, base=base)
    airflow = airflow_executable()
    _run([airflow, "db", "migrate"], env, timeout)
    _run(
        [airflow, "pools", "set", WAREHOUSE_POOL, "1", WAREHOUSE_POOL_DESCRIPTION],
        env,
        timeout,
    )
    return env


def run_dag_test(
    dag_id: str,
    env: Mapping[str, str],
    *,
    timeout: float = 900,
    log_path: str | Path | None = None,
) -> tuple[int, float, str]:
    """`airflow dags test <dag_id>` in a child process: (exit code, seconds, output).

    A child process, not `dag.test()` in the caller: Airflow reads its config
    once per process, and dbt-duckdb keeps the warehouse open for the life of
    the process that ran dbt.
    """
    started = time.perf_counter()
    proc = subprocess.run(
        [airflow_executable(), "dags", "test", dag_id],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    seconds = time.perf_counter() - started
    output = proc.stdout + proc.stderr
    if log_path is not None:
        Path(log_path).write_text(output, encoding="utf-8")
    return proc.returncode, seconds, output


def release_dbt_duckdb(project_dir: str | None = None, **_: Any) -> None:
    """Close the DuckDB instance dbt-duckdb keeps after an in-process dbt run.

    Used as the Cosmos ``callback`` of every dbt task in dags/cjm_refresh.py.
    dbt-duckdb 1.11.1 leaves its connection open (``handle_count`` back at 0, the
    instance not closed) when a dbtRunner invocation ends. Under the Local or
    Celery executor the task process exits right after, so nothing is held; but
    ``airflow dags test`` runs every task in one process, and there the later
    ``publish`` (``ATTACH ... (read_only)``) and ``extract`` (``read_only=True``)
    fail with "Unique file handle conflict" / "different configuration". Cosmos
    calls callbacks only after a successful dbt run; a failed one stops the run
    before publish anyway.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        if env is not None:
            env.close()


def main(argv: list[str] | None = None) -> int:
    """Prepare an AIRFLOW_HOME and print the `export` lines that select it."""
    args = sys.argv[1:] if argv is None else argv
    home = Path(args[0] if args else PROJECT_ROOT / ".airflow")
    env = prepare_airflow_home(home)
    for key in sorted(env):
        if key.startswith("AIRFLOW") or key in ("DO_NOT_TRACK", "SCARF_NO_ANALYTICS"):
            print(f"export {key}={shlex.quote(env[key])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
