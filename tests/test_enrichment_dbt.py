"""The dbt Python model `int_mentions_enriched`: incremental scoring and seed edits.

Runs `dbt build` on a copy of the dbt project (so a seed can be edited without touching
the repository) against a small warehouse, and shows that

* a second run scores only new mentions (a row tampered with stays as it is);
* editing a seed CSV — no code change — re-scores every mention on the next run.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from cjm.core.warehouse import open_warehouse

ROOT = Path(__file__).resolve().parents[1]
SELECT = ["--select", "+int_mentions_enriched", "--indirect-selection", "cautious"]


def _dbt(project: Path, warehouse: Path, *args: str) -> None:
    command = [
        sys.executable,
        "-c",
        "from dbt.cli.main import cli; cli()",
        *args,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(project / "target"),
        "--log-path",
        str(project / "logs"),
    ]
    env = {
        **os.environ,
        "CJM_WAREHOUSE": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # the copied project does not sit next to cjm/enrichment/: make it importable
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    result = subprocess.run(
        command, env=env, cwd=project, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"dbt failed:\n{result.stdout[-4000:]}\n{result.stderr}"


def _insert(warehouse: Path, mentions: list[tuple[str, str]]) -> None:
    at = datetime(2024, 1, 10, tzinfo=UTC)
    with open_warehouse(warehouse) as con:
        con.executemany(
            "insert into raw.mentions (mention_id, source, source_type, channel, native_id, "
            "author, text, published_at, language, brand, matched_keywords, loaded_at, "
            "updated_at) values (?, 'tg', 'telegram', 'telegram', ?, 'ivan', ?, ?, null, "
            "'Acme', ['acme'], ?, ?)",
            [(mid, mid, text, at, at, at) for mid, text in mentions],
        )


def _enriched(warehouse: Path) -> dict[str, tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select mention_id, sentiment, sentiment_terms, rules_hash "
            "from intermediate.int_mentions_enriched"
        ).fetchall()
    finally:
        con.close()
    return {row[0]: row[1:] for row in rows}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    target = tmp_path / "dbt_project"
    shutil.copytree(
        ROOT / "dbt_project",
        target,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"),
    )
    return target


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    with open_warehouse(path) as con:
        con.execute("insert into config.brands values ('Acme', ['acme'], [], ['ru', 'en'])")
        con.executemany(
            "insert into config.stages values (?, ?, ?)",
            [
                (s, i + 1, s)
                for i, s in enumerate(
                    ["awareness", "consideration", "purchase", "usage", "loyalty"]
                )
            ],
        )
    return path


def test_incremental_scoring_and_seed_edits(project: Path, warehouse: Path) -> None:
    _insert(warehouse, [("m1", "Acme — вжух и готово"), ("m2", "Приложение Acme не работает")])
    _dbt(project, warehouse, "build", *SELECT)
    first = _enriched(warehouse)
    assert first["m1"][0] == "neutral" and first["m2"][0] == "negative"

    # mark m2 so a re-score would be visible, then add m3: only m3 is scored
    con = duckdb.connect(str(warehouse))
    con.execute(
        "update intermediate.int_mentions_enriched set sentiment_terms = ['kept'] "
        "where mention_id = 'm2'"
    )
    con.close()
    _insert(warehouse, [("m3", "Acme, спасибо, всё отлично")])
    _dbt(project, warehouse, "build", *SELECT)
    second = _enriched(warehouse)
    assert second["m2"][1] == ["kept"], "an unchanged mention was scored again"
    assert second["m3"][0] == "positive"

    # an analyst adds a word to the lexicon: the next run re-scores everything
    with (project / "seeds" / "sentiment_lexicon.csv").open("a", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerow(["вжух", "ru", "3"])
    _dbt(project, warehouse, "build", *SELECT)
    third = _enriched(warehouse)
    assert third["m1"][0] == "positive"
    assert "вжух" in third["m1"][1]
    assert third["m2"][1] != ["kept"]
    # three runs, two of them incremental: no staging table of the Python model is left
    with duckdb.connect(str(warehouse), read_only=True) as con:
        leaked = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_name like '%dbt_tmp%'"
        ).fetchall()
    assert leaked == []
    assert len({row[2] for row in third.values()}) == 1
    assert third["m1"][2] != first["m1"][2]


def test_sql_and_python_normalise_every_seed_term_alike(tmp_path: Path) -> None:
    """The seed checks in SQL (macros/text.sql) keep their own copy of the text rule;
    it must give the very words the scorer's (cjm/core/text.py) gives, on every term."""
    from cjm.enrichment.text import words
    from cjm.refresh.dbt import dbt_run_or_raise

    wh = tmp_path / "terms.duckdb"
    with open_warehouse(wh):
        pass
    dbt_run_or_raise(wh, ["+int_rule_terms_unioned"], tmp_path, "the rule terms")
    with duckdb.connect(str(wh), read_only=True) as con:
        rows = con.execute(
            "select rule, term, words from intermediate.int_rule_terms_unioned"
        ).fetchall()
    assert len(rows) > 500
    differ = [
        (rule, term, sql_words)
        for rule, term, sql_words in rows
        if list(sql_words) != words(term.strip().rstrip("*"))
    ]
    assert not differ, differ[:10]
