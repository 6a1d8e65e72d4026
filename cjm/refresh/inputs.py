"""What dbt's build reads, as one fingerprint: a refresh whose fingerprint equals the
last successful build's has nothing for dbt to do, and skips it.

A refresh that found nothing new still cost a whole `dbt build` (768 nodes, ~40 s at
10^5 mentions, almost all of it per-node overhead): the marts are a function of the
raw and config tables, the dbt project (models, macros, seeds) and the product's code
and shipped sentiment models, and of nothing else — no model reads the clock. So when
none of those changed since the last build that succeeded, the marts it left are
exactly what a new build would write.

The raw tables are read cheaply: their row count, newest `updated_at` and an XOR of
(key, `updated_at`) hashes — the loader stamps `updated_at` on every insert and on every
row it rewrites, so any change moves them. Config tables are small and hashed whole.
Files are hashed by path and bytes. A build is recorded in `ops.dbt_builds` only when
it succeeded, so a build that failed or was killed is run again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import duckdb

import cjm
from cjm.core.contracts import ENTITIES
from cjm.core.paths import dbt_project_dir

# Build output and caches inside a project folder: not inputs.
_NOT_INPUTS = frozenset({"target", "logs", "__pycache__", ".pytest_cache"})


def _files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not _NOT_INPUTS.intersection(p.relative_to(root).parts)
    )


def _hash_files(digest: Any, root: Path, label: str) -> None:
    for path in _files(root):
        digest.update(f"{label}/{path.relative_to(root).as_posix()}\0".encode())
        digest.update(path.read_bytes())
        digest.update(b"\0")


def code_fingerprint(project_dir: Path | None = None) -> str:
    """The dbt project's files and the product's code and model files."""
    digest = hashlib.sha256(f"cjm {cjm.__version__}\0".encode())
    _hash_files(digest, Path(project_dir or dbt_project_dir()).resolve(), "dbt")
    package = Path(cjm.__file__).resolve().parent
    for path in sorted(package.rglob("*")):
        if path.suffix in {".py", ".npz"} and "__pycache__" not in path.parts:
            digest.update(f"cjm/{path.relative_to(package).as_posix()}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def data_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """The raw and config tables dbt reads (its sources)."""
    digest = hashlib.sha256()
    for entity in ENTITIES.values():  # the raw tables, by their primary key
        table, key = entity["table"], entity["id"]
        row = con.execute(
            f"select count(*), max(updated_at)::varchar, "
            f"coalesce(bit_xor(hash({key}, updated_at)), 0) from {table}"
        ).fetchone()
        digest.update(f"{table}:{row}\0".encode())
    tables = con.execute(
        "select table_name from information_schema.tables "
        "where table_schema = 'config' and table_catalog = current_database() "
        "order by table_name"
    ).fetchall()
    for (table,) in tables:
        row = con.execute(
            f"select count(*), md5(coalesce(string_agg(t::varchar, chr(31) "
            f"order by t::varchar), '')) from config.{table} t"
        ).fetchone()
        digest.update(f"config.{table}:{row}\0".encode())
    return digest.hexdigest()


def fingerprint(con: duckdb.DuckDBPyConnection, project_dir: Path | None = None) -> str:
    return hashlib.sha256(
        f"{code_fingerprint(project_dir)}:{data_fingerprint(con)}".encode()
    ).hexdigest()


def last_build(con: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    """(run_id, fingerprint) of the newest successful build, if any."""
    row = con.execute(
        "select run_id, inputs from ops.dbt_builds order by built_at desc, rowid desc limit 1"
    ).fetchone()
    return (str(row[0]), str(row[1])) if row else None


def record_build(con: duckdb.DuckDBPyConnection, run_id: str, inputs: str, seconds: float) -> None:
    con.execute(
        "insert into ops.dbt_builds (run_id, inputs, built_at, seconds) values (?, ?, now(), ?)",
        [run_id, inputs, seconds],
    )
