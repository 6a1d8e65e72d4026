"""Benchmark of the journey models: full dbt build, then incremental refreshes.

    .venv/bin/python -m cjm.bench.journeys --events 1000000

Generates planted journeys (cjm/bench/journey_data.py) of about `events` CRM events,
loads 99% of them (by event time) and builds the journey marts (full build), then
loads the last 1% plus 0.2% late-arriving older events and builds again
(incremental), then builds once more with nothing new. `bench_journeys()` returns
the figures as a dict so `cjm bench` can include them.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from cjm.bench.journey_data import generate, insert_events, journey_config
from cjm.core.warehouse import open_warehouse
from cjm.loader import sync_config
from cjm.refresh.dbt import dbt_build

EVENTS_PER_CUSTOMER = 2.15  # visit 1, email open 0.3, lead ~0.45, order ~0.27, ticket ~0.13
SELECT = ["+int_conversion_cohorts_counted+", "+touchpoints", "+cjm", "+communication_map"]


def _slowest(target: Path, n: int = 6) -> dict[str, float]:
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    ranked = sorted(results, key=lambda r: r["execution_time"], reverse=True)[:n]
    return {r["unique_id"].split(".")[-1]: round(r["execution_time"], 2) for r in ranked}


def bench_journeys(n_events: int, workdir: Path) -> dict[str, Any]:
    started = time.perf_counter()
    journeys = generate(int(n_events / EVENTS_PER_CUSTOMER), days=180)
    events = journeys.events
    generated_s = time.perf_counter() - started
    cut = events["occurred_at"].quantile(0.99)
    late = (events["occurred_at"] < cut) & (np.random.default_rng(3).random(len(events)) < 0.002)
    first, second = (
        events[(events["occurred_at"] < cut) & ~late],
        events[(events["occurred_at"] >= cut) | late],
    )
    wh = workdir / "warehouse.duckdb"
    target = workdir / "target"
    with open_warehouse(wh) as con:
        sync_config(con, journey_config())
        insert_events(con, first, datetime(2026, 7, 1, tzinfo=UTC))
    full = dbt_build(wh, select=SELECT, target_path=target, quiet=True)
    full_slowest = _slowest(target)
    with open_warehouse(wh) as con:
        insert_events(con, second, datetime(2026, 7, 2, tzinfo=UTC))
    incremental = dbt_build(wh, select=SELECT, target_path=target, quiet=True)
    incremental_slowest = _slowest(target)
    nothing_new = dbt_build(wh, select=SELECT, target_path=target, quiet=True)
    return {
        "events": len(events),
        "customers": len(journeys.customers),
        "generate_s": round(generated_s, 2),
        "full_build_s": full["seconds"],
        "incremental_build_s": incremental["seconds"],
        "incremental_new_events": len(second),
        "nothing_new_build_s": nothing_new["seconds"],
        "slowest_nodes_full_s": full_slowest,
        "slowest_nodes_incremental_s": incremental_slowest,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cjm-bench-journeys-") as tmp:
        print(json.dumps(bench_journeys(args.events, Path(tmp)), indent=2))


if __name__ == "__main__":
    main()
