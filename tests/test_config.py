"""Config errors must name their YAML path; secrets only by reference."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cjm.core.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parent.parent

MINIMAL = {
    "brands": [{"name": "Acme", "keywords": ["acme"]}],
    "sources": [
        {
            "name": "f",
            "type": "file",
            "entity": "mention",
            "path": "x/*.csv",
            "columns": {"native_id": "id", "text": "body", "published_at": "date"},
        }
    ],
}


def _errors(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_config(data)
    return exc.value.errors


def test_minimal_config_gets_contract_defaults() -> None:
    c = parse_config(MINIMAL)
    assert c.stages.order == ["awareness", "consideration", "purchase", "usage", "loyalty"]
    assert c.stages.conversion_window_days == 90
    assert c.alerts.spike.window_days == 28
    assert c.publish.duckdb_path is None  # next to the warehouse: data/bi/marts.duckdb


def test_stage_conversion_grain_defaults_to_a_built_grain() -> None:
    assert parse_config(MINIMAL).stages.resolved_stage_conversion_grain == "week"
    monthly = parse_config({**MINIMAL, "stages": {"period_grains": ["month", "day"]}})
    assert monthly.stages.resolved_stage_conversion_grain == "month"
    assert monthly.stages.stage_conversion_channel_basis == "stage_entry"
    errors = _errors(
        {**MINIMAL, "stages": {"period_grains": ["month"], "stage_conversion_grain": "week"}}
    )
    assert any("stage_conversion_grain" in e and "period_grains" in e for e in errors), errors


def test_every_error_is_reported_with_its_path() -> None:
    bad = {
        "brands": [{"name": "Acme", "keywords": []}],
        "sources": [
            {"name": "ok", "type": "rss"},
            {
                "name": "f",
                "type": "file",
                "entity": "mention",
                "path": "a",
                "columns": {"native_id": "id", "text": "t", "published_at": "d", "colour": "c"},
            },
            {"name": "t", "type": "telegram", "channel": "x", "exlude": ["typo"]},
        ],
        "stages": {"order": ["a", "b"], "event_stages": {"lead": "zzz"}},
    }
    errors = _errors(bad)
    joined = "\n".join(errors)
    assert "brands[0].keywords" in joined
    assert "sources[0].url: Field required" in joined
    assert "sources[1]" in joined and "colour" in joined
    assert "sources[2].exlude" in joined
    assert "stages" in joined and "zzz" in joined
    assert len(errors) >= 5


def test_unknown_source_type_is_named() -> None:
    data = {**MINIMAL, "sources": [{"name": "x", "type": "ftp"}]}
    assert any(e.startswith("sources[0]") and "ftp" in e for e in _errors(data))


def test_duplicate_source_names_rejected() -> None:
    data = {**MINIMAL, "sources": MINIMAL["sources"] * 2}
    assert any("duplicate source name" in e for e in _errors(data))


def test_secrets_only_by_reference() -> None:
    src = {
        "name": "crm",
        "type": "crm_api",
        "url": "http://127.0.0.1/api",
        "auth": {"token": "hunter2"},
    }
    errors = _errors({**MINIMAL, "sources": [src]})
    assert any("sources[0].auth" in e for e in errors)
    src["auth"] = {"bearer_env": "CRM_TOKEN"}
    assert parse_config({**MINIMAL, "sources": [src]}).sources[0].auth.bearer_env == "CRM_TOKEN"


def test_file_source_requires_mapping_of_required_fields() -> None:
    src = dict(MINIMAL["sources"][0], columns={"native_id": "id"})
    errors = _errors({**MINIMAL, "sources": [src]})
    assert any("published_at" in e and "text" in e for e in errors)


def test_bad_timezone_named() -> None:
    src = dict(MINIMAL["sources"][0], timezone="Mars/Olympus")
    assert any("Mars/Olympus" in e for e in _errors({**MINIMAL, "sources": [src]}))


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    p = tmp_path / "cjm.yml"
    p.write_text("brands:\n  - name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    assert "line" in exc.value.errors[0]


def test_relative_paths_resolve_from_project_root(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    p = tmp_path / "config" / "cjm.yml"
    import yaml

    p.write_text(yaml.safe_dump(MINIMAL), encoding="utf-8")
    c = load_config(p)
    assert c.resolve("x/a.csv") == tmp_path.resolve() / "x/a.csv"


@pytest.mark.parametrize("name", ["cjm.yml", "demo.yml"])
def test_bundled_configs_are_valid(name: str) -> None:
    load_config(ROOT / "config" / name)


def test_check_config_cli_exit_codes(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("brands: []\nsources: []\n", encoding="utf-8")
    cli = [sys.executable, "-m", "cjm.cli"]
    res = subprocess.run(
        [*cli, "--config", str(bad), "check-config"], capture_output=True, text=True, check=False
    )
    assert res.returncode == 2
    assert f"{bad}: brands:" in res.stderr and f"{bad}: sources:" in res.stderr
    res = subprocess.run(
        [*cli, "check-config", "--config", str(ROOT / "config" / "demo.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert "OK" in res.stdout


def test_publish_targets_default_and_configured() -> None:
    assert parse_config(MINIMAL).publish.enabled_targets == ["duckdb", "parquet"]
    pg = {"dsn_env": "CJM_PG_DSN"}
    with_pg = parse_config({**MINIMAL, "publish": {"postgres": pg}}).publish
    assert with_pg.enabled_targets == ["duckdb", "parquet", "postgres"]
    assert with_pg.postgres is not None and with_pg.postgres.schema_name == "marts"
    only = parse_config({**MINIMAL, "publish": {"postgres": pg, "targets": ["postgres"]}})
    assert only.publish.enabled_targets == ["postgres"]
    errors = _errors({**MINIMAL, "publish": {"targets": ["postgres"]}})
    assert errors == [
        "publish: targets: postgres needs a postgres: block (dsn_env or airflow_conn)"
    ]
    assert any("publish.targets" in e for e in _errors({**MINIMAL, "publish": {"targets": ["s3"]}}))


def test_the_postgres_connection_is_a_reference(tmp_path: Path) -> None:
    errors = _errors({**MINIMAL, "publish": {"postgres": {}}})
    assert errors == ["publish.postgres: give exactly one of dsn_env, airflow_conn"]
    dsn = "postgresql://bi:s3cretpass@db.example.org/cjm"
    errors = _errors({**MINIMAL, "publish": {"postgres": {"dsn_env": dsn}}})
    assert errors[0].startswith("publish.postgres.dsn_env: is not a valid environment variable")
    assert "s3cretpass" not in " ".join(errors)
    import yaml

    p = tmp_path / "cjm.yml"
    p.write_text(yaml.safe_dump({**MINIMAL, "publish": {"postgres": {"dsn": dsn}}}))
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    assert exc.value.errors[0].startswith("publish.postgres.dsn: the connection is given by")
    assert "s3cretpass" not in str(exc.value)
    errors = _errors(
        {**MINIMAL, "publish": {"postgres": {"airflow_conn": "x", "schema": "Marts;"}}}
    )
    assert any(e.startswith("publish.postgres.schema") for e in errors)


def test_the_warehouse_memory_limit_is_a_size_duckdb_applies(tmp_path: Path) -> None:
    from cjm.core.warehouse import connect

    assert parse_config(MINIMAL).warehouse.memory_limit == "1GB"
    assert parse_config({**MINIMAL, "warehouse": {"memory_limit": "512MiB"}})
    errors = _errors({**MINIMAL, "warehouse": {"memory_limit": "a lot"}})
    assert any(e.startswith("warehouse.memory_limit") for e in errors), errors
    con = connect(tmp_path / "w.duckdb", memory_limit="300MiB")
    try:
        assert con.execute("select current_setting('memory_limit')").fetchone() == ("300.0 MiB",)
    finally:
        con.close()
