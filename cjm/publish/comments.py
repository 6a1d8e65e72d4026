"""The dbt descriptions (persist_docs COMMENTs) of one DuckDB table, for the copies.

`create table as` copies the data, not the COMMENTs; the BI file and PostgreSQL get
them from here, so BI readers see what a column means where they read it.
"""

from __future__ import annotations

import duckdb


def table_comments(
    con: duckdb.DuckDBPyConnection, database: str, schema: str, table: str
) -> tuple[str | None, list[tuple[str, str]]]:
    """The table's comment and (column, comment) of each commented column."""
    where = "database_name = ? and schema_name = ? and table_name = ?"
    found = con.execute(
        f"select comment from duckdb_tables() where {where}", [database, schema, table]
    ).fetchone()
    columns = con.execute(
        f"select column_name, comment from duckdb_columns() where {where} "
        "and comment is not null order by column_index",
        [database, schema, table],
    ).fetchall()
    return (found[0] if found else None), columns
