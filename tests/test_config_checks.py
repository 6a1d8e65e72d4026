"""`cjm check-config` catches what users get wrong, in one line each naming the YAML
path and never a secret's value (run through the real console script)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

BRANDS = [{"name": "Acme", "keywords": ["acme"]}]
EXPORT = {
    "name": "export",
    "type": "file",
    "entity": "mention",
    "path": "inbox/*.csv",
    "columns": {"native_id": "id", "text": "body", "published_at": "date"},
}
CRM = {
    "name": "crm",
    "type": "crm_api",
    "url": "http://127.0.0.1:9/api/events",
    "records": "data",
    "auth": {"bearer_env": "CJM_TEST_CRM_TOKEN"},
    "columns": {
        "native_id": "id", "customer_key": "contact", "event_type": "type",
        "occurred_at": "at",
    },
}  # fmt: skip
SECRET = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"


def cjm(tmp_path: Path, *args: str, env: dict[str, str] | None = None, **config) -> tuple:
    path = tmp_path / "cjm.yml"
    path.write_text(yaml.safe_dump({"brands": BRANDS, **config}), encoding="utf-8")
    cli = Path(sys.executable).with_name("cjm")
    result = subprocess.run(
        [str(cli), *(args or ("check-config",)), "--config", str(path)],
        capture_output=True, text=True, check=False, cwd=tmp_path, env=env,
    )  # fmt: skip
    return result.returncode, result.stdout, result.stderr.strip().splitlines()


def test_a_token_where_an_env_var_name_belongs(tmp_path: Path) -> None:
    crm = {**CRM, "auth": {"bearer_env": SECRET}}
    code, out, err = cjm(tmp_path, sources=[crm])
    assert code == 2 and len(err) == 1, err
    assert "sources[0].auth.bearer_env: looks like a secret value" in err[0]
    assert SECRET not in out + "".join(err)


def test_credentials_in_a_url_or_query(tmp_path: Path) -> None:
    crm = {**CRM, "url": f"https://bot:{SECRET}@crm.example.org/api?api_key={SECRET}"}
    code, out, err = cjm(tmp_path, sources=[crm])
    assert code == 2 and len(err) == 2, err
    assert err[0].endswith(
        "sources[0].url: a user:password in the URL; give the secret by "
        "reference (auth: {bearer_env: NAME} or {airflow_conn: id})"
    )
    assert "query parameter 'api_key' holds a literal credential" in err[1]
    assert SECRET not in out + "".join(err)
    # the same parameter by reference passes
    rss = {"name": "news", "type": "rss", "url": "https://example.org/rss?api_key=${NEWS_KEY}"}
    code, _, err = cjm(tmp_path, sources=[rss])
    assert code == 0, err


def test_a_glob_that_matches_nothing(tmp_path: Path) -> None:
    code, out, err = cjm(tmp_path, sources=[EXPORT])
    assert code == 0 and "OK" in out
    (line,) = err
    assert "warning: sources[0].path: no file matches" in line and "loads nothing" in line
    code, _, err = cjm(tmp_path, sources=[{**EXPORT, "required": True}])
    assert code == 2 and "sources[0].path: no file matches" in err[0] and "required" in err[0]


def test_an_env_var_that_is_not_set_is_a_warning(tmp_path: Path) -> None:
    code, _, err = cjm(tmp_path, sources=[CRM])
    assert code == 0
    assert any("sources[0].auth.bearer_env: CJM_TEST_CRM_TOKEN is not set here" in e for e in err)


def test_an_unwritable_landing_folder_is_one_line_at_check_and_at_run(tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "a.csv").write_text("id,body,date\n1,acme,2026-09-01\n")
    (tmp_path / "blocker").write_text("a file, not a folder")
    config = {"sources": [EXPORT], "paths": {"landing": "blocker/landing"}}
    code, _, err = cjm(tmp_path, **config)
    assert code == 2 and len(err) == 1 and err[0].split(": ", 1)[1].startswith("paths.landing:")
    code, _, err = cjm(tmp_path, "run", "--warehouse", str(tmp_path / "wh.duckdb"), **config)
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("paths.landing: ") and "is not a folder" in err[0]


def test_secrets_in_headers_only_by_reference(tmp_path: Path) -> None:
    headers = {
        "Authorization": f"Bearer {SECRET}",
        "X-Api-Key": "plain-key-123",
        "X-Trace": SECRET,  # an innocent name, a token-shaped value
        "Accept-Language": "ru",
    }
    crm = {**CRM, "headers": headers}
    code, out, err = cjm(tmp_path, sources=[crm])
    assert code == 2 and len(err) == 3, err
    assert [e.split(": ", 1)[1].split(":")[0] for e in err] == [
        "sources[0].headers.Authorization",
        "sources[0].headers.X-Api-Key",
        "sources[0].headers.X-Trace",
    ]
    assert all("a literal credential; write it as ${VAR}" in e for e in err)
    assert SECRET not in out + "".join(err) and "plain-key-123" not in "".join(err)
    by_ref = {
        "Authorization": "Bearer ${CRM_TOKEN}",
        "X-Api-Key": "${CRM_KEY}",
        "Accept-Language": "ru",
    }
    code, _, err = cjm(tmp_path, sources=[{**CRM, "headers": by_ref}])
    assert code == 0, err


def _no_airflow(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This machine's environment without any Airflow configured (HOME moved too)."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    return {**env, "HOME": str(tmp_path), **extra}


NEWS = {"name": "news", "type": "rss", "url": "${CJM_TEST_NEWS_BASE}/rss.xml"}
CRM_CONN = {**CRM, "auth": {"airflow_conn": "cjm_test_crm"}}
NOTIFY = {"notify": [{"type": "webhook", "airflow_conn": "cjm_test_hook"}]}


def test_references_that_do_not_resolve_are_warnings(tmp_path: Path) -> None:
    config = {"sources": [NEWS, CRM_CONN], "alerts": NOTIFY}
    code, out, err = cjm(tmp_path, env=_no_airflow(tmp_path), **config)
    assert code == 0 and "OK" in out, err
    warnings = [e.split(": warning: ", 1)[1] for e in err]
    assert warnings == [
        "sources[0].url: ${CJM_TEST_NEWS_BASE} is not set in the environment; "
        "the source fails at run time until it is",
        "sources[1].auth.airflow_conn: Airflow connection 'cjm_test_crm' is not defined here "
        "(AIRFLOW_CONN_CJM_TEST_CRM is not set and no Airflow is configured: AIRFLOW_HOME); "
        "the source fails at run time until it is",
        "alerts.notify[0].airflow_conn: Airflow connection 'cjm_test_hook' is not defined here "
        "(AIRFLOW_CONN_CJM_TEST_HOOK is not set and no Airflow is configured: AIRFLOW_HOME)",
    ], err
    env = _no_airflow(
        tmp_path,
        CJM_TEST_NEWS_BASE="http://127.0.0.1:9",
        AIRFLOW_CONN_CJM_TEST_CRM="http://:tok@crm.example",
        AIRFLOW_CONN_CJM_TEST_HOOK="http://hooks.example",
    )
    code, _, err = cjm(tmp_path, env=env, **config)
    assert code == 0 and err == [], err


@pytest.mark.integration
def test_unresolved_references_fail_their_source_alone_at_run_time(tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "a.csv").write_text("id,body,date\n1,acme rocks,2026-09-01\n")
    config = {"sources": [NEWS, CRM_CONN, EXPORT], "alerts": NOTIFY}
    wh = str(tmp_path / "wh.duckdb")
    code, out, err = cjm(tmp_path, "run", "--warehouse", wh, env=_no_airflow(tmp_path), **config)
    assert code == 1, out + "\n".join(err)
    assert (
        "[config] WARNING alerts.notify[0].airflow_conn: Airflow connection 'cjm_test_hook'" in out
    )
    failed = [e for e in err if e.startswith("FAILED ")]
    assert failed == [
        "FAILED news: sources[0].url: ${CJM_TEST_NEWS_BASE} is not set in the environment",
        "FAILED crm: sources[1].auth.airflow_conn: Airflow connection 'cjm_test_crm' is not "
        "defined here (AIRFLOW_CONN_CJM_TEST_CRM is not set and no Airflow is configured: "
        "AIRFLOW_HOME)",
    ], err
    assert "Traceback" not in out + "".join(err)
    assert "[load] export: " in out  # the file source still loaded
