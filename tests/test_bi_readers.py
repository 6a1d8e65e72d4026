"""BI readers during refreshes, for every target (PostgreSQL, the DuckDB file, Parquet).

Real reader processes query every published table in a loop while refreshes publish;
each read checks, inside one snapshot, that every table carries the refresh
`published_refresh` names with the row count it lists (tests/bi_readers.py). Zero errors
and zero mixed reads are required, and the readers must have seen more than one refresh
(otherwise nothing overlapped and the test proved nothing). Readers, queries, errors and
p95 latency per target are printed (`pytest -s` shows them).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from cjm.core.config import parse_config
from cjm.publish import publish_marts

ROOT = Path(__file__).resolve().parent.parent
READERS_PER_TARGET = 2
REFRESHES = 3
SCHEMA = "bi_readers"
MARTS = ("cjm", "sentiment", "touchpoints", "stage_conversion", "mentions", "keyword_map")


def _refresh(warehouse: Path, refresh: int) -> None:
    """Marts whose sizes change with every refresh, so a mix shows in the counts too."""
    con = duckdb.connect(str(warehouse))
    con.execute("create schema if not exists marts")
    for i, table in enumerate(MARTS):
        con.execute(
            f"create or replace table marts.{table} as select {refresh} as refresh, range as n, "
            f"'row ' || range as label, now() as at from range({4000 + 700 * refresh + i})"
        )
    con.close()


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else float("nan")


def test_readers_never_see_a_missing_table_or_two_refreshes(
    tmp_path: Path, postgres_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("CJM_TEST_PG_DSN", postgres_server.dsn())
    config = parse_config(
        {
            "brands": [{"name": "Acme", "keywords": ["acme"]}],
            "sources": [{"name": "x", "type": "rss", "url": "http://127.0.0.1/rss"}],
            "publish": {"postgres": {"dsn_env": "CJM_TEST_PG_DSN", "schema": SCHEMA}},
        }
    )
    _refresh(warehouse, 1)
    first = publish_marts(config, warehouse)
    assert first["failed"] == {}
    bi = tmp_path / "bi"
    targets = {
        "postgres": f"{postgres_server.dsn()}#{SCHEMA}",
        "duckdb": str(bi / "marts.duckdb"),
        "parquet": str(bi / "parquet"),
    }
    stop = tmp_path / "stop"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.bi_readers", kind, target, str(stop)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for kind, target in targets.items()
        for _ in range(READERS_PER_TARGET)
    ]
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("stop.ready.*"))) < len(procs):
            assert time.monotonic() < deadline, "the readers did not start"
            assert all(p.poll() is None for p in procs), "a reader died at start"
            time.sleep(0.1)
        publish_seconds: dict[str, list[float]] = {}
        for refresh in range(2, 2 + REFRESHES):
            _refresh(warehouse, refresh)
            result = publish_marts(config, warehouse)
            assert result["failed"] == {}
            for target, secs in result["seconds"].items():
                publish_seconds.setdefault(target, []).append(secs)
            time.sleep(0.3)  # readers read the new refresh before the next one
    finally:
        stop.touch()
        outputs = [p.communicate(timeout=60)[0] for p in procs]
    stats = [json.loads(out) for out in outputs]
    print()
    for kind in targets:
        mine = [s for s in stats if s["kind"] == kind]
        latencies = [ms for s in mine for ms in s["latencies_ms"]]
        print(
            f"{kind}: {len(mine)} readers, {sum(s['reads'] for s in mine)} reads, "
            f"{sum(s['queries'] for s in mine)} queries, "
            f"{sum(len(s['errors']) for s in mine)} errors, "
            f"{sum(len(s['mixed']) for s in mine)} mixed, "
            f"p95 {_p95(latencies):.1f} ms per read of {len(MARTS) + 1} tables"
        )
    print("publish seconds per refresh:", publish_seconds)
    for s in stats:
        assert s["errors"] == [], (s["kind"], s["errors"][:3])
        assert s["mixed"] == [], (s["kind"], s["mixed"][:3])
        assert len(s["refreshes_seen"]) >= 2, (s["kind"], "no refresh overlapped the reads")
