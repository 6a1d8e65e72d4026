"""The suites' row checks as one DuckDB query over a landing file: GX judges what it flags.

Why: on GX's pandas path each checkpoint run costs about a second per 100,000 rows
whatever the checks (it copies and fingerprints the frame and builds a result per
row), which made validation as slow as loading. The suite (suites.py) stays the one
definition of what is valid and GX stays the judge: every expectation is compiled
here into a SQL condition that is true for at least every row GX would fail (it may
flag more: DuckDB's RE2 reads `$` more strictly than Python). The rows it flags go
through GX, which decides and writes the reasons; the rest pass without a GX run.
A canary of unflagged rows goes through GX on every run too, and any row GX fails
among them stops the batch (`ValidationError`), so a check this module translated
too leniently is caught instead of passing bad rows.

An expectation type without a translation here is an error when the suite is
compiled: a new check cannot be skipped silently.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from cjm.core.contracts import ENTITIES
from cjm.core.sources import source_types

from .suites import LATEST_ALLOWED_PARAMETER, suite_for

# Python's `\s` on str patterns is every character str.isspace() accepts; RE2's is
# ASCII only, so `\S` would let a value of non-breaking spaces through.
_PY_SPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
_SPACE_CLASS = "".join(f"\\x{{{ord(c):x}}}" for c in _PY_SPACE)


class UntranslatedExpectation(RuntimeError):
    """The suite has a check this module cannot state in SQL."""


@dataclass(frozen=True)
class Screen:
    """Row positions of one landing file: earlier repeats of an id (dropped, the last
    one wins) and the rows some check may fail (for GX to judge)."""

    repeated: np.ndarray
    flagged: np.ndarray


def python_regex_in_re2(pattern: str) -> str:
    """A Python `re.search` pattern as RE2, with Python's meaning of `\\s` and `\\S`."""
    out = pattern.replace(r"\S", f"[^{_SPACE_CLASS}]").replace(r"\s", f"[{_SPACE_CLASS}]")
    # \w, \d and \b are Unicode-aware in Python and ASCII in RE2; lookarounds are not RE2.
    if re.search(r"\\[wWdDbB]|\(\?[<=!]", out):
        raise UntranslatedExpectation(f"regex {pattern!r}: no RE2 form with Python's meaning")
    return out


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _failing(expectation: Any, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """SQL true for (at least) every row the expectation fails; with its parameters."""
    kind = expectation.expectation_type
    column = expectation.column
    col = f'"{column}"'
    if kind == "expect_column_values_to_not_be_null":
        return f"{col} is null", {}
    if kind == "expect_column_values_to_be_null":
        return f"{col} is not null", {}
    if kind == "expect_column_values_to_be_unique":  # every row of a repeated value
        return f"{col} is not null and count(*) over (partition by {col}) > 1", {}
    if kind == "expect_column_values_to_be_in_set":
        values = ", ".join(_quote(str(v)) for v in expectation.value_set)
        return f"{col} is not null and {col} not in ({values})", {}
    if kind == "expect_column_values_to_match_regex":
        regex = python_regex_in_re2(expectation.regex)
        return f"{col} is not null and not regexp_matches({col}, {_quote(regex)})", {}
    if kind == "expect_column_values_to_be_between":
        parts, bound = [], {}
        for op, name in (("<", "min_value"), (">", "max_value")):
            value = getattr(expectation, name)
            if value is None:
                continue
            if isinstance(value, dict) and "$PARAMETER" in value:
                value = params[value["$PARAMETER"]]
            key = f"{column}_{name}"
            bound[key] = value
            parts.append(f"{col} {op} ${key}")
        if getattr(expectation, "strict_min", False) or getattr(expectation, "strict_max", False):
            raise UntranslatedExpectation(f"{kind}/{column}: strict bounds")
        return f"{col} is not null and ({' or '.join(parts)})", bound
    raise UntranslatedExpectation(f"{kind}/{column}: no SQL translation")


@cache
def _suite(entity: str, types: tuple[str, ...]) -> tuple[Any, ...]:
    suite = suite_for(entity)
    for e in suite.expectations:  # fail on an untranslatable check now, not mid-run
        _failing(e, {LATEST_ALLOWED_PARAMETER: datetime.now()})
    return tuple(suite.expectations)


def screen(
    entity: str, path: str, latest_allowed: datetime, memory_limit: str | None = None
) -> Screen:
    """One pass of DuckDB over the landing file (streamed, not loaded). An empty file
    (a run with nothing new) is not screened: building the suites imports GX, ~9 s.
    `memory_limit` (config `warehouse.memory_limit`): past it the in-memory database
    spills beside the landing file, so the repeat search over a large file stays bounded."""
    import duckdb
    import pyarrow.parquet as pq

    if pq.ParquetFile(path).metadata.num_rows == 0:
        nothing = np.empty(0, dtype=np.int64)
        return Screen(repeated=nothing, flagged=nothing)

    id_col = ENTITIES[entity]["id"]
    params: dict[str, Any] = {"path": path}
    conditions = []
    for e in _suite(entity, source_types()):
        sql, bound = _failing(e, {LATEST_ALLOWED_PARAMETER: latest_allowed})
        conditions.append(f"({sql})")
        params.update(bound)
    flagged_sql = " or ".join(conditions) or "false"
    settings = {"temp_directory": str(Path(path).parent / ".screen.tmp")}
    if memory_limit:
        settings["memory_limit"] = memory_limit
    con = duckdb.connect(":memory:", config=settings)
    try:
        con.execute("set timezone = 'UTC'")
        con.execute(
            f"""create temp table _rows as
                select file_row_number as pos,
                       {id_col} is not null and row_number() over (
                           partition by {id_col} order by file_row_number desc) > 1 as repeat
                from read_parquet($path, file_row_number = true)""",
            {"path": path},
        )
        repeated = con.execute("select pos from _rows where repeat order by pos").fetchnumpy()
        flagged = con.execute(
            f"""select pos from (
                    select l.file_row_number as pos, {flagged_sql} as bad
                    from read_parquet($path, file_row_number = true) l
                    semi join _rows r on r.pos = l.file_row_number and not r.repeat)
                where bad order by pos""",
            params,
        ).fetchnumpy()
    finally:
        con.close()
    return Screen(
        repeated=np.asarray(repeated["pos"], dtype=np.int64),
        flagged=np.asarray(flagged["pos"], dtype=np.int64),
    )
