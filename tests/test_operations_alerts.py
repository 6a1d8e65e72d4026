"""Operations alerts: a failed or late refresh and stale sources reach the spike targets.

The failure path runs through Airflow for real: `airflow dags test` of a small DAG
whose two tasks fail and whose `on_failure_callback` is the notifier cjm_refresh uses;
the message goes to a webhook target served by a local HTTP server (pytest-httpserver),
its connection given as an `AIRFLOW_CONN_*` variable as in production. One failed run
with two failed tasks must send exactly one message. The late-run callback (what
Airflow's triggerer awaits on a missed deadline) and the freshness check over a real
DuckDB warehouse send to the same server.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from cjm.airflow_env import run_dag_test
from cjm.alerts.notifier import refresh_deadline, refresh_late
from cjm.core.warehouse import open_warehouse
from cjm.refresh.freshness import check_freshness, describe
from tests.airflow_fixtures import FIXTURE_CONFIG, AirflowHome, airflow_home

__all__ = ["airflow_home"]  # re-exported so pytest finds the fixture

ENDPOINT = "/hooks/ops"

FAILING_DAG = """
import os
import pendulum
from airflow.sdk import dag, task
from cjm.alerts.notifier import RefreshFailedNotifier


@dag(
    dag_id="ops_alert_probe",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    on_failure_callback=RefreshFailedNotifier(os.environ["CJM_CONFIG"]),
    default_args={"retries": 0},
)
def probe():
    @task
    def extract_a():
        raise RuntimeError("source a is down")

    @task
    def extract_b():
        raise RuntimeError("source b is down")

    extract_a()
    extract_b()


probe()
"""


def _write_config(folder: Path, operations: str = "") -> Path:
    """The fixture config with one webhook target (and `operations` under alerts)."""
    alerts = (
        "alerts:\n"
        "  notify:\n"
        "    - {type: webhook, airflow_conn: ops_hook, endpoint: hooks/ops, language: en}\n"
        "  delivery_attempts: 1\n" + operations
    )
    text = FIXTURE_CONFIG.read_text(encoding="utf-8").replace("alerts:\n", alerts, 1)
    path = folder / "config.yml"
    path.write_text(text, encoding="utf-8")
    for name in ("mentions.csv", "media.jsonl", "crm_events.csv"):
        (folder / name).write_bytes((FIXTURE_CONFIG.parent / name).read_bytes())
    return path


def _conn(httpserver: HTTPServer) -> str:
    return json.dumps({"conn_type": "http", "host": httpserver.url_for("/").rstrip("/")})


def _received(httpserver: HTTPServer) -> list[dict[str, Any]]:
    return [json.loads(req.data) for req, _ in httpserver.log if req.path == ENDPOINT]


@pytest.mark.integration
def test_a_failed_run_sends_one_message(
    airflow_home: AirflowHome, httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_request(ENDPOINT, method="POST").respond_with_data("ok")
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "ops_alert_probe.py").write_text(FAILING_DAG, encoding="utf-8")
    env = airflow_home.with_env(
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        CJM_CONFIG=str(_write_config(tmp_path)),
        AIRFLOW_CONN_OPS_HOOK=_conn(httpserver),
    )
    code, seconds, output = run_dag_test("ops_alert_probe", env, timeout=600)
    print(f"airflow dags test ops_alert_probe: exit {code} in {seconds:.1f} s")
    assert code != 0, output[-3000:]  # the run failed ...
    messages = _received(httpserver)
    # ... and the operators heard of it once, though two tasks failed
    assert len(messages) == 1, (messages, output[-3000:])
    (body,) = messages
    assert body["kind"] == "refresh_failed"
    assert body["dag_id"] == "ops_alert_probe"
    assert body["run_id"].startswith("manual__")
    assert body["failed_task"] in ("extract_a", "extract_b")
    assert body["alert_id"] == f"refresh_failed:ops_alert_probe:{body['run_id']}"
    assert body["text"].startswith("CJM refresh failed")


def test_a_late_run_sends_one_message(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request(ENDPOINT, method="POST").respond_with_data("ok")
    monkeypatch.setenv("AIRFLOW_CONN_OPS_HOOK", _conn(httpserver))
    config = _write_config(tmp_path, "  operations: {late_after_minutes: 45}\n")
    deadline = refresh_deadline(str(config))
    assert deadline.interval == timedelta(minutes=45)
    assert deadline.reference.reference_name == "DagRunQueuedAtDeadline"
    # What the triggerer awaits: the callback's kwargs plus the scheduler's simple context.
    context = {"dag_run": {"dag_id": "cjm_refresh", "dag_run_id": "scheduled__2026-12-01"}}
    asyncio.run(refresh_late(**deadline.callback.kwargs, context=context))
    (body,) = _received(httpserver)
    assert body["kind"] == "refresh_late" and body["late_minutes"] == 45
    assert body["run_id"] == "scheduled__2026-12-01"
    assert "not finished 45 min after it was queued" in body["text"]


def test_lateness_alert_can_be_switched_off(tmp_path: Path) -> None:
    config = _write_config(tmp_path, "  operations: {late_after_minutes: null}\n")
    assert refresh_deadline(str(config)) is None


def test_an_airflow_dags_test_run_gets_no_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`airflow dags test` has no triggerer, and Airflow 3.3.2 fails such a run of a DAG
    with a deadline: the DAG parsed there carries none, any other parse keeps it."""
    config = _write_config(tmp_path, "")
    monkeypatch.setattr("sys.argv", ["/venv/bin/airflow", "dags", "test", "cjm_refresh"])
    assert refresh_deadline(str(config)) is None
    monkeypatch.setattr("sys.argv", ["/venv/bin/airflow", "dag-processor"])
    assert refresh_deadline(str(config)) is not None


def _loaded(warehouse: Path, source: str, at: datetime) -> None:
    with open_warehouse(warehouse) as con:
        con.execute(
            """insert into ops.validation_runs (run_id, entity, source, rows_extracted,
                   rows_duplicate, rows_in, rows_passed, rows_quarantined, success,
                   validated_at, loaded_at)
               values (?, 'mention', ?, 1, 0, 1, 1, 0, true, ?, ?)""",
            [f"run-{source}-{at:%H}", source, at, at],
        )


def test_freshness_reports_and_alerts_stale_sources(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request(ENDPOINT, method="POST").respond_with_data("ok")
    monkeypatch.setenv("AIRFLOW_CONN_OPS_HOOK", _conn(httpserver))
    config = _write_config(
        tmp_path, "  operations: {source_max_age_hours: 24, sources: {crm: 72}}\n"
    )
    warehouse = tmp_path / "warehouse.duckdb"
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    _loaded(warehouse, "listening", now - timedelta(hours=30))  # over 24 h: stale
    _loaded(warehouse, "listening", now - timedelta(hours=50))  # older batch: ignored
    _loaded(warehouse, "crm", now - timedelta(hours=30))  # within its own 72 h
    # media never loaded: stale
    result = check_freshness("run-1", str(config), str(warehouse), now=now)
    assert result["stale"] == ["listening", "media"]
    assert result["sources"]["listening"] == {
        "hours_since_load": 30.0,
        "max_age_hours": 24.0,
        "stale": True,
    }
    assert result["sources"]["crm"]["stale"] is False
    assert result["sources"]["media"]["hours_since_load"] is None
    assert result["notified"] == {"webhook:ops_hook": True}
    (body,) = _received(httpserver)
    assert body["kind"] == "sources_stale"
    assert set(body["stale_sources"]) == {"listening", "media"}
    assert "listening: last loaded 30.0 h ago, limit 24 h" in body["text"]
    assert "media: last loaded never" in body["text"]


def test_a_run_with_alerts_off_reports_stale_sources_without_sending(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cjm run` with its alerts switched off (notify=False) still says what is stale."""
    monkeypatch.setenv("AIRFLOW_CONN_OPS_HOOK", _conn(httpserver))
    config = _write_config(tmp_path, "  operations: {source_max_age_hours: 24}\n")
    warehouse = tmp_path / "warehouse.duckdb"
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    _loaded(warehouse, "listening", now - timedelta(hours=30))
    _loaded(warehouse, "crm", now - timedelta(hours=2))
    result = check_freshness("run-3", str(config), str(warehouse), now=now, notify=False)
    assert result["stale"] == ["listening", "media"] and result["notified"] == {}
    assert _received(httpserver) == []
    assert describe(result) == "STALE: listening (30 h > 24 h), media (never loaded)"
    _loaded(warehouse, "listening", now - timedelta(hours=1))
    _loaded(warehouse, "media", now - timedelta(hours=1))
    fresh = check_freshness("run-4", str(config), str(warehouse), now=now, notify=False)
    assert describe(fresh) == "3 source(s) fresh"


def test_fresh_sources_send_nothing(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_OPS_HOOK", _conn(httpserver))
    config = _write_config(tmp_path)
    warehouse = tmp_path / "warehouse.duckdb"
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    for source in ("listening", "media", "crm"):
        _loaded(warehouse, source, now - timedelta(hours=1))
    result = check_freshness("run-2", str(config), str(warehouse), now=now)
    assert result["stale"] == [] and result["notified"] == {}
    assert _received(httpserver) == []


def test_unknown_source_in_operations_is_one_clear_error(tmp_path: Path) -> None:
    from cjm.core.config import ConfigError, load_config

    config = _write_config(tmp_path, "  operations: {sources: {nope: 5}}\n")
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert "alerts.operations.sources: ['nope'] are not sources" in str(err.value.errors)
