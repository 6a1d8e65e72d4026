"""Publish the marts for BI: a read-only DuckDB file and Parquet files, swapped atomically.

BI tools never read the working warehouse: dbt rebuilds tables there, and a
reader would see half a refresh. They read a copy that is written under a temp
name and renamed into place; on POSIX a rename is atomic and readers that have
the old file open keep a consistent old snapshot.

The Parquet set is one directory per refresh (`.parquet.versions/<version>/`, with a
`_manifest.json` of its tables and row counts) and `parquet` is a symlink switched to
the new one last, in one rename: `bi/parquet/cjm.parquet` keeps working, and a reader
that resolves `bi/parquet` once reads one refresh's files, never two. The previous
versions stay for readers still on them (`KEEP_VERSIONS`); whatever a crashed publish
left (temp files, a version never switched to) is removed by the next one.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
from datetime import UTC, datetime
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


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def copy_comments(con: duckdb.DuckDBPyConnection, source: str, table: str) -> None:
    """The dbt descriptions (persist_docs) of `wh.marts.<table>` onto its copy `<table>`:
    `create table as` copies the data, not the COMMENTs, and BI readers should see
    what a column means where they read it."""
    found = con.execute(
        "select comment from duckdb_tables() where database_name = 'wh' "
        "and schema_name = 'marts' and table_name = ?",
        [table],
    ).fetchone()
    if found and found[0]:
        con.execute(f"comment on table {source}.{table} is {_sql_text(found[0])}")
    for column, comment in con.execute(
        "select column_name, comment from duckdb_columns() where database_name = 'wh' "
        "and schema_name = 'marts' and table_name = ? and comment is not null",
        [table],
    ).fetchall():
        con.execute(f'comment on column {source}.{table}."{column}" is {_sql_text(comment)}')


KEEP_VERSIONS = 3  # Parquet sets kept: the current one and two before it
MANIFEST = "_manifest.json"  # written last into a version: its presence means complete


def _versions_dir(parquet_dir: Path) -> Path:
    return parquet_dir.with_name(f".{parquet_dir.name}.versions")


def _current_version(parquet_dir: Path) -> str | None:
    return os.readlink(parquet_dir).rsplit("/", 1)[-1] if parquet_dir.is_symlink() else None


def _clean_after_crash(bi_path: Path, parquet_dir: Path) -> None:
    """Temp files of a publish that died, and version directories never switched to."""
    for leftover in bi_path.parent.glob(f".{bi_path.name}.*.tmp*"):
        leftover.unlink(missing_ok=True)
    for leftover in parquet_dir.parent.glob(f".{parquet_dir.name}.*.link"):
        leftover.unlink(missing_ok=True)
    versions = _versions_dir(parquet_dir)
    current = _current_version(parquet_dir)
    if versions.is_dir():
        for version in versions.iterdir():
            if version.name != current and not (version / MANIFEST).exists():
                shutil.rmtree(version, ignore_errors=True)


def _switch(parquet_dir: Path, version: Path) -> None:
    """Point `parquet_dir` at `version` in one rename (a Parquet folder published by an
    older release becomes a kept version first)."""
    if parquet_dir.exists() and not parquet_dir.is_symlink():
        os.rename(parquet_dir, version.parent / f"{version.name}-before")
    link = parquet_dir.with_name(f".{parquet_dir.name}.{os.getpid()}.link")
    link.unlink(missing_ok=True)
    link.symlink_to(Path(version.parent.name) / version.name)
    os.replace(link, parquet_dir)


def _prune(parquet_dir: Path) -> None:
    versions = _versions_dir(parquet_dir)
    current = _current_version(parquet_dir)
    done = sorted(
        v for v in versions.iterdir() if (v / MANIFEST).exists() or v.name.endswith("-before")
    )
    for version in done[:-KEEP_VERSIONS]:
        if version.name != current:
            shutil.rmtree(version, ignore_errors=True)


def publish_marts(config: Config, warehouse: Path) -> dict[str, Any]:
    started = time.perf_counter()
    bi_path, parquet_dir = bi_paths(config, warehouse)
    bi_path.parent.mkdir(parents=True, exist_ok=True)
    parquet_dir.parent.mkdir(parents=True, exist_ok=True)
    _clean_after_crash(bi_path, parquet_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    version = _versions_dir(parquet_dir) / stamp
    version.mkdir(parents=True)
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
            copy_comments(con, "main", t)
            rows[t] = con.execute(f"select count(*) from main.{t}").fetchone()[0]
            target = version / f"{t}.parquet"
            con.execute(f"copy main.{t} to '{target}' (format parquet, compression zstd)")
        con.execute("detach wh")
        con.execute("checkpoint")
    finally:
        con.close()
    manifest = {"version": stamp, "tables": rows}
    (version / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    # Read-only on disk too: BI tools must open it with read_only=True and never write.
    tmp_db.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    os.replace(tmp_db, bi_path)
    _switch(parquet_dir, version)
    _prune(parquet_dir)
    return {
        "parquet_version": stamp,
        "duckdb": str(bi_path),
        "parquet_dir": str(parquet_dir),
        "rows": rows,
        "seconds": round(time.perf_counter() - started, 3),
    }
