"""
### cjm_refresh — brand mentions + CRM events → Customer Journey Map marts

One refresh of the CJM warehouse, the same steps `cjm run` performs without a
scheduler (each task calls one function of `cjm.tasks`):

1. **list_sources** — enabled sources from the config (`CJM_CONFIG`).
2. **ingest.extract / ingest.validate** — one mapped pair per source: extract
   writes that source's landing Parquet for this run, Great Expectations splits
   it into passed and quarantined rows. A failing source fails only its own
   mapped instances; the other sources carry on.
3. **load** — runs once every source has finished (`all_done`) and loads
   whatever validated manifests this run produced into DuckDB.
4. **dbt** — the dbt project rendered by astronomer-cosmos, one task per
   model (`dbt build --select <model>`: the model, then its tests).
5. **publish** — swaps the BI copy (`data/bi/marts.duckdb` + Parquet) in
   atomically and updates the `cjm.bi.marts.*` assets, so DAGs such as
   `cjm_alerts` can be scheduled on fresh marts instead of on a clock.
6. **report** — writes the HTML report of the published copy (one page per
   brand, `data/report/` or `report.dir`), the page the alerts link to.
7. **check_sources** — fails the run if any source was not loaded, so a
   partial refresh is published but never reported as a clean success;
   **check_publish** does the same for a publish target that failed.
8. **check_freshness** — each source's last load against its limit
   (`alerts.operations`); stale sources are listed in the task's result and sent to
   the `alerts.notify` targets.

A failed run (any task) and a late run (not finished `alerts.operations.
late_after_minutes` after it was queued: an Airflow deadline alert) notify the same
targets as spike alerts: cjm/alerts/notifier.py.

Every task is idempotent: a retry or a re-run of the same run_id leaves the
warehouse as one clean run would. Environment: `CJM_CONFIG`, `CJM_WAREHOUSE`,
`CJM_DBT_PROJECT_DIR`, `CJM_REFRESH_SCHEDULE` (cron or preset; `none` for
manual only), `CJM_REFRESH_RETRIES`, `CJM_DBT_TASKS` (`model`: a task per dbt model,
the default; `project`: one `dbt build` task).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import Asset, TriggerRule, dag, get_current_context, task, task_group
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

from cjm.alerts.notifier import RefreshFailedNotifier, refresh_deadline
from cjm.core.paths import dbt_project_dir
from cjm.refresh.dbt import dbt_executable
from cjm.refresh.marts import MART_TABLES
from cjm.refresh.scheduling import WAREHOUSE_POOL, warehouse_queue

# Paths only: reading environment variables here is cheap and does no I/O. They are
# made absolute because tasks run with an unpredictable working directory and the
# committed dbt profile needs an absolute DuckDB path.
REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_PATH = str(Path(os.environ.get("CJM_CONFIG", REPO_ROOT / "config" / "cjm.yml")).resolve())
WAREHOUSE = str(
    Path(os.environ.get("CJM_WAREHOUSE", REPO_ROOT / "data" / "warehouse.duckdb")).resolve()
)
DBT_PROJECT_DIR = dbt_project_dir()  # CJM_DBT_PROJECT_DIR, else the shipped project


def _schedule() -> str | None:
    value = os.environ.get("CJM_REFRESH_SCHEDULE", "@hourly").strip()
    return None if value.lower() in ("", "none") else value


# DuckDB allows a single writer *process* per database file. load, every dbt model
# task and publish all open the warehouse, and under LocalExecutor/Celery several
# Cosmos model tasks would otherwise run at once and fail with "Could not set lock
# on file". A pool with one slot serialises every warehouse writer, also across
# DAGs (cjm_alerts writes ops.alerts). Create it once per Airflow installation:
#     airflow pools set cjm_warehouse 1 "single DuckDB writer"
# (`cjm.airflow_env.prepare_airflow_home` does this; `airflow dags test` runs tasks
# one at a time in-process and does not need it). Extract and validate work on
# landing files (extract only peeks at its cursor read-only, retrying while a writer
# holds the lock), so they stay outside the pool and run in parallel.
# The pool and the writers' queue: cjm/refresh/scheduling.py.
WAREHOUSE_QUEUE = warehouse_queue()
# `model` (default): one Airflow task per dbt model through Cosmos; `project`: one
# `dbt build` task for the whole project (CJM_DBT_TASKS).
DBT_TASKS = os.environ.get("CJM_DBT_TASKS", "model").strip().lower()
if DBT_TASKS not in ("model", "project"):
    raise ValueError(f"CJM_DBT_TASKS={DBT_TASKS!r}: use model or project")

# What readers consume: the BI copy, swapped in whole by publish. Downstream DAGs
# schedule on these (or on `Asset.ref(name=...)`), never on the dbt tables being
# rebuilt, so they only ever see a finished refresh.
BI_MART_ASSETS = [
    Asset(name=f"cjm.bi.marts.{table}", uri=f"duckdb://cjm/bi/marts/{table}", group="cjm")
    for table in MART_TABLES
]


def _run_id() -> str:
    """The Airflow dag run's run_id: names this run's landing files and batches."""
    return str(get_current_context()["run_id"])


@dag(
    dag_id="cjm_refresh",
    schedule=_schedule(),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    # Runs share landing/ and the warehouse; overlapping runs would only queue on the pool.
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=2),
    # Operators hear of a failed run once (not once per failed task) and of a late one.
    on_failure_callback=RefreshFailedNotifier(CONFIG_PATH),
    deadline=refresh_deadline(CONFIG_PATH),
    tags=["cjm", "warehouse", "dbt"],
    doc_md=__doc__,
    default_args={
        "owner": "cjm",
        "retries": int(os.environ.get("CJM_REFRESH_RETRIES", "2")),
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(minutes=45),
    },
)
def cjm_refresh() -> None:
    @task
    def list_sources() -> list[str]:
        from cjm.refresh import tasks

        return tasks.list_sources(CONFIG_PATH)

    @task_group(group_id="ingest")
    def ingest(source_name: str) -> None:
        """One source's extract → validate; a mapped group so each validate waits only
        for its own extract and a failure stays inside its source."""

        @task
        def extract(source_name: str) -> dict[str, Any]:
            from cjm.refresh import tasks

            return tasks.extract(source_name, _run_id(), CONFIG_PATH, WAREHOUSE)

        @task
        def validate(source_name: str) -> dict[str, Any]:
            from cjm.refresh import tasks

            return tasks.validate(source_name, _run_id(), CONFIG_PATH, WAREHOUSE)

        extract(source_name) >> validate(source_name)

    @task(trigger_rule=TriggerRule.ALL_DONE, pool=WAREHOUSE_POOL, queue=WAREHOUSE_QUEUE)
    def load() -> dict[str, Any]:
        from cjm.refresh import tasks

        return tasks.load(_run_id(), CONFIG_PATH, WAREHOUSE)

    if DBT_TASKS == "project":
        # One task running `dbt build` over the whole project: no per-model logs and
        # retries, but one dbt start-up instead of ~60 (each 20-60 s of parsing on a
        # busy 2-core machine, as a Celery task process).
        @task(pool=WAREHOUSE_POOL, queue=WAREHOUSE_QUEUE, task_id="dbt_build")
        def dbt_build() -> dict[str, Any]:
            from cjm.refresh import tasks

            return tasks.build_marts(WAREHOUSE, run_id=_run_id())

        dbt = dbt_build()
    else:
        # One Airflow task per dbt model/seed (~55 here): per-model logs, retries and
        # durations in the UI. The price, measured with `airflow dags test` on the test
        # fixture: ~75 s for the group vs ~10-25 s for one `dbt build` of the project, since
        # the pool runs the tasks one after another and each pays dbt's start-up.
        dbt = DbtTaskGroup(
            group_id="dbt",
            project_config=ProjectConfig(
                DBT_PROJECT_DIR,
                # No dbt packages to install, and `dbt deps` would need the network.
                install_dbt_deps=False,
                env_vars={"CJM_WAREHOUSE": WAREHOUSE},
            ),
            profile_config=ProfileConfig(
                profile_name="cjm",
                target_name="dev",
                profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml",
            ),
            execution_config=ExecutionConfig(
                execution_mode=ExecutionMode.LOCAL,
                # dbtRunner in the task process: no second Python start-up per model
                # (measured under `dags test`: ~1.3 s per model task vs ~6 s as a subprocess).
                invocation_mode=InvocationMode.DBT_RUNNER,
                # Cosmos checks that a dbt executable exists even with the in-process runner.
                dbt_executable_path=dbt_executable(),
            ),
            render_config=RenderConfig(
                # dbt ls renders the graph; Cosmos caches its output keyed on a hash of the
                # project files, so DAG parsing re-runs dbt only after the project changes.
                load_method=LoadMode.DBT_LS,
                invocation_mode=InvocationMode.DBT_RUNNER,
                # One task per model running `dbt build --select <model>`: the model and
                # its tests in one invocation (half the tasks of AFTER_EACH).
                test_behavior=TestBehavior.BUILD,
                # A test spanning two models (relationships, cross-mart checks) would run
                # inside the first parent's build, before the other parent exists; render
                # it as its own task after all its parents instead.
                should_detach_multiple_parents_tests=True,
                # publish emits the assets readers depend on; per-model assets of tables
                # that are being rebuilt would invite consumers to read half a refresh.
                emit_datasets=False,
            ),
            operator_args={
                "queue": WAREHOUSE_QUEUE,
                "pool": WAREHOUSE_POOL,
                # dbt-duckdb keeps the warehouse open in the process that ran dbt in-process;
                # release it so later tasks in the same process (`airflow dags test`) can open it.
                "callback": "cjm.airflow_env.release_dbt_duckdb",
            },
        )

    @task(pool=WAREHOUSE_POOL, queue=WAREHOUSE_QUEUE, outlets=BI_MART_ASSETS)
    def publish() -> dict[str, Any]:
        from cjm.refresh import tasks

        return tasks.publish(CONFIG_PATH, WAREHOUSE)

    @task
    def report() -> dict[str, Any]:
        from cjm.refresh import tasks

        return tasks.report(CONFIG_PATH, WAREHOUSE)

    @task(trigger_rule=TriggerRule.ALL_DONE, retries=0)
    def check_sources(load_report: dict[str, Any]) -> None:
        """Fail the run when a source did not make it into the warehouse.

        load runs on `all_done` and carries on past a bad batch, so without this
        leaf a refresh with a broken source would still end green (Airflow judges
        a run by its leaf tasks). It hangs off load only, not publish: downstream of
        publish it would hide a failed dbt build or publish behind its own success.
        """
        from cjm.refresh import tasks

        failed = load_report.get("failed") or {}
        if failed:
            detail = "; ".join(f"{name}: {why}" for name, why in sorted(failed.items()))
            raise tasks.SourcesFailed(f"{len(failed)} source(s) not loaded: {detail}")

    @task(retries=0)
    def check_publish(published: dict[str, Any]) -> None:
        """Fail the run when a publish target failed (e.g. PostgreSQL unreachable). The
        other targets published and the assets were updated, so alerts still run on
        fresh marts; this leaf keeps a BI target left on the previous refresh visible."""
        failed = published.get("failed") or {}
        if failed:
            detail = "; ".join(f"publish.{t}: {why}" for t, why in sorted(failed.items()))
            raise RuntimeError(f"{len(failed)} publish target(s) failed: {detail}")

    @task(trigger_rule=TriggerRule.ALL_DONE, pool=WAREHOUSE_POOL, queue=WAREHOUSE_QUEUE)
    def check_freshness() -> dict[str, Any]:
        """Report stale sources (and alert the operators) on every run, even one whose
        load failed: a source that quietly returns nothing fails no task."""
        from cjm.refresh.freshness import check_freshness

        return check_freshness(_run_id(), CONFIG_PATH, WAREHOUSE)

    sources = list_sources()
    ingested = ingest.expand(source_name=sources)
    loaded = load()
    published = publish()
    ingested >> loaded >> dbt >> published >> report()
    check_publish(published)
    check_sources(loaded)
    loaded >> check_freshness()


cjm_refresh()
