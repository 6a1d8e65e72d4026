"""A BI reader process for tests/test_bi_readers.py: reads every published table in a
loop, the way a dashboard does, and checks that one read saw one refresh.

    python -m tests.bi_readers {postgres|duckdb|parquet} TARGET STOP_FILE

One read is: `published_refresh` (one row per table: refresh_id, row_count), then every
table it lists (count, refresh ids) inside one snapshot — PostgreSQL: a REPEATABLE READ
transaction; DuckDB file: one read-only connection; Parquet: the folder's link resolved
once. A read is "mixed" when a table's refresh_id or row count is not the listed one.
Prints one JSON line: reads, queries, errors, mixed, refresh ids seen, latencies (ms).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

MAX_SECONDS = 90  # a reader never outlives a test that forgot to stop it
THINK_SECONDS = 0.002  # between tables, as a dashboard issuing one query per chart


def _check(listed: list[tuple[str, str, int]], read: Callable[[str], tuple]) -> tuple[str, int]:
    """(refresh_id, queries) of one consistent read; raises AssertionError if mixed."""
    ids = {r for _, r, _ in listed}
    if len(ids) != 1 or not listed:
        raise AssertionError(f"published_refresh lists {sorted(ids)} ({len(listed)} rows)")
    (refresh_id,) = ids
    for table, _, expected in listed:
        n, low, high = read(table)
        if (n, low, high) != (expected, refresh_id, refresh_id):
            raise AssertionError(
                f"{table}: {n} rows of refresh {low}..{high}, "
                f"published_refresh says {expected} of {refresh_id}"
            )
        time.sleep(THINK_SECONDS)
    return refresh_id, 1 + len(listed)


_kept: dict[str, Any] = {}  # connections kept per reader process, as a BI tool's pool


def read_postgres(dsn_and_schema: str) -> tuple[str, int]:
    import psycopg

    dsn, schema = dsn_and_schema.rsplit("#", 1)
    if "con" not in _kept:
        _kept["con"] = psycopg.connect(dsn, autocommit=True)
    con = _kept["con"]
    con.execute("begin isolation level repeatable read")
    try:
        listed = con.execute(
            f"select table_name, refresh_id, row_count from {schema}.published_refresh"
        ).fetchall()
        return _check(
            listed,
            lambda t: con.execute(
                f"select count(*), min(refresh_id), max(refresh_id) from {schema}.{t}"
            ).fetchone(),
        )
    finally:
        con.execute("rollback")


def read_duckdb(path: str) -> tuple[str, int]:
    import duckdb

    con = duckdb.connect(path, read_only=True)
    try:
        listed = con.execute(
            "select table_name, refresh_id, row_count from published_refresh"
        ).fetchall()
        return _check(
            listed,
            lambda t: con.execute(
                f"select count(*), min(refresh_id), max(refresh_id) from {t}"
            ).fetchone(),
        )
    finally:
        con.close()


def read_parquet(folder: str) -> tuple[str, int]:
    import duckdb

    version = os.path.realpath(folder)  # once: every file below comes from this refresh
    if "parquet" not in _kept:  # an in-memory engine kept open, as a notebook's
        _kept["parquet"] = duckdb.connect()
    con = _kept["parquet"]
    listed = con.execute(
        "select table_name, refresh_id, row_count "
        f"from read_parquet('{version}/published_refresh.parquet')"
    ).fetchall()
    return _check(
        listed,
        lambda t: con.execute(
            "select count(*), min(refresh_id), max(refresh_id) "
            f"from read_parquet('{version}/{t}.parquet')"
        ).fetchone(),
    )


READERS = {"postgres": read_postgres, "duckdb": read_duckdb, "parquet": read_parquet}


def main(kind: str, target: str, stop_file: str) -> dict[str, Any]:
    read = READERS[kind]
    stats: dict[str, Any] = {"kind": kind, "reads": 0, "queries": 0, "errors": [], "mixed": []}
    seen: set[str] = set()
    latencies: list[float] = []
    started = time.monotonic()
    ready = Path(f"{stop_file}.ready.{os.getpid()}")
    while not os.path.exists(stop_file) and time.monotonic() - started < MAX_SECONDS:
        t0 = time.perf_counter()
        try:
            refresh_id, queries = read(target)
        except AssertionError as exc:
            stats["mixed"].append(str(exc))
        except Exception as exc:
            stats["errors"].append(f"{type(exc).__name__}: {exc}")
            _kept.pop("con", None)  # a broken connection is not reused
        else:
            seen.add(refresh_id)
            stats["queries"] += queries
            latencies.append((time.perf_counter() - t0) * 1000)
        stats["reads"] += 1
        ready.touch()  # the first read is done: the test may start refreshing
    stats["refreshes_seen"] = sorted(seen)
    stats["latencies_ms"] = latencies
    ready.unlink(missing_ok=True)
    return stats


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
