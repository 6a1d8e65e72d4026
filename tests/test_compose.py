"""docker-compose.yml cannot run here (no docker engine): check it statically."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_services_of_the_team_setup_are_declared() -> None:
    services = _compose()["services"]
    for name in (
        "postgres",
        "redis",
        "airflow-init",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-worker",
        "airflow-warehouse-worker",
    ):
        assert name in services, name
    assert any("metabase" in s.get("image", "") for s in services.values())


def test_airflow_services_share_celery_and_postgres_settings() -> None:
    services = _compose()["services"]
    for name, svc in services.items():
        if not name.startswith("airflow"):
            continue
        env = svc["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql"), name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://"), name
        # secrets come from the environment (.env), never literals in the file
        assert "${" in env["CJM_CUSTOMER_KEY_SECRET"], name


def test_only_one_worker_writes_the_warehouse() -> None:
    services = _compose()["services"]
    writers = [n for n, s in services.items() if "--queues warehouse" in str(s.get("command"))]
    assert writers == ["airflow-warehouse-worker"]
    assert "--concurrency 1" in services["airflow-warehouse-worker"]["command"]


def test_dockerfile_installs_the_locked_requirements() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "requirements.lock" in text and "apache/airflow:3.3.2" in text


def test_metabase_reads_the_postgres_target_and_keeps_its_own_database() -> None:
    services = _compose()["services"]
    metabase = services["metabase"]
    env = metabase["environment"]
    # its application DB is the compose PostgreSQL (on the pg-data volume), not H2
    assert env["MB_DB_TYPE"] == "postgres" and env["MB_DB_HOST"] == "postgres"
    assert env["MB_DB_DBNAME"] == "metabase" and "${" in env["MB_DB_PASS"]
    assert metabase["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert not any("cjm-data" in v for v in metabase.get("volumes", [])), "no DuckDB driver"
    postgres = services["postgres"]
    assert "pg-data:/var/lib/postgresql/data" in postgres["volumes"]
    init = [v for v in postgres["volumes"] if v.endswith(":/docker-entrypoint-initdb.d:ro")]
    assert len(init) == 1
    folder = ROOT / init[0].split(":")[0]
    script = "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.sh")))
    for statement in (
        "create database metabase owner metabase",
        "create database cjm owner cjm_publisher",
        "create role cjm_reader login",
        "grant connect on database cjm to cjm_reader",
    ):
        assert statement in script, statement
    for name in ("CJM_PG_PASSWORD", "CJM_PG_READER_PASSWORD", "METABASE_DB_PASSWORD"):
        assert "${" in postgres["environment"][name], name


def test_the_warehouse_publishes_to_the_compose_postgres(monkeypatch) -> None:
    from cjm.core.config import load_config

    env = _compose()["x-airflow-common"]["environment"]
    assert "@postgres:5432/cjm" in env["CJM_PG_DSN"] and "${CJM_PG_PASSWORD" in env["CJM_PG_DSN"]
    monkeypatch.setenv("CJM_PUBLISH_TARGETS", env["CJM_PUBLISH_TARGETS"])
    publish = load_config(ROOT / "config" / "cjm.yml").publish
    assert publish.enabled_targets == ["duckdb", "parquet", "postgres"]
    assert publish.postgres is not None and publish.postgres.dsn_env == "CJM_PG_DSN"
    assert publish.postgres.grant_select_to == ["cjm_reader"]
    monkeypatch.delenv("CJM_PUBLISH_TARGETS")
    assert load_config(ROOT / "config" / "cjm.yml").publish.enabled_targets == [
        "duckdb",
        "parquet",
    ], "without compose's environment no server is assumed"
