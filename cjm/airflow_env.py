"""A self-contained, offline Airflow installation for this project: env, DB, pool.

Used by the Airflow tests and by anyone who wants `airflow dags test cjm_refresh`
or `airflow standalone` on a laptop without touching ~/airflow. Everything lives
under one AIRFLOW_HOME folder (SQLite metadata DB, logs, generated airflow.cfg),
so deleting that folder is a full reset.

    python -m cjm.airflow_env .airflow     # prepare, then print `export` lines

Why each variable is set is written next to it in :func:`airflow_env`.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

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
            # Parsing cjm_refresh runs `dbt ls` (Cosmos) until its cache is warm: ~20 s on
            # an idle 2-core machine, over Airflow's 30 s import timeout on a busy one,
            # and a timed-out parse leaves the DAG missing.
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "300",
            "AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT": "330",
        }
    )
    if jwt_secret:
        # Signs the tokens tasks present to the Execution API. Without it Airflow
        # generates one into $AIRFLOW_HOME/airflow.cfg on first start, which every
        # process sharing this home reads; pass one when processes do not share it.
        env["AIRFLOW__API_AUTH__JWT_SECRET"] = jwt_secret
    return env


LOOPBACK = "127.0.0.1"
# The one-host components and their arguments. `--skip-serve-logs`: Airflow 3.3's log
# servers (scheduler, worker, triggerer) bind every interface whatever the API host
# (airflow/utils/serve_logs/core.py passes host=""), and on one host they are not needed:
# the API server reads the task logs from $AIRFLOW_HOME/logs itself.
LOCAL_COMPONENTS: dict[str, tuple[str, ...]] = {
    "api-server": ("api-server",),
    "scheduler": ("scheduler", "--skip-serve-logs"),
    "dag-processor": ("dag-processor",),
    "triggerer": ("triggerer", "--skip-serve-logs"),
}
HOSTNAME_ENV = "CJM_AIRFLOW_HOSTNAME"


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port free on ``host`` right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def worker_hostname() -> str:
    """``[core] hostname_callable`` for several workers on one host: each names itself.

    Task instances record the hostname of the worker that ran them; two Celery workers
    on one machine would both report its FQDN. Unset, this is Airflow's own default.
    """
    return os.environ.get(HOSTNAME_ENV) or socket.getfqdn()


def server_env(
    env: Mapping[str, str],
    *,
    api_port: int,
    executor: str = "LocalExecutor",
    parallelism: int | None = None,
) -> dict[str, str]:
    """``env`` plus what running Airflow's servers on this host needs.

    Every server on 127.0.0.1 (the API server; the log servers are not started, see
    LOCAL_COMPONENTS), the Execution API URL that tasks call following the API port
    (a moved port without it leaves every task hanging), and parallelism sized to the
    machine's cores instead of Airflow's 32 worker processes.
    """
    cores = parallelism or os.cpu_count() or 1
    out = dict(env)
    out.update(
        {
            "AIRFLOW__CORE__EXECUTOR": executor,
            "AIRFLOW__CORE__PARALLELISM": str(cores),
            "AIRFLOW__API__HOST": LOOPBACK,
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__BASE_URL": f"http://{LOOPBACK}:{api_port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{LOOPBACK}:{api_port}/execution/",
            # Workers call back to these; nothing should listen on their defaults.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "cjm.airflow_env.worker_hostname",
            # Tasks call the API server for their every state change; its 5 s default
            # fails tasks before they start when the machine is busy (seen at load 12
            # on 2 cores: list_sources failed with a ReadTimeout, nothing extracted).
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
        }
    )
    return out


@dataclass
class Component:
    """One Airflow component running as its own process (and process group)."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] = field(repr=False)

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def start_component(
    name: str, args: Sequence[str], env: Mapping[str, str], log_dir: str | Path
) -> Component:
    """Start ``airflow <args>`` in a new session so :func:`stop_components` can end
    the whole tree (api-server and Celery fork their own children)."""
    log_path = Path(log_dir) / f"{name}.log"
    log = log_path.open("ab")
    proc = subprocess.Popen(
        [airflow_executable(), *args],
        env=dict(env),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    return Component(name, proc, log_path, log)


def descendants(roots: Sequence[int]) -> set[int]:
    """Every live process below ``roots`` (from /proc's parent links). Task supervisors
    start sessions of their own, so a process group does not reach them."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        parents[int(text.split(" ", 1)[0])] = int(text.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = set(roots)
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


def stop_components(components: Sequence[Component], timeout: float = 30) -> None:
    """SIGTERM each component's process group, then SIGKILL what is left of it and of
    every process it started."""
    children = descendants([c.proc.pid for c in components])
    for comp in components:
        if comp.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(comp.proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for comp in components:
        with contextlib.suppress(subprocess.TimeoutExpired):
            comp.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        # children (task processes, API server workers) may outlive the leader
        with contextlib.suppress(ProcessLookupError):
            os.killpg(comp.proc.pid, signal.SIGKILL)
        comp.proc.wait()
        comp._log.close()
    for pid in children:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


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
    settings: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> dict[str, str]:
    """Create (or upgrade) the metadata DB and the warehouse pool; return the env.

    ``settings`` are applied over the isolated env (e.g. a PostgreSQL
    ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN``), unlike ``base``'s AIRFLOW__ variables.

    The pool is not needed by `airflow dags test`, which runs tasks in-process one
    at a time, but the scheduler never queues a task whose pool does not exist.
    """
    home = Path(home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    env = {**airflow_env(home, dags_folder=dags_folder, base=base), **(settings or {})}
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


def serve(
    home: str | Path,
    *,
    api_port: int = 8080,
    settings: Mapping[str, str] | None = None,
    poll_seconds: float = 1.0,
) -> int:
    """Airflow on this machine, as `make airflow` starts it: LocalExecutor, SQLite.

    What `airflow standalone` does, without its failures here: it looks up `airflow` on
    PATH for each component (absent when the venv is not activated) and keeps running
    when they die, starts 32 task processes whatever the cores, binds its log servers to
    every interface, and a moved API port leaves tasks calling the old one. Here every
    component is this venv's `airflow`, the env comes from :func:`server_env`, and when
    one component exits the others are stopped and its exit code returned.
    """
    home = Path(home).resolve()
    env = server_env(prepare_airflow_home(home, settings=settings), api_port=api_port)
    logs = home / "component_logs"
    logs.mkdir(parents=True, exist_ok=True)
    components = [start_component(n, a, env, logs) for n, a in LOCAL_COMPONENTS.items()]
    stopping = False

    def _stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    passwords = home / "simple_auth_manager_passwords.json.generated"
    print(
        f"Airflow on http://{LOOPBACK}:{api_port} (AIRFLOW_HOME={home}); log in as admin "
        f"with the password in {passwords} (written on the API server's first start).\n"
        f"Component logs: {logs}/. Ctrl-C stops every component.",
        flush=True,
    )
    try:
        while not stopping:
            exited = [c for c in components if c.proc.poll() is not None]
            if exited:
                comp = exited[0]
                print(
                    f"airflow {comp.name} exited {comp.proc.returncode}; stopping the others. "
                    f"Last lines of {comp.log_path}:\n{comp.log_tail()}",
                    file=sys.stderr,
                    flush=True,
                )
                return comp.proc.returncode or 1
            time.sleep(poll_seconds)
        return 0
    finally:
        stop_components(components)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    """`python -m cjm.airflow_env [HOME]`: prepare HOME, print the `export` lines that
    select it. `python -m cjm.airflow_env serve [--home HOME] [--port N]`: run Airflow."""
    import argparse

    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["serve"]:
        parser = argparse.ArgumentParser(prog="python -m cjm.airflow_env serve")
        parser.add_argument("--home", default=str(PROJECT_ROOT / ".airflow"))
        parser.add_argument("--port", type=int, default=8080, help="the API server's port")
        opts = parser.parse_args(args[1:])
        return serve(opts.home, api_port=opts.port)
    home = Path(args[0] if args else PROJECT_ROOT / ".airflow")
    env = prepare_airflow_home(home)
    for key in sorted(env):
        if key.startswith("AIRFLOW") or key in ("DO_NOT_TRACK", "SCARF_NO_ANALYTICS", "PATH"):
            print(f"export {key}={shlex.quote(env[key])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
