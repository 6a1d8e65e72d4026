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
