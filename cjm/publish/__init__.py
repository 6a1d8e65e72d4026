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
from cjm.core.warehouse import limit_memory
from cjm.publish.comments import table_comments


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


def copy_comments(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """The dbt descriptions of `wh.marts.<table>` onto its copy in the staging file
    (PostgreSQL gets them from there)."""
    table_doc, columns = table_comments(con, "wh", "marts", table)
    if table_doc:
        con.execute(f"comment on table main.{table} is {_sql_text(table_doc)}")
    for column, comment in columns:
        con.execute(f'comment on column main.{table}."{column}" is {_sql_text(comment)}')
    con.execute(
        f"comment on column main.{table}.refresh_id is "
        f"{_sql_text('The refresh this row was published by (see published_refresh).')}"
    )


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


REFRESH_TABLE = "published_refresh"  # one row per published table of this refresh

# Analyst-facing views of the ops tables, published beside the marts (only those whose
# ops table exists in the warehouse). Reasons are grouped by their kind: the text in
# brackets names the offending value, one per record.
OPS_VIEWS = {
    "ops_quarantine_counts": (
        "quarantine",
        """select source, entity, split_part(reason, ' (', 1) as reason,
                  count(*) as records, min(quarantined_at) as first_quarantined_at,
                  max(quarantined_at) as last_quarantined_at
           from wh.ops.quarantine group by all""",
    ),
    "ops_validation_runs": (
        "validation_runs",
        """select run_id, entity, source, rows_seen, rows_off_brand, rows_extracted,
                  rows_duplicate, rows_in, rows_passed, rows_quarantined, rows_inserted,
                  rows_updated, rows_unchanged, success, failed_expectations,
                  validation_seconds, validated_at, loaded_at
           from wh.ops.validation_runs""",
    ),
    "ops_source_freshness": (
        "validation_runs",
        """select source, any_value(entity) as entity, count(*) as runs,
                  arg_max(run_id, validated_at) as last_run_id,
                  arg_max(success, validated_at) as last_run_success,
                  arg_max(rows_passed, validated_at) as last_run_rows_passed,
                  max(validated_at) as last_validated_at, max(loaded_at) as last_loaded_at,
                  round(date_diff('second', max(loaded_at), $published_at) / 3600.0, 2)
                      as hours_since_load
           from wh.ops.validation_runs group by source""",
    ),
}


def _ops_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_catalog = 'wh' "
        "and table_schema = 'ops'"
    ).fetchall()
    return {r[0] for r in rows}


def _stage(
    con: duckdb.DuckDBPyConnection, refresh_id: str, published_at: datetime
) -> dict[str, int]:
    """Every published table in the staging file, each row tagged with `refresh_id`,
    and `published_refresh` listing them: a reader checks one refresh across tables."""
    tables = mart_tables(con)
    if not tables:
        raise RuntimeError("no marts.* tables to publish; did dbt build run?")
    # Tables go in the file's default schema: opened directly, the file's catalog is
    # called `marts` (after the file name), so BI queries read `marts.cjm` unchanged;
    # a schema also called marts would make that name ambiguous.
    queries = {t: f"select * from wh.marts.{t}" for t in tables}
    ops = _ops_tables(con)
    queries |= {name: q for name, (needs, q) in OPS_VIEWS.items() if needs in ops}
    rows: dict[str, int] = {}
    for name, query in queries.items():
        con.execute(
            f"create table main.{name} as select *, $refresh_id as refresh_id from ({query})",
            {"refresh_id": refresh_id, "published_at": published_at}
            if "$published_at" in query
            else {"refresh_id": refresh_id},
        )
        if name in tables:
            copy_comments(con, name)
        rows[name] = con.execute(f"select count(*) from main.{name}").fetchone()[0]
    con.execute(
        f"create table main.{REFRESH_TABLE} (refresh_id varchar, published_at timestamptz, "
        "table_name varchar, row_count bigint)"
    )
    con.executemany(
        f"insert into main.{REFRESH_TABLE} values (?, ?, ?, ?)",
        [(refresh_id, published_at, name, n) for name, n in rows.items()],
    )
    return rows


def publish_marts(config: Config, warehouse: Path) -> dict[str, Any]:
    """Stage one refresh, then publish it to each configured target (publish.targets).

    A target that fails is reported in `failed` (one line each) and the others still
    publish; its readers keep the previous refresh."""
    started = time.perf_counter()
    targets = config.publish.enabled_targets
    bi_path, parquet_dir = bi_paths(config, warehouse)
    bi_path.parent.mkdir(parents=True, exist_ok=True)
    if "parquet" in targets:
        parquet_dir.parent.mkdir(parents=True, exist_ok=True)
    _clean_after_crash(bi_path, parquet_dir)
    published_at = datetime.now(UTC)
    refresh_id = published_at.strftime("%Y%m%dT%H%M%S%fZ")
    seconds: dict[str, float] = {}
    failed: dict[str, str] = {}
    tmp_db = bi_path.with_name(f".{bi_path.name}.{os.getpid()}.tmp")
    tmp_db.unlink(missing_ok=True)
    version = _versions_dir(parquet_dir) / refresh_id
    con = duckdb.connect(str(tmp_db))
    try:
        limit_memory(con, config.warehouse.memory_limit)
        con.execute(f"attach '{warehouse}' as wh (read_only)")
        try:
            rows = _stage(con, refresh_id, published_at)
        except RuntimeError as exc:
            raise RuntimeError(f"{warehouse}: {exc}") from None
        con.execute("detach wh")
        con.execute("checkpoint")
        seconds["stage"] = round(time.perf_counter() - started, 3)
        if "parquet" in targets:
            t0 = time.perf_counter()
            version.mkdir(parents=True)
            for name in [*rows, REFRESH_TABLE]:
                target = version / f"{name}.parquet"
                con.execute(f"copy main.{name} to '{target}' (format parquet, compression zstd)")
            manifest = {
                "version": refresh_id,
                "published_at": published_at.isoformat(),
                "tables": rows,
            }
            (version / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
            seconds["parquet"] = round(time.perf_counter() - t0, 3)
    finally:
        con.close()
    staged = tmp_db
    try:
        if "duckdb" in targets:
            # Read-only on disk too: BI tools must open it with read_only=True and never write.
            tmp_db.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            os.replace(tmp_db, bi_path)
            staged = bi_path
        if "parquet" in targets:
            t0 = time.perf_counter()
            _switch(parquet_dir, version)
            _prune(parquet_dir)
            seconds["parquet"] = round(seconds["parquet"] + time.perf_counter() - t0, 3)
        postgres: dict[str, Any] = {}
        if "postgres" in targets:
            from cjm.publish.postgres import PostgresPublishError, publish_postgres

            assert config.publish.postgres  # the config model guarantees it
            t0 = time.perf_counter()
            try:
                postgres = publish_postgres(
                    config.publish.postgres, staged, [*rows, REFRESH_TABLE], refresh_id
                )
            except PostgresPublishError as exc:
                failed["postgres"] = str(exc)
            seconds["postgres"] = round(time.perf_counter() - t0, 3)
    finally:
        if staged == tmp_db:
            tmp_db.unlink(missing_ok=True)
            Path(f"{tmp_db}.wal").unlink(missing_ok=True)
    seconds["total"] = round(time.perf_counter() - started, 3)
    return {
        "refresh_id": refresh_id,
        "published_at": published_at.isoformat(),
        "targets": targets,
        "parquet_version": refresh_id if "parquet" in targets else None,
        "duckdb": str(bi_path) if "duckdb" in targets else None,
        "parquet_dir": str(parquet_dir) if "parquet" in targets else None,
        "postgres": postgres or None,
        "rows": rows,
        "failed": failed,
        "seconds": seconds,
    }
