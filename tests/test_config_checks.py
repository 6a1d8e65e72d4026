"""`cjm check-config` catches what users get wrong, in one line each naming the YAML
path and never a secret's value (run through the real console script)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
