"""The BI copy is switched whole (cjm/publish.py): one Parquet directory per refresh
behind a symlink switched last, old versions kept for readers still on them, and what a
crashed publish left behind cleaned up by the next one. Real DuckDB files throughout."""

from __future__ import annotations

import json
import os
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg
import pytest

from cjm.core.config import parse_config
from cjm.core.warehouse import ensure_schema
from cjm.publish import KEEP_VERSIONS, publish_marts

RAW = {
    "brands": [{"name": "Acme", "keywords": ["acme"]}],
    "sources": [{"name": "x", "type": "rss", "url": "http://127.0.0.1/rss"}],
}
CONFIG = parse_config(RAW)
ROOT = Path(__file__).resolve().parent.parent


def _warehouse(path: Path, refresh: int) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists marts")
    for table in ("cjm", "sentiment"):
        con.execute(
            f"create or replace table marts.{table} as "
            f"select {refresh} as refresh, range as n from range({10 * refresh})"
        )
    con.close()
    return path


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return _warehouse(tmp_path / "warehouse.duckdb", 1)


def _refreshes_seen(parquet_dir: Path) -> set[int]:
    """Which refresh each mart file of the set comes from, read the way a BI tool
    resolving the folder once does."""
    folder = Path(os.path.realpath(parquet_dir))
    con = duckdb.connect()
    seen = {
        con.execute(f"select max(refresh) from read_parquet('{folder}/{t}.parquet')").fetchone()[0]
        for t in ("cjm", "sentiment")
    }
    con.close()
    return seen


def test_each_refresh_is_one_folder_switched_last(warehouse: Path) -> None:
    parquet = warehouse.parent / "bi" / "parquet"
    first = publish_marts(CONFIG, warehouse)
    assert parquet.is_symlink() and _refreshes_seen(parquet) == {1}
    manifest = json.loads((parquet / "_manifest.json").read_text())
    assert manifest["tables"] == {"cjm": 10, "sentiment": 10}
    before = os.path.realpath(parquet)
    for refresh in range(2, 2 + KEEP_VERSIONS + 1):
        _warehouse(warehouse, refresh)
        publish_marts(CONFIG, warehouse)
        assert _refreshes_seen(parquet) == {refresh}
        # the contract's paths keep working through the link
        con = duckdb.connect()
        n = con.execute(f"select count(*) from read_parquet('{parquet}/cjm.parquet')").fetchone()
        con.close()
        assert n == (10 * refresh,)
    versions = sorted((warehouse.parent / "bi" / ".parquet.versions").iterdir())
    assert len(versions) == KEEP_VERSIONS
    assert not Path(before).exists(), "the oldest version was not pruned"
    assert first["parquet_version"] not in {v.name for v in versions}


def test_a_crashed_publish_leaves_nothing_behind_after_the_next(warehouse: Path) -> None:
    publish_marts(CONFIG, warehouse)
    bi = warehouse.parent / "bi"
    # what a kill -9 mid-publish leaves: a temp DuckDB file and its WAL, a half-written
    # version folder (no manifest), a link never renamed into place
    (bi / ".marts.duckdb.4242.tmp").write_bytes(b"x")
    (bi / ".marts.duckdb.4242.tmp.wal").write_bytes(b"x")
    half = bi / ".parquet.versions" / "29990101T000000000000Z"
    half.mkdir()
    (half / "cjm.parquet").write_bytes(b"half")
    (bi / ".parquet.4242.link").symlink_to("nowhere")
    _warehouse(warehouse, 2)
    publish_marts(CONFIG, warehouse)
    leftovers = sorted(p.name for p in bi.iterdir() if p.name.startswith(".marts.duckdb"))
    assert leftovers == []
    assert not half.exists() and not (bi / ".parquet.4242.link").is_symlink()
    assert _refreshes_seen(bi / "parquet") == {2}


def test_a_folder_published_by_an_older_release_becomes_a_kept_version(
    warehouse: Path,
) -> None:
    legacy = warehouse.parent / "bi" / "parquet"
    legacy.mkdir(parents=True)
    (legacy / "cjm.parquet").write_bytes(b"old")
    publish_marts(CONFIG, warehouse)
    assert legacy.is_symlink() and _refreshes_seen(legacy) == {1}
    kept = [
        v for v in (legacy.parent / ".parquet.versions").iterdir() if v.name.endswith("-before")
    ]
    assert len(kept) == 1 and (kept[0] / "cjm.parquet").read_bytes() == b"old"


def test_every_published_table_names_its_refresh(warehouse: Path) -> None:
    result = publish_marts(CONFIG, warehouse)
    bi = warehouse.parent / "bi"
    con = duckdb.connect(str(bi / "marts.duckdb"), read_only=True)
    listed = con.execute(
        "select table_name, row_count, refresh_id from published_refresh"
    ).fetchall()
    ids = {
        con.execute(f"select distinct refresh_id from {t}").fetchall()[0][0] for t, _, _ in listed
    }
    con.close()
    assert {(t, n) for t, n, _ in listed} == {("cjm", 10), ("sentiment", 10)}
    assert ids == {r for _, _, r in listed} == {result["refresh_id"]}
    pq = duckdb.connect()
    on_disk = pq.execute(
        f"select distinct refresh_id from read_parquet('{bi}/parquet/published_refresh.parquet')"
    ).fetchall()
    pq.close()
    assert on_disk == [(result["refresh_id"],)]


def test_targets_are_configured(warehouse: Path) -> None:
    config = parse_config({**RAW, "publish": {"targets": ["parquet"]}})
    result = publish_marts(config, warehouse)
    bi = warehouse.parent / "bi"
    assert result["duckdb"] is None and not (bi / "marts.duckdb").exists()
    assert (bi / "parquet" / "cjm.parquet").exists()
    assert not [p for p in bi.iterdir() if p.name.startswith(".marts.duckdb")], "staging left"


def _pg_config(**postgres: object) -> object:
    return parse_config(
        {**RAW, "publish": {"postgres": {"dsn_env": "CJM_TEST_PG_DSN", **postgres}}}
    )


def _pg_rows(dsn: str, sql: str) -> list[tuple]:
    with psycopg.connect(dsn) as con:
        return con.execute(sql).fetchall()


def test_postgres_gets_every_table_swapped_in_whole(
    warehouse: Path, postgres_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    dsn = postgres_server.dsn()
    monkeypatch.setenv("CJM_TEST_PG_DSN", dsn)
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("drop schema if exists bi_a cascade")
    config = _pg_config(schema="bi_a")
    for refresh in (1, 2):
        _warehouse(warehouse, refresh)
        result = publish_marts(config, warehouse)
        assert result["failed"] == {}
        assert _pg_rows(dsn, "select count(*), max(refresh), max(refresh_id) from bi_a.cjm") == [
            (10 * refresh, refresh, result["refresh_id"])
        ]
    listed = _pg_rows(dsn, "select table_name, row_count from bi_a.published_refresh order by 1")
    assert listed == [("cjm", 20), ("sentiment", 20)]
    schemas = _pg_rows(dsn, "select nspname from pg_namespace where nspname like 'bi\\_a%'")
    assert schemas == [("bi_a",)], "the old or the new schema was left behind"


def test_postgres_types_are_mapped(
    tmp_path: Path, postgres_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    wh = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(wh))
    con.execute("create schema marts")
    con.execute(
        """create table marts.mentions as select
             timestamptz '2026-03-01 10:00:00+03' as published_at, 0.25::double as score,
             ['a', 'b''c']::varchar[] as topics, [{'topic': 'fees', 'sentiment': 'negative'}]
             as topic_sentiments, 12.5::decimal(38,1) as share, 7::ubigint as fingerprint,
             true as is_relevant, date '2026-03-01' as day, null::varchar as author,
             '' as title, 'a "quoted", back\\slash
             and a new line' as text, ['x', null, '', 'q"uo,te\\'] as odd_list,
             []::varchar[] as no_topics, null::varchar[] as no_list"""
    )
    con.close()
    dsn = postgres_server.dsn()
    monkeypatch.setenv("CJM_TEST_PG_DSN", dsn)
    publish_marts(_pg_config(schema="bi_types"), wh)
    types = dict(
        _pg_rows(
            dsn,
            "select attname, format_type(atttypid, atttypmod) from pg_attribute "
            "where attrelid = 'bi_types.mentions'::regclass and attnum > 0",
        )
    )
    assert types == {
        "published_at": "timestamp with time zone",
        "score": "double precision",
        "topics": "text[]",
        "topic_sentiments": "jsonb",
        "share": "numeric(38,1)",
        "fingerprint": "numeric(20,0)",
        "is_relevant": "boolean",
        "day": "date",
        "author": "text",
        "title": "text",
        "text": "text",
        "odd_list": "text[]",
        "no_topics": "text[]",
        "no_list": "text[]",
        "refresh_id": "text",
    }
    row = _pg_rows(
        dsn,
        "select published_at at time zone 'UTC', score, topics, topic_sentiments->0->>'topic', "
        "author, share, fingerprint, is_relevant, day from bi_types.mentions",
    )
    assert row == [
        (
            datetime(2026, 3, 1, 7, 0),
            0.25,
            ["a", "b'c"],
            "fees",
            None,
            Decimal("12.5"),
            7,
            True,
            date(2026, 3, 1),
        )
    ]
    texts = _pg_rows(dsn, "select title, text, odd_list, no_topics, no_list from bi_types.mentions")
    con = duckdb.connect(str(wh), read_only=True)
    expected = con.execute("select title, text, odd_list, [], null from marts.mentions").fetchall()
    con.close()
    assert texts == expected and texts[0][0] == "" and "\n" in texts[0][1]


def test_unreachable_postgres_is_one_line_and_the_files_still_publish(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CJM_TEST_PG_DSN", "postgresql://cjm:hunter2secret@127.0.0.1:1/bi")
    result = publish_marts(_pg_config(), warehouse)
    why = result["failed"]["postgres"]
    assert "127.0.0.1:1/bi is unreachable" in why and "\n" not in why
    assert "hunter2secret" not in why
    assert (warehouse.parent / "bi" / "marts.duckdb").exists()
    assert _refreshes_seen(warehouse.parent / "bi" / "parquet") == {1}


def test_a_failed_postgres_load_leaves_no_half_schema(
    warehouse: Path, postgres_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    dsn = postgres_server.dsn()
    monkeypatch.setenv("CJM_TEST_PG_DSN", dsn)
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("drop role if exists nobody_here")
    # a grant to a role that does not exist fails after every table was copied
    result = publish_marts(_pg_config(schema="bi_fail", grant_select_to=["nobody_here"]), warehouse)
    assert 'role "nobody_here" does not exist' in result["failed"]["postgres"]
    assert _pg_rows(dsn, "select nspname from pg_namespace where nspname like 'bi\\_fail%'") == []
    # what a killed publish leaves is dropped by the next one
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("create schema bi_fail__new_29990101t000000000000z")
    assert publish_marts(_pg_config(schema="bi_fail"), warehouse)["failed"] == {}
    names = _pg_rows(dsn, "select nspname from pg_namespace where nspname like 'bi\\_fail%'")
    assert names == [("bi_fail",)]


def test_a_schema_we_did_not_publish_is_never_replaced(
    warehouse: Path, postgres_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    dsn = postgres_server.dsn()
    monkeypatch.setenv("CJM_TEST_PG_DSN", dsn)
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("drop schema if exists finance cascade; create schema finance")
        con.execute("create table finance.ledger as select 1 as n")
    why = publish_marts(_pg_config(schema="finance"), warehouse)["failed"]["postgres"]
    assert "was not published by cjm" in why
    assert _pg_rows(dsn, "select n from finance.ledger") == [(1,)]


def test_an_airflow_connection_gives_the_server(
    warehouse: Path, postgres_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CJM_BI_PG", postgres_server.dsn())
    config = parse_config(
        {**RAW, "publish": {"postgres": {"airflow_conn": "cjm_bi_pg", "schema": "bi_af"}}}
    )
    assert publish_marts(config, warehouse)["failed"] == {}
    assert _pg_rows(postgres_server.dsn(), "select count(*) from bi_af.cjm") == [(10,)]


def test_the_published_ops_tables_are_the_documented_ones(warehouse: Path) -> None:
    con = duckdb.connect(str(warehouse))
    ensure_schema(con)  # the ops tables a real warehouse has, empty
    con.close()
    publish_marts(CONFIG, warehouse)
    text = (ROOT / "docs" / "CONTRACT.md").read_text(encoding="utf-8")
    documented = {
        m.group(1): re.findall(r"`(\w+)`", m.group(2))
        for m in re.finditer(r"^\| `(\w+)` \|[^|]*\| (.*) \|$", text, re.M)
    }
    bi = duckdb.connect(str(warehouse.parent / "bi" / "marts.duckdb"), read_only=True)
    published = {}
    for table, column in bi.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'main' order by table_name, ordinal_position"
    ).fetchall():
        published.setdefault(table, []).append(column)
    bi.close()
    extra = {t: cols for t, cols in published.items() if t not in ("cjm", "sentiment")}
    assert extra == documented
