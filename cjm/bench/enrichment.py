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
    seen before.
    """
    rules = rules or RuleSet.from_seed_dir()
    texts = corpus()
    enricher = _enricher(rules)
    rules.matcher._cache.clear()
    started = time.perf_counter()
    for text in texts:
        enricher.enrich(text, brand="bench", url=None)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(repeat):
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
    }
