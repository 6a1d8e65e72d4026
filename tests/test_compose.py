"""docker-compose.yml cannot run here (no docker engine): check it statically.

The file is validated against the Compose Specification's own JSON schema, the copy
check-jsonschema ships (check_jsonschema/builtin_schemas/vendor/compose-spec.json,
Apache-2.0, kept in step with the compose-spec repository by its maintainers), with
jsonschema's validator for the schema's draft. The same topology runs natively in
tests/test_celery_cluster.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import check_jsonschema
import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "compose-spec.json"
AIRFLOW_SERVICES = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-warehouse-worker",
)


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


def test_compose_file_is_valid_against_the_compose_spec_schema() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["$id"] == "compose_spec.json" and "services" in schema["properties"]
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    errors = sorted(
        validator_cls(schema).iter_errors(_compose()), key=lambda e: list(e.absolute_path)
    )
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors
    )


def test_the_schema_check_catches_a_broken_file() -> None:
    """The validation above can fail: a misspelt key and a wrong type are reported."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    broken = _compose()
    broken["services"]["redis"]["helthcheck"] = broken["services"]["redis"].pop("healthcheck")
    broken["services"]["postgres"]["ports"] = 5432
    validator = jsonschema.validators.validator_for(schema)(schema)
    messages = [e.message for e in validator.iter_errors(broken)]
    assert any("helthcheck" in m for m in messages), messages
    assert len(messages) >= 2, messages


def test_every_service_has_a_healthcheck_and_pinned_images() -> None:
    services = _compose()["services"]
    for name, svc in services.items():
        if svc.get("profiles"):  # run by hand (airflow-cli), not a long-running service
            continue
        if name == "airflow-init":  # runs once and exits
            continue
        assert svc.get("healthcheck", {}).get("test"), name
    for name in ("postgres", "redis"):
        image = services[name]["image"]
        # a full version, not a floating major tag like postgres:16 or redis:latest
        assert re.fullmatch(r"[a-z]+:\d+\.\d+(\.\d+)?(-[a-z]+)?", image), image


def test_airflow_3_topology_with_n_workers_and_one_writer() -> None:
    services = _compose()["services"]
    commands = {n: str(services[n]["command"]) for n in AIRFLOW_SERVICES}
    assert commands["airflow-apiserver"] == "api-server"
    assert commands["airflow-dag-processor"] == "dag-processor"
    assert commands["airflow-triggerer"] == "triggerer"
    workers = services["airflow-worker"]
    assert workers["deploy"]["replicas"].startswith("${CJM_EXTRACT_WORKERS")
    for name in ("airflow-worker", "airflow-warehouse-worker"):
        assert services[name]["environment"]["DUMB_INIT_SETSID"] == "0", name
    env = services["airflow-scheduler"]["environment"]
    assert (
        env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    )
    for name in AIRFLOW_SERVICES:
        assert "airflow-logs:/opt/airflow/logs" in services[name]["volumes"], name
        assert services[name]["depends_on"]["airflow-init"]["condition"] == (
            "service_completed_successfully"
        )


def test_no_default_passwords() -> None:
    """Every secret is `${VAR:?message}`: no fallback value, compose stops without it."""
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    secrets = ("PASSWORD", "SECRET", "FERNET_KEY")
    refs = re.findall(r"\$\{([A-Z_]+)(:?[-?])?([^}]*)\}", text)
    secret_refs = [(v, op) for v, op, _ in refs if any(s in v for s in secrets)]
    assert secret_refs, "no secrets referenced at all?"
    defaulted = sorted({v for v, op in secret_refs if op != ":?"})
    assert not defaulted, f"secrets with a default or no check: {defaulted}"
    compose = _compose()
    for name, svc in compose["services"].items():
        for key, value in (svc.get("environment") or {}).items():
            if any(s in key for s in secrets) and not key.endswith("_FILE"):
                assert "${" in str(value), (name, key, value)
    assert "AIRFLOW_FERNET_KEY:?" in text


def test_env_example_lists_every_variable_without_real_secrets() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_]+)", text))  # $${X}: the container's own
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, re.M))
    assert used <= listed, sorted(used - listed)
    assert any(v.startswith("AIRFLOW_CONN_") for v in listed)
    for line in example.splitlines():
        if line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        if any(s in key for s in ("PASSWORD", "SECRET")):
            assert value == "change-me", key
    assert re.search(r"^AIRFLOW_FERNET_KEY=$", example, re.M)


def test_dockerignore_keeps_the_venv_data_and_git_out_of_the_image() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for entry in (".venv", "data", ".git", ".env", "**/__pycache__", ".pytest_cache"):
        assert entry in ignored, entry
