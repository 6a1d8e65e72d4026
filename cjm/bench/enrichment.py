"""Speed of the enrichment, for `cjm bench`.

Quality is measured elsewhere: on real labelled data by `cjm bench eval`
(cjm/bench/evaluation/), and as a regression check on the team's own sets by
tests/test_regression_eval.py (tests/eval/README.md says why those are not evidence).
Speed is the whole enrichment (tokenise, match, score, detect language, story keys) over
the shipped demo's texts on one core, with the per-word caches cold, then warm.
"""

from __future__ import annotations

import csv
import json
import time
from typing import Any

from cjm.core.paths import demo_bundle_dir
from cjm.enrichment.rules import RuleSet
from cjm.enrichment.scorer import BrandInfo, Enricher

STAGES = ("awareness", "consideration", "purchase", "usage", "loyalty")


def _enricher(rules: RuleSet) -> Enricher:
    return Enricher(rules, [BrandInfo("bench", (), ("ru", "en"))], stages=STAGES)


def corpus() -> list[str]:
    """Distinct real-looking texts: the demo's social export and media articles."""
    inbox = demo_bundle_dir() / "inbox"
    with (inbox / "mentions_listening.csv").open(encoding="utf-8", newline="") as fh:
        texts = [row.get("body") or "" for row in csv.DictReader(fh)]
    for line in (inbox / "mentions_media.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        texts.append(" ".join(str(record.get(k) or "") for k in ("title", "summary", "text")))
    return list(dict.fromkeys(t for t in texts if t.strip()))


def throughput(rules: RuleSet | None = None, repeat: int = 5) -> dict[str, Any]:
    """Mentions per second of `Enricher.enrich` on one core (this process).

    The first pass starts with empty per-word caches (every text is new to it); later
    passes show the steady state of a long-running build, where most words have been
    seen before. The per-text cache is emptied before every pass: a pass over texts it
    already holds would measure dictionary look-ups (reposts are what it is for, and the
    corpus has none).
    """
    rules = rules or RuleSet.from_seed_dir()
    texts = corpus()
    enricher = _enricher(rules)
    rules.matcher._cache.clear()
    enricher._text_cache.clear()
    started = time.perf_counter()
    for text in texts:
        enricher.enrich(text, brand="bench", url=None)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(repeat):
        enricher._text_cache.clear()
        for text in texts:
            enricher.enrich(text, brand="bench", url=None)
    warm = time.perf_counter() - started
    return {
        "texts": len(texts),
        "cold_mentions_per_s": round(len(texts) / cold),
        "warm_mentions_per_s": round(len(texts) * repeat / warm),
        "cpu_count_used": 1,
    }


def run_enrichment_bench() -> dict[str, Any]:
    """Everything `cjm bench` reports for the enrichment."""
    started = time.perf_counter()
    rules = RuleSet.from_seed_dir()
    compile_s = time.perf_counter() - started
    return {
        "rules": {"terms": len(rules.terms), "hash": rules.hash, "compile_s": round(compile_s, 2)},
        "speed": throughput(rules),
        # the process pool of int_mentions_enriched: 1 → 2 workers in the same run
        "pool": pool_scaling(),
    }


def _session(
    rows: int, distinct: bool, batch_rows: int, workers: int
) -> tuple[Any, dict[str, Any]]:
    """An in-memory DuckDB holding what int_mentions_enriched reads: the seeds, one
    brand, the default stages and `rows` mentions cycling the demo corpus (with
    `distinct`, each text gets its row number so no text repeats: the cold rate)."""
    import duckdb
    import pyarrow as pa

    from cjm.enrichment.rules import RULE_SEEDS

    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    tables = RuleSet.from_seed_dir().tables
    seeds = {}
    for name in RULE_SEEDS:
        con.register(f"seed_{name}", pa.Table.from_pylist(list(tables[name])))
        seeds[name] = con.table(f"seed_{name}")
    texts = corpus()
    con.register("corpus", pa.table({"k": list(range(len(texts))), "body": texts}))
    suffix = " || ' #' || i::varchar" if distinct else ""
    con.execute(
        f"""
        create table mentions as
        select 'm' || i::varchar as mention_id, 'telegram' as source_type, 'bench' as brand,
            null::varchar as url, 'author ' || (i % 997)::varchar as author,
            null::varchar as title, body{suffix} as text, null::varchar as language,
            timestamptz '2026-09-01 00:00:00+00' as updated_at
        from range({int(rows)}) as r(i)
        join corpus on corpus.k = i % {len(texts)}
        """
    )
    brand = {"brand": "bench", "keywords": [], "languages": ["ru", "en"]}
    con.register("brands", pa.Table.from_pylist([brand]))
    con.register(
        "stages", pa.table({"stage": list(STAGES), "stage_order": list(range(len(STAGES)))})
    )
    con.register(
        "settings",
        pa.table(
            {
                "setting_key": ["enrichment.batch_rows", "enrichment.workers"],
                "setting_value": [str(batch_rows), str(workers)],
            }
        ),
    )
    relations = {
        "mentions": con.table("mentions"),
        "brands": con.table("brands"),
        "stages": con.table("stages"),
        "settings": con.table("settings"),
        "seeds": seeds,
    }
    return con, relations


def pool_scaling(
    rows: int = 6_000, batch_rows: int = 1_000, workers: tuple[int, ...] = (1, 2)
) -> dict[str, Any]:
    """Mentions/s of the dbt model body (`dbt_model.build`, streamed into a table as
    dbt-duckdb does) with each worker count, side by side in one run, on distinct texts
    (no text repeats: what the caches cannot help) and on the demo corpus cycled
    (texts repeat, as reposts and templates do). Includes each pool's start-up."""
    from cjm.enrichment import dbt_model

    out: dict[str, Any] = {"rows": rows, "batch_rows": batch_rows, "runs": []}
    for distinct in (True, False):
        for count in workers:
            con, rel = _session(rows, distinct, batch_rows, count)
            try:
                started = time.perf_counter()
                reader = dbt_model.build(session=con, this=None, is_incremental=False, **rel)
                con.register("scored", reader)
                con.execute("create table enriched as select * from scored")
                elapsed = time.perf_counter() - started
                scored = con.execute("select count(*) from enriched").fetchone()
            finally:
                con.close()
            assert scored is not None and scored[0] == rows
            out["runs"].append(
                {
                    "texts": "distinct" if distinct else "repeated",
                    "workers": count,
                    "seconds": round(elapsed, 2),
                    "mentions_per_s": round(rows / elapsed),
                    "mentions_per_s_per_worker": round(rows / elapsed / count),
                }
            )
    return out
