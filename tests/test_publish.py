"""The BI copy is switched whole (cjm/publish.py): one Parquet directory per refresh
behind a symlink switched last, old versions kept for readers still on them, and what a
crashed publish left behind cleaned up by the next one. Real DuckDB files throughout."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest

from cjm.core.config import parse_config
from cjm.publish import KEEP_VERSIONS, publish_marts

CONFIG = parse_config(
    {
        "brands": [{"name": "Acme", "keywords": ["acme"]}],
        "sources": [{"name": "x", "type": "rss", "url": "http://127.0.0.1/rss"}],
    }
)


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
    """Which refresh each Parquet file of the set comes from, read the way a BI tool
    resolving the folder once does."""
    folder = Path(os.path.realpath(parquet_dir))
    con = duckdb.connect()
    seen = {
        con.execute(f"select max(refresh) from read_parquet('{f}')").fetchone()[0]
        for f in folder.glob("*.parquet")
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
