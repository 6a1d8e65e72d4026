"""The team topology of docker-compose.yml, run natively: Airflow 3 with CeleryExecutor.

PostgreSQL (the session's own server, tests/pg_server.py) is the metadata DB and the
Celery result backend, a redis-server started here on a free loopback port is the
broker, and scheduler, dag-processor, api-server, triggerer and two Celery workers run
as separate processes. cjm_refresh is triggered through the REST API on the small
fixture config and polled to success; its extract tasks must have run on both workers
(task instances' `hostname`), and cjm_alerts must then run on the asset event publish
emitted. One cluster per module; every process is stopped at the end, and a failure
message carries the tail of each component's log.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from cjm.airflow_env import (
    HOSTNAME_ENV,
    LOCAL_COMPONENTS,
    Component,
    free_port,
    prepare_airflow_home,
    server_env,
    start_component,
    stop_components,
)
from tests.airflow_fixtures import FIXTURE_CONFIG

pytestmark = pytest.mark.integration

WORKERS = ("worker-a", "worker-b")
# Generous: ~12 Celery tasks, the writers serialised by the warehouse pool; a few
# minutes on an idle 2-core machine, several times that when it is shared.
RUN_TIMEOUT = 1500
START_TIMEOUT = 240


@dataclass
class Cluster:
    api: str
    token: str
    components: list[Component] = field(default_factory=list)

    def logs(self) -> str:
        parts = []
        for comp in self.components:
            state = "running" if comp.proc.poll() is None else f"exited {comp.proc.returncode}"
            parts.append(f"--- {comp.name} ({state}) ---\n{comp.log_tail()}")
        return "\n".join(parts)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.api}{path}", data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")


def _wait_for(what: str, check: Any, timeout: float, cluster_logs: Any) -> Any:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:  # not up yet: connection refused, 404 before parsing
            last = exc
        time.sleep(2)
    raise AssertionError(f"timed out waiting for {what} (last error: {last})\n{cluster_logs()}")


def _start_redis(root: Path) -> tuple[subprocess.Popen[bytes], int]:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    log = (root / "redis.log").open("ab")
    proc = subprocess.Popen(
        [
            binary,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", str(root),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    return proc, port


@pytest.fixture(scope="module")
def cluster(postgres_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("celery_cluster")
    logs = root / "logs"
    logs.mkdir()
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as con:
        con.execute("create database airflow_celery")
    db = postgres_server.dsn("airflow_celery").replace("postgresql://", "postgresql+psycopg://")
    redis, redis_port = _start_redis(root)
    work = root / "warehouse"
    work.mkdir()
    for name in ("mentions.csv", "media.jsonl", "crm_events.csv"):
        shutil.copy(FIXTURE_CONFIG.parent / name, work / name)
    shutil.copy(FIXTURE_CONFIG, work / "config.yml")
    settings = {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db,
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{db}",
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        # Signs the tokens tasks present to the Execution API, the same in every process.
        "AIRFLOW__API_AUTH__JWT_SECRET": "celery-cluster-test-secret",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        # Parse each file once in the test's time, not every 30 s on a shared machine.
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
        # One task at a time per worker, and no task reserved ahead: the three extract
        # tasks queued together land on both workers instead of one worker's backlog.
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
        "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
        "CJM_CONFIG": str(work / "config.yml"),
        "CJM_WAREHOUSE": str(work / "warehouse.duckdb"),
        "CJM_CUSTOMER_KEY_SECRET": "test",
        "CJM_REFRESH_SCHEDULE": "none",  # only the run this test triggers
        "CJM_REFRESH_RETRIES": "0",
        # One `dbt build` task instead of ~60 Cosmos model tasks: each model task pays
        # dbt's 20-60 s start-up as its own Celery process (measured here on a busy
        # machine), and this test is about the topology, not the dbt wiring
        # (tests/test_airflow_refresh.py runs the per-model group).
        "CJM_DBT_TASKS": "project",
    }
    components: list[Component] = []
    cluster: Cluster | None = None
    try:
        env = prepare_airflow_home(root / "airflow_home", settings=settings)
        api_port = free_port()
        env = server_env(env, api_port=api_port, executor="CeleryExecutor")
        for name, args in LOCAL_COMPONENTS.items():
            components.append(start_component(name, args, env, logs))
        for worker in WORKERS:
            args = ("celery", "worker", "--celery-hostname", worker, "--skip-serve-logs")
            components.append(start_component(worker, args, {**env, HOSTNAME_ENV: worker}, logs))
        api = f"http://127.0.0.1:{api_port}"
        probe = Cluster(api=api, token="", components=components)

        def token() -> str:
            with urllib.request.urlopen(f"{api}/auth/token", timeout=10) as resp:
                return str(json.loads(resp.read())["access_token"])

        cluster = Cluster(
            api=api,
            token=_wait_for("the API", token, START_TIMEOUT, probe.logs),
            components=components,
        )
        yield cluster
    finally:
        stop_components(components)
        redis.terminate()
        try:
            redis.wait(timeout=10)
        except subprocess.TimeoutExpired:
            redis.kill()
            redis.wait()


@pytest.fixture(scope="module")
def refresh_run(cluster: Cluster) -> dict[str, Any]:
    """Trigger cjm_refresh through the REST API and poll it to an end state."""
    _wait_for(
        "cjm_refresh and cjm_alerts to be parsed",
        lambda: (
            cluster.call("GET", "/api/v2/dags/cjm_refresh")
            and cluster.call("GET", "/api/v2/dags/cjm_alerts")
        ),
        START_TIMEOUT,
        cluster.logs,
    )
    run = cluster.call("POST", "/api/v2/dags/cjm_refresh/dagRuns", {"logical_date": None})
    run_id = run["dag_run_id"]
    path = f"/api/v2/dags/cjm_refresh/dagRuns/{run_id}"
    final = _wait_for(
        f"cjm_refresh run {run_id} to finish",
        lambda: (r := cluster.call("GET", path))["state"] in ("success", "failed") and r,
        RUN_TIMEOUT,
        cluster.logs,
    )
    tis = cluster.call("GET", f"{path}/taskInstances?limit=1000")["task_instances"]
    return {"run": final, "task_instances": tis}


def test_refresh_succeeds_with_extracts_on_both_workers(
    cluster: Cluster, refresh_run: dict[str, Any]
) -> None:
    tis = refresh_run["task_instances"]
    states = {(t["task_id"], t["map_index"]): t["state"] for t in tis}
    assert refresh_run["run"]["state"] == "success", f"{states}\n{cluster.logs()}"
    extracts = [t for t in tis if t["task_id"] == "ingest.extract"]
    assert len(extracts) == 3  # listening, media, crm
    assert {t["hostname"] for t in extracts} == set(WORKERS), [
        (t["map_index"], t["hostname"]) for t in extracts
    ]
    # Every task ran on one of the two Celery workers, none in another process.
    assert {t["hostname"] for t in tis} <= set(WORKERS)
    assert {t["state"] for t in tis} == {"success"}
    done = {t["task_id"] for t in tis}
    assert {"load", "dbt_build", "publish", "check_freshness"} <= done, sorted(done)


def test_alerts_run_on_the_published_asset(cluster: Cluster, refresh_run: dict[str, Any]) -> None:
    assert refresh_run["run"]["state"] == "success"

    def alerts_done() -> dict[str, Any] | None:
        runs = cluster.call("GET", "/api/v2/dags/cjm_alerts/dagRuns")["dag_runs"]
        done = [r for r in runs if r["state"] in ("success", "failed")]
        return done[0] if done else None

    run = _wait_for("cjm_alerts to run on the asset event", alerts_done, 600, cluster.logs)
    assert run["run_type"] == "asset_triggered", run
    assert run["state"] == "success", cluster.logs()
    # The asset event publish emitted in this refresh created the alerts run.
    events = cluster.call("GET", "/api/v2/assets/events?source_dag_id=cjm_refresh&limit=200")
    spikes = [
        e
        for e in events["asset_events"]
        if e["uri"] == "duckdb://cjm/bi/marts/negative_spikes"
        and e["source_run_id"] == refresh_run["run"]["dag_run_id"]
    ]
    assert len(spikes) == 1, events
    assert spikes[0]["source_task_id"] == "publish"
    # ... and the alerts run (asset-triggered, checked above) started after it.
    emitted = datetime.fromisoformat(spikes[0]["timestamp"])
    assert datetime.fromisoformat(run["start_date"]) >= emitted, (run, spikes[0])
