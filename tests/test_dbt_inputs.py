"""The fingerprint of what dbt reads: it must move with every input and with nothing else,
or a refresh would skip a build it needs (stale marts) or never skip one."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from cjm.core.paths import dbt_project_dir
from cjm.core.warehouse import ensure_schema
from cjm.refresh import inputs

AT = datetime(2026, 12, 1, 9, tzinfo=UTC)


@pytest.fixture()
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_schema(con)
    con.execute(
        "insert into raw.mentions (mention_id, source, source_type, native_id, text, "
        "published_at, loaded_at, updated_at) values "
        "('m1', 's', 'file', '1', 'hello', ?, ?, ?), ('m2', 's', 'file', '2', 'hi', ?, ?, ?)",
        [AT] * 6,
    )
    con.execute("insert into config.brands values ('Acme', ['acme'], [], ['ru'])")
    yield con
    con.close()


def test_the_data_fingerprint_moves_with_raw_and_config_rows(
    con: duckdb.DuckDBPyConnection,
) -> None:
    first = inputs.data_fingerprint(con)
    assert inputs.data_fingerprint(con) == first  # nothing changed: the same
    con.execute("update raw.mentions set text = 'bye', updated_at = ? where mention_id = 'm1'",
                [datetime(2026, 12, 1, 10, tzinfo=UTC)])  # fmt: skip
    rewritten = inputs.data_fingerprint(con)
    assert rewritten != first  # a row the loader rewrote
    con.execute("update config.brands set keywords = ['acme', 'акме']")
    configured = inputs.data_fingerprint(con)
    assert configured != rewritten  # a config edit
    con.execute("delete from raw.mentions where mention_id = 'm2'")
    assert inputs.data_fingerprint(con) != configured  # a row gone (erasure)


def test_the_code_fingerprint_moves_with_a_project_file(tmp_path: Path) -> None:
    project = tmp_path / "dbt_project"
    shutil.copytree(dbt_project_dir(), project, ignore=shutil.ignore_patterns("target", "logs"))
    first = inputs.code_fingerprint(project)
    (project / "target").mkdir(exist_ok=True)
    (project / "target" / "manifest.json").write_text("{}")  # build output: not an input
    assert inputs.code_fingerprint(project) == first
    seed = project / "seeds" / "sentiment_lexicon.csv"
    seed.write_text(seed.read_text(encoding="utf-8") + "отлично,2,,\n", encoding="utf-8")
    assert inputs.code_fingerprint(project) != first  # an analyst's seed edit


def test_builds_are_recorded_newest_first(con: duckdb.DuckDBPyConnection) -> None:
    assert inputs.last_build(con) is None
    inputs.record_build(con, "run-1", "aaa", 1.0)
    inputs.record_build(con, "run-2", "bbb", 1.0)
    assert inputs.last_build(con) == ("run-2", "bbb")
