"""Shared helpers for tests that run the real pipeline on real DuckDB files."""

from __future__ import annotations

from pathlib import Path

import duckdb

from cjm.refresh.marts import MART_TABLES

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
MARTS = list(MART_TABLES)


def snapshot(
    warehouse: Path, schemas: tuple[str, ...] = ("raw", "ops", "config", "marts")
) -> dict[str, list[tuple]]:
    """Every row of every table in the given schemas, sorted: equal snapshots = equal data."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in ({', '.join('?' * len(schemas))}) "
            "and table_type = 'BASE TABLE' order by 1, 2",
            list(schemas),
        ).fetchall()
        out = {}
        for schema, name in tables:
            rows = con.execute(f'select * from "{schema}"."{name}"').fetchall()
            out[f"{schema}.{name}"] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def scalar(warehouse: Path, sql: str, params: list | None = None):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchone()[0]
    finally:
        con.close()


def rows(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()
