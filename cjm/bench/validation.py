"""Benchmark: GX row-level validation vs the same checks as one DuckDB SQL query.

Not a test; run it by hand when the suites or the stack change:

    .venv/bin/python -m cjm.bench.validation [--rows 100000,1000000]

Why: validation runs on every batch before it loads, so its cost sets the floor
of a refresh. GX on pandas is what works on this stack (its DuckDB SQL datasource
fails, see cjm/expectations/runner.py); this prints what that costs against DuckDB doing
the same checks, so the choice stays a measured one.

Each size is timed on a batch with a share of bad rows (every kind the suite
knows), for: validate_frame (GX + splitting + reasons), a DuckDB query counting
failures per check, and a DuckDB query returning the quarantined rows with a
reason (what validate_frame produces). Both engines must agree on the counts.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

# Run as a script from anywhere: make the project's packages importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from cjm.core.contracts import landing_schema
from cjm.core.sources import source_types
from cjm.expectations import validate_frame

NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
TOLERANCE = timedelta(hours=1)
T = TypeVar("T")


def synthetic_mentions(n: int, bad_fraction: float, seed: int = 7) -> pd.DataFrame:
    """n mentions in the landing contract; about bad_fraction of them broken in one way."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"{i:032x}" for i in range(n)], dtype=object)
    published = pd.Timestamp(NOW) - pd.to_timedelta(rng.integers(0, 86_400 * 30, n), unit="s")
    data: dict[str, object] = {
        "mention_id": ids,
        "source": np.full(n, "habr_rss", dtype=object),
        "source_type": rng.choice(np.array(source_types(), dtype=object), n),
        "channel": np.full(n, "habr", dtype=object),
        "native_id": ids.copy(),
        "url": np.full(n, "https://example.org/x", dtype=object),
        "author": np.full(n, "someone", dtype=object),
        "title": np.full(n, "A title", dtype=object),
        "text": np.full(n, "Acme has launched a new product, reviews are mixed", dtype=object),
        "published_at": published,
        "fetched_at": np.full(n, pd.Timestamp(NOW)),
        "language": rng.choice(np.array(["ru", "en"], dtype=object), n),
        "brand": np.full(n, "acme", dtype=object),
        "attributes": np.full(n, "{}", dtype=object),
        "run_id": np.full(n, "bench", dtype=object),
        "_row": np.array([f"inbox/a.csv:{i + 2}" for i in range(n)], dtype=object),
        "_errors": np.full(n, None, dtype=object),
    }
    df = pd.DataFrame(data)
    df["published_at"] = pd.to_datetime(df["published_at"], utc=True)
    df["fetched_at"] = pd.to_datetime(df["fetched_at"], utc=True)

    bad = rng.choice(n, int(n * bad_fraction), replace=False)
    kinds = np.array_split(bad, 8)
    df.loc[kinds[0], "mention_id"] = None
    df.loc[kinds[1], "text"] = "   "
    df.loc[kinds[2], "published_at"] = pd.NaT
    df.loc[kinds[2], "_errors"] = "published_at: '31.02.2024 10:00' does not match format"
    df.loc[kinds[3], "published_at"] = pd.Timestamp(NOW + timedelta(days=2))
    df.loc[kinds[4], "source_type"] = "twitter"
    df.loc[kinds[5], "language"] = "english"
    df.loc[kinds[6], "native_id"] = None
    if len(kinds[7]) > 1:  # a repeated id: the second copy takes the first one's id
        df.loc[kinds[7][1:], "mention_id"] = df.loc[kinds[7][0], "mention_id"]

    keywords = pa.ListArray.from_arrays(
        pa.array(np.arange(n + 1, dtype=np.int32)), pa.array(np.full(n, "acme", dtype=object))
    )
    table = pa.Table.from_pandas(df, preserve_index=False).append_column(
        "matched_keywords", keywords
    )
    return table.select(landing_schema("mention").names).cast(landing_schema("mention")).to_pandas()


FLAGS_SQL = """
with flagged as (
    select
        row_number() over () - 1 as pos,
        mention_id is null as no_id,
        mention_id is not null and count(*) over (partition by mention_id) > 1 as dup_id,
        source is null as no_source,
        source_type is null as no_source_type,
        source_type not in ({source_types}) as bad_source_type,
        native_id is null as no_native_id,
        text is null as no_text,
        not regexp_matches(text, '\\S') as blank_text,
        published_at is null as no_published_at,
        published_at < timestamptz '1990-01-01 00:00:00+00'
            or published_at > $latest as bad_published_at,
        not regexp_matches(language, '^[a-z]{{2}}$') as bad_language,
        _errors is not null as has_errors
    from batch
)
"""

COUNTS_SQL = """
select
    count(*) filter (no_id) as no_id,
    count(*) filter (dup_id) as dup_id,
    count(*) filter (no_source) as no_source,
    count(*) filter (no_source_type) as no_source_type,
    count(*) filter (bad_source_type) as bad_source_type,
    count(*) filter (no_native_id) as no_native_id,
    count(*) filter (no_text) as no_text,
    count(*) filter (blank_text) as blank_text,
    count(*) filter (no_published_at) as no_published_at,
    count(*) filter (bad_published_at) as bad_published_at,
    count(*) filter (bad_language) as bad_language,
    count(*) filter (has_errors) as has_errors
from flagged
"""

QUARANTINE_SQL = """
select pos, concat_ws('; ',
    case when no_id then 'mention_id: missing' end,
    case when dup_id then 'mention_id: duplicate id' end,
    case when no_source then 'source: missing' end,
    case when no_source_type then 'source_type: missing' end,
    case when bad_source_type then 'source_type: unknown value' end,
    case when no_native_id then 'native_id: missing' end,
    case when no_text then 'text: missing' end,
    case when blank_text then 'text: empty or whitespace only' end,
    case when no_published_at then 'published_at: missing or unparseable' end,
    case when bad_published_at then 'published_at: out of range' end,
    case when bad_language then 'language: not ISO 639-1' end,
    case when has_errors then '_errors' end
) as reason
from flagged
where no_id or dup_id or no_source or no_source_type or bad_source_type or no_native_id
    or no_text or blank_text or no_published_at or bad_published_at or bad_language
    or has_errors
order by pos
"""


def duckdb_checks(batch: object) -> tuple[float, dict[str, int], float, int]:
    """Seconds and counts of the counting query; seconds and rows of the quarantine query.

    `batch` is what DuckDB scans: the pandas frame GX gets, or the Arrow table an
    extractor hands over (DuckDB reads Arrow without converting it).
    """
    con = duckdb.connect()
    con.register("batch", batch)
    flags = FLAGS_SQL.format(source_types=", ".join(f"'{s}'" for s in source_types()))
    params = {"latest": NOW + TOLERANCE}

    started = time.perf_counter()
    cursor = con.execute(flags + COUNTS_SQL, params)
    row = cursor.fetchone()
    assert row is not None
    counts = dict(zip([d[0] for d in cursor.description], row, strict=True))
    count_seconds = time.perf_counter() - started

    started = time.perf_counter()
    quarantined = con.execute(flags + QUARANTINE_SQL, params).df()
    rows_seconds = time.perf_counter() - started
    con.close()
    return count_seconds, counts, rows_seconds, len(quarantined)


def best_of(runs: int, fn: Callable[[], T]) -> tuple[float, T]:
    """Fastest wall time of `runs` calls, and the last result."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", default="100000,1000000", help="comma-separated sizes")
    parser.add_argument("--bad-fraction", type=float, default=0.01)
    parser.add_argument("--runs", type=int, default=2, help="best of N per measurement")
    args = parser.parse_args()

    started = time.perf_counter()
    validate_frame("mention", synthetic_mentions(10, 0.0), now=NOW)
    first = time.perf_counter() - started
    print(f"first call (GX import, context, suite, checkpoint): {first:.2f} s")
    print(f"best of {args.runs}; seconds")
    print(
        f"{'rows':>9} {'bad':>6} | {'arrow->pandas':>13} {'GX validate_frame':>17} | "
        f"{'duckdb/arrow counts':>19} {'rows+reason':>11} | {'duckdb/pandas rows+reason':>25} | "
        f"{'GX / duckdb-arrow rows':>22}"
    )
    for n in (int(x) for x in args.rows.split(",")):
        df = synthetic_mentions(n, args.bad_fraction)
        table = pa.Table.from_pandas(df, preserve_index=False)
        convert_s, _ = best_of(args.runs, table.to_pandas)
        gx_s, outcome = best_of(
            args.runs,
            lambda df=df: validate_frame("mention", df, now=NOW, future_tolerance=TOLERANCE),
        )
        _, (count_s, counts, rows_s, rows_bad) = best_of(
            args.runs, lambda t=table: duckdb_checks(t)
        )
        _, (_, _, rows_pd_s, _) = best_of(args.runs, lambda df=df: duckdb_checks(df))
        if rows_bad != outcome.rows_quarantined:
            raise SystemExit(f"engines disagree: gx {outcome.rows_quarantined}, duckdb {rows_bad}")
        print(
            f"{n:>9} {outcome.rows_quarantined:>6} | {convert_s:>13.3f} {gx_s:>17.3f} | "
            f"{count_s:>19.3f} {rows_s:>11.3f} | {rows_pd_s:>25.3f} | {gx_s / rows_s:>21.1f}x"
        )
        gx_counts = sorted(outcome.failed_expectations.values())
        sql_counts = sorted(v for v in counts.values() if v)
        if gx_counts != sql_counts:
            raise SystemExit(f"per-check counts differ: gx {gx_counts}, duckdb {sql_counts}")


if __name__ == "__main__":
    main()
