"""Publish the marts for BI: a read-only DuckDB file and Parquet files, swapped atomically.

BI tools never read the working warehouse: dbt rebuilds tables there, and a
reader would see half a refresh. They read a copy that is written under a temp
name and renamed into place; on POSIX a rename is atomic and readers that have
the old file open keep a consistent old snapshot.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import Any

import duckdb

from cjm.core.config import Config
from cjm.core.paths import bi_dir_for


def mart_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_catalog = 'wh' "
        "and table_schema = 'marts' and table_type = 'BASE TABLE' order by 1"
    ).fetchall()
    return [r[0] for r in rows]


def bi_paths(config: Config, warehouse: Path) -> tuple[Path, Path]:
    bi_dir = bi_dir_for(warehouse)
    pub = config.publish
    duck = config.resolve(pub.duckdb_path) if pub.duckdb_path else bi_dir / "marts.duckdb"
    parquet = config.resolve(pub.parquet_dir) if pub.parquet_dir else bi_dir / "parquet"
    return duck, parquet


def publish_marts(config: Config, warehouse: Path) -> dict[str, Any]:
    started = time.perf_counter()
    bi_path, parquet_dir = bi_paths(config, warehouse)
    bi_path.parent.mkdir(parents=True, exist_ok=True)
    parquet_dir.mkdir(parents=True, exist_ok=True)
    tmp_db = bi_path.with_name(f".{bi_path.name}.{os.getpid()}.tmp")
    tmp_db.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp_db))
    try:
        con.execute(f"attach '{warehouse}' as wh (read_only)")
        tables = mart_tables(con)
        if not tables:
            raise RuntimeError(f"{warehouse}: no marts.* tables to publish; did dbt build run?")
        # Tables go in the file's default schema: opened directly, the file's catalog is
        # called `marts` (after the file name), so BI queries read `marts.cjm` unchanged;
        # a schema also called marts would make that name ambiguous.
        rows: dict[str, int] = {}
        for t in tables:
            con.execute(f"create table main.{t} as select * from wh.marts.{t}")
            rows[t] = con.execute(f"select count(*) from main.{t}").fetchone()[0]
            tmp_pq = parquet_dir / f".{t}.parquet.{os.getpid()}.tmp"
            con.execute(f"copy wh.marts.{t} to '{tmp_pq}' (format parquet, compression zstd)")
            os.replace(tmp_pq, parquet_dir / f"{t}.parquet")
        con.execute("detach wh")
        con.execute("checkpoint")
    finally:
        con.close()
    # Read-only on disk too: BI tools must open it with read_only=True and never write.
    tmp_db.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    os.replace(tmp_db, bi_path)
    return {
        "duckdb": str(bi_path),
        "parquet_dir": str(parquet_dir),
        "rows": rows,
        "seconds": round(time.perf_counter() - started, 3),
    }
