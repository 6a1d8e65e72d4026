"""`make demo` with PostgreSQL configured publishes there too: the demo-size pipeline
(`cjm demo`, a real subprocess) against the test server, every mart's row count equal to
the warehouse's, the ops views beside them, one refresh across all of them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import psycopg

from cjm.refresh.marts import MART_TABLES

ROOT = Path(__file__).resolve().parent.parent


def test_the_demo_publishes_every_mart_to_postgres(tmp_path: Path, postgres_server) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    env = {
        **os.environ,
        "CJM_PUBLISH_TARGETS": "duckdb,parquet,postgres",
        "CJM_PG_DSN": postgres_server.dsn(),
    }
    done = subprocess.run(
        [str(Path(sys.executable).parent / "cjm"), "demo", "--warehouse", str(warehouse)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("[publish]"))
    assert f"127.0.0.1:{postgres_server.port}/postgres" in line, line
    con = duckdb.connect(str(warehouse), read_only=True)
    expected = {
        t: con.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in MART_TABLES
    }
    con.close()
    with psycopg.connect(postgres_server.dsn()) as pg:
        got = {t: pg.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in MART_TABLES}
        refreshes = pg.execute(
            "select count(distinct refresh_id) from marts.published_refresh"
        ).fetchone()[0]
        ops = {
            r[0]
            for r in pg.execute(
                "select table_name from marts.published_refresh where table_name like 'ops\\_%'"
            ).fetchall()
        }
        # the dbt descriptions travel as COMMENTs, which BI tools show beside each column
        table_doc, column_doc = pg.execute(
            "select obj_description('marts.cjm'::regclass, 'pg_class'), "
            "col_description('marts.cjm'::regclass, 1)"
        ).fetchone()
    assert got == expected
    assert min(expected.values()) > 0
    assert refreshes == 1
    assert table_doc and "Customer Journey Map" in table_doc and column_doc
    assert ops == {"ops_quarantine_counts", "ops_validation_runs", "ops_source_freshness"}
