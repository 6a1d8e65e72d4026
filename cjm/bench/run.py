"""`cjm bench`: what each refresh step costs, and our loader next to the plain limit.

Timings on a shared machine are noisy, so every comparison is a ratio measured
side by side in the same process and run; absolute seconds are printed for context.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cjm.core.contracts import landing_schema, stable_id
from cjm.core.sources import source_types


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def synthetic_mentions(n: int, seed: int = 7) -> pa.Table:
    """Contract-shaped mentions; realistic sizes, not realistic text."""
    rng = np.random.default_rng(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    words = np.array(
        [
            "finly",
            "app",
            "card",
            "support",
            "fees",
            "great",
            "slow",
            "не",
            "работает",
            "спасибо",
            "банк",
            "перевод",
            "delay",
            "refund",
            "love",
            "hate",
        ]
    )
    texts = [" ".join(rng.choice(words, size=12)) for _ in range(min(n, 5000))]
    ids = [str(i) for i in range(n)]
    schema = landing_schema("mention")
    cols: dict[str, Any] = {
        "mention_id": [stable_id("bench", i) for i in ids],
        "source": ["bench"] * n,
        "source_type": ["file"] * n,
        "channel": rng.choice(["telegram", "vk", "media"], size=n).tolist(),
        "native_id": ids,
        "url": [f"https://example.org/{i}" for i in ids],
        "author": [f"user{i % 997}" for i in range(n)],
        "title": [None] * n,
        "text": [texts[i % len(texts)] for i in range(n)],
        "published_at": [
            start + timedelta(seconds=int(s)) for s in rng.integers(0, 86400 * 300, size=n)
        ],
        "fetched_at": [start] * n,
        "language": ["en"] * n,
        "brand": ["Finly"] * n,
        "matched_keywords": [["finly"]] * n,
        "attributes": [None] * n,
        "run_id": ["bench"] * n,
        "_row": [f"bench.csv:{i + 2}" for i in range(n)],
        "_errors": [None] * n,
    }
    return pa.Table.from_pydict(cols, schema=schema)


def bench_load(n: int, workdir: Path) -> dict[str, Any]:
    """Our transactional upsert vs a plain CREATE TABLE AS (the floor) on the same file."""
    from cjm.core.warehouse import ensure_schema
    from cjm.loader import load_batch

    table = synthetic_mentions(n)
    passed = workdir / "passed.parquet"
    pq.write_table(table, passed)
    manifest = {
        "entity": "mention",
        "source": "bench",
        "run_id": "bench",
        "passed_path": str(passed),
        "rows_extracted": n,
        "rows_duplicate": 0,
        "rows_in": n,
        "rows_passed": n,
        "rows_quarantined": 0,
        "success": True,
        "failed_expectations": {},
        "validation_seconds": 0.0,
        "validated_at": datetime.now(UTC).isoformat(),
        "cursor": None,
    }
    plain_db = duckdb.connect(str(workdir / "plain.duckdb"))
    t_plain, _ = _timed(
        lambda: plain_db.execute(
            f"create table m as select * exclude (_row, _errors) from read_parquet('{passed}')"
        )
    )
    plain_db.close()
    con = duckdb.connect(str(workdir / "ours.duckdb"))
    ensure_schema(con)
    t_first, c1 = _timed(lambda: load_batch(con, manifest))
    t_again, c2 = _timed(lambda: load_batch(con, manifest))
    con.close()
    assert c1["inserted"] == n and c2["unchanged"] == n
    return {
        "rows": n,
        "plain_ctas_s": round(t_plain, 3),
        "upsert_first_s": round(t_first, 3),
        "upsert_again_s": round(t_again, 3),
        "first_vs_plain": round(t_first / t_plain, 2),
        "again_vs_plain": round(t_again / t_plain, 2),
        "rows_per_s_first": round(n / t_first),
    }


def bench_validation(n: int) -> dict[str, Any]:
    """GX on pandas (what the pipeline runs) vs the same checks as one DuckDB query."""
    from cjm.expectations.runner import validate_frame

    df = synthetic_mentions(n).to_pandas()
    now = datetime.now(UTC)
    t_gx, outcome = _timed(lambda: validate_frame("mention", df, now=now))
    con = duckdb.connect()
    con.register("b", df)
    types = ", ".join(f"'{s}'" for s in source_types())
    t_sql, _ = _timed(
        lambda: con.execute(
            f"""select count(*) filter (where mention_id is null or native_id is null
                  or text is null or trim(text) = '' or published_at is null
                  or published_at > ?::timestamptz + interval 1 hour or _errors is not null
                  or source_type not in ({types})),
                  count(*) - count(distinct mention_id)
           from b""",
            [now],
        ).fetchall()
    )
    con.close()
    return {
        "rows": n,
        "gx_s": round(t_gx, 3),
        "sql_s": round(t_sql, 3),
        "gx_vs_sql": round(t_gx / max(t_sql, 1e-6), 1),
        "passed": outcome.rows_passed,
    }


def bench_refresh(config_path: str, workdir: Path, demo: bool) -> dict[str, Any]:
    """Step costs of a full refresh, then of a refresh with nothing new (incremental).

    A benchmark must never page anyone: alerts go to the demo's local receiver on the
    demo config and are skipped on any other config.
    """
    from cjm.refresh.pipeline import run_refresh

    os.environ.setdefault("CJM_CUSTOMER_KEY_SECRET", "bench-only")
    wh = workdir / "refresh" / "warehouse.duckdb"
    alert_step = None
    if demo:
        from cjm.demo.receiver import run_demo_alerts

        def alert_step(cfg: Any, warehouse: str | None) -> Any:
            return run_demo_alerts(cfg, warehouse, out=workdir / "alerts.jsonl")

    t1, first = _timed(lambda: run_refresh(config_path, str(wh), alert_step=alert_step))
    t2, second = _timed(lambda: run_refresh(config_path, str(wh), alert_step=alert_step))
    return {
        "first_run": {"total_s": round(t1, 2), **first.steps},
        "second_run": {"total_s": round(t2, 2), **second.steps},
        "rows": {k: v.get("extracted") for k, v in first.sources.items()},
    }


def _get(d: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def summary_table(results: dict[str, Any]) -> Any:
    """The figures a reader compares; the full detail goes to --out as JSON."""
    from rich.table import Table

    r = results
    rows: list[tuple[str, str, Any]] = []
    for run in ("first_run", "second_run"):
        steps = _get(r, "refresh", run) or {}
        label = "refresh (demo, full)" if run == "first_run" else "refresh (nothing new)"
        rows.append((label, "seconds by step", ", ".join(f"{k} {v:.2f}" for k, v in steps.items())))
    rows += [
        ("load", "upsert / plain CTAS", _get(r, "load", "first_vs_plain")),
        ("load", "identical re-load / plain CTAS", _get(r, "load", "again_vs_plain")),
        ("load", "rows/s (upsert)", _get(r, "load", "rows_per_s_first")),
        ("validation", "GX / same checks in SQL", _get(r, "validation", "gx_vs_sql")),
        ("personal data", "policy s per 10^6 CRM records", _get(r, "pii", "policy_s_per_million")),
        ("personal data", "policy / CRM record shaping", _get(r, "pii", "policy_share_of_shaping")),
        ("sources", "rss records/s", _get(r, "sources", "rss", "records_per_s")),
        ("sources", "crm_api records/s", _get(r, "sources", "crm_api", "records_per_s")),
        ("sources", "rest_api records/s", _get(r, "sources", "rest_api", "records_per_s")),
    ]
    rows += [
        (
            "enrichment",
            "mentions/s (one core)",
            _get(r, "enrichment", "speed", "warm_mentions_per_s"),
        ),
        (
            "spikes",
            "precision / recall",
            f"{_get(r, 'spikes', 'precision')} / {_get(r, 'spikes', 'recall')}",
        ),
        ("spikes", "median delay (hours)", _get(r, "spikes", "median_delay_hours")),
    ]
    table = Table(title="cjm bench (ratios measured side by side in this run)")
    for col in ("section", "metric", "value"):
        table.add_column(col)
    for section, metric, value in rows:
        table.add_row(section, metric, "—" if value is None else str(value))
    return table


def run_bench(
    config_path: str,
    rows: int,
    out: Path | None = None,
    demo: bool = False,
    sections_seeds: int = 3,
) -> dict[str, Any]:
    from rich.console import Console

    console = Console()
    with tempfile.TemporaryDirectory(prefix="cjm-bench-") as tmp:
        work = Path(tmp)
        from cjm.bench.alerts import run_spike_bench
        from cjm.bench.enrichment import run_enrichment_bench
        from cjm.bench.pii import bench_pii
        from cjm.bench.sources import bench_sources

        results = {
            "machine": {"cpus": os.cpu_count()},
            "refresh": bench_refresh(config_path, work, demo),
            "load": bench_load(rows, work),
            "validation": bench_validation(rows),
            "pii": bench_pii(rows),
            "sources": bench_sources(),
            "enrichment": run_enrichment_bench(),
            "spikes": run_spike_bench(seeds=sections_seeds),
        }
    console.print(summary_table(results))
    if out:
        out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return results
