"""A real Airflow run of cjm_refresh on the small fixture config.

`airflow dags test` (a child process, SQLite metadata DB in a temp AIRFLOW_HOME)
runs every task for real — mapped extract/validate per source, load, each dbt
model through Cosmos, publish — then the warehouse it wrote is checked: rows
landed in raw and ops, every BI mart has rows, and the batch counts reconcile.
A second run adds a source with a broken column mapping: only its own mapped
tasks fail, the other sources are still loaded and published, and the run is
reported failed. These prove the DAG wiring, not the transformations
(tests/dbt and tests/test_pipeline.py cover those).
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import duckdb
import pytest

from cjm.airflow_env import run_dag_test
from cjm.refresh.marts import MART_TABLES
from tests.airflow_fixtures import FIXTURE_CONFIG, AirflowHome, airflow_home

__all__ = ["airflow_home"]  # re-exported so pytest finds the fixture

MARTS = MART_TABLES
# Generous: ~2 min on an idle 2-core machine, several times that when it is busy.
TIMEOUT_SECONDS = 1200


@pytest.fixture(scope="module")
def refresh_run(
    airflow_home: AirflowHome, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """Run cjm_refresh once; return (warehouse path, dags-test log path)."""
    work = tmp_path_factory.mktemp("cjm_refresh_run")
    warehouse = work / "warehouse.duckdb"
    env = airflow_home.with_env(
        CJM_WAREHOUSE=str(warehouse),
        # A failing task is retried after minutes (the DAG's retry_delay); `dags test`
        # would sit through them. Here a failure should fail the test at once.
        CJM_REFRESH_RETRIES="0",
    )
    log = work / "dags_test.log"
    code, seconds, output = run_dag_test("cjm_refresh", env, timeout=TIMEOUT_SECONDS, log_path=log)
    print(f"airflow dags test cjm_refresh: exit {code} in {seconds:.1f} s (log: {log})")
    assert code == 0, f"dags test exited {code}; last lines:\n" + "\n".join(
        output.splitlines()[-60:]
    )
    return warehouse, log


@pytest.mark.integration
def test_refresh_fills_raw_ops_and_every_mart(refresh_run: tuple[Path, Path]) -> None:
    warehouse, _ = refresh_run
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        counts = {
            table: con.execute(f"select count(*) from {table}").fetchone()[0]
            for table in (
                "raw.mentions",
                "raw.crm_events",
                "ops.validation_runs",
                *(f"marts.{m}" for m in MARTS),
            )
        }
    finally:
        con.close()
    empty = sorted(table for table, n in counts.items() if n == 0)
    assert not empty, f"empty after the refresh: {empty} (counts: {counts})"


@pytest.mark.integration
def test_validation_counts_reconcile(refresh_run: tuple[Path, Path]) -> None:
    warehouse, _ = refresh_run
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select source, rows_extracted, rows_duplicate, rows_in, rows_passed, "
            "rows_quarantined from ops.validation_runs"
        ).fetchall()
    finally:
        con.close()
    # One batch per enabled source of tests/fixtures/config.yml.
    assert {r[0] for r in rows} == {"listening", "media", "crm"}
    for source, extracted, duplicate, rows_in, passed, quarantined in rows:
        assert rows_in == passed + quarantined, source
        assert extracted == rows_in + duplicate, source


@pytest.mark.integration
def test_publish_wrote_the_bi_copy_and_asset_events(
    refresh_run: tuple[Path, Path], airflow_home: AirflowHome
) -> None:
    warehouse, _ = refresh_run
    bi = warehouse.parent / "bi" / "marts.duckdb"
    assert bi.exists()
    con = duckdb.connect(str(bi), read_only=True)
    try:
        tables = con.execute("select table_name from information_schema.tables").fetchall()
        published = {r[0] for r in tables}
    finally:
        con.close()
    assert set(MARTS) <= published
    # Downstream DAGs are scheduled on these asset events.
    db = sqlite3.connect(airflow_home.home / "airflow.db")
    try:
        uris = {
            r[0]
            for r in db.execute("select a.uri from asset_event e join asset a on a.id = e.asset_id")
        }
    finally:
        db.close()
    assert {f"duckdb://cjm/bi/marts/{m}" for m in MARTS} <= uris


@pytest.fixture(scope="module")
def broken_source_run(
    airflow_home: AirflowHome, tmp_path_factory: pytest.TempPathFactory
) -> tuple[int, Path, dict[tuple[str, int], str]]:
    """The fixture config plus a source whose column mapping names a missing column."""
    work = tmp_path_factory.mktemp("cjm_refresh_broken")
    for name in ("mentions.csv", "media.jsonl", "crm_events.csv"):
        shutil.copy(FIXTURE_CONFIG.parent / name, work / name)
    broken = (
        "  - name: broken\n"
        "    type: file\n"
        "    entity: mention\n"
        "    path: mentions.csv\n"
        "    columns: {native_id: no_such_column, text: body, published_at: date}\n"
        "alerts:"
    )
    config = FIXTURE_CONFIG.read_text(encoding="utf-8").replace("alerts:", broken, 1)
    (work / "config.yml").write_text(config, encoding="utf-8")
    warehouse = work / "warehouse.duckdb"
    env = airflow_home.with_env(
        CJM_CONFIG=str(work / "config.yml"),
        CJM_WAREHOUSE=str(warehouse),
        CJM_REFRESH_RETRIES="0",
    )
    code, seconds, _ = run_dag_test(
        "cjm_refresh", env, timeout=TIMEOUT_SECONDS, log_path=work / "dags_test.log"
    )
    print(f"airflow dags test cjm_refresh (broken source): exit {code} in {seconds:.1f} s")
    db = sqlite3.connect(airflow_home.home / "airflow.db")
    try:
        (run_id,) = db.execute(
            "select run_id from dag_run where dag_id = 'cjm_refresh' order by id desc limit 1"
        ).fetchone()
        states = {
            (task_id, map_index): state
            for task_id, map_index, state in db.execute(
                "select task_id, map_index, state from task_instance "
                "where dag_id = 'cjm_refresh' and run_id = ?",
                [run_id],
            )
        }
    finally:
        db.close()
    return code, warehouse, states


@pytest.mark.integration
def test_a_failing_source_fails_only_itself_and_the_run(
    broken_source_run: tuple[int, Path, dict[tuple[str, int], str]],
) -> None:
    code, warehouse, states = broken_source_run
    assert code != 0  # the run is reported failed (check_sources) ...
    extract = sorted(s for (t, _), s in states.items() if t == "ingest.extract")
    validate = sorted(s for (t, _), s in states.items() if t == "ingest.validate")
    assert extract == ["failed", "success", "success", "success"]
    assert validate == ["success", "success", "success", "upstream_failed"]
    # ... but the healthy sources were loaded, modelled and published.
    assert states[("load", -1)] == "success"
    assert states[("publish", -1)] == "success"
    assert states[("check_sources", -1)] == "failed"
    dbt_states = {s for (t, _), s in states.items() if t.startswith("dbt.")}
    assert dbt_states == {"success"}
    assert (warehouse.parent / "bi" / "marts.duckdb").exists()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        loaded = {r[0] for r in con.execute("select source from ops.validation_runs").fetchall()}
    finally:
        con.close()
    assert loaded == {"listening", "media", "crm"}
