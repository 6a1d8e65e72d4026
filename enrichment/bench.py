"""Quality and speed of the enrichment, for `cjm bench` and `python -m enrichment.bench`.

A regression check, not evidence: the hand-labelled sets in `tests/eval/` were written
by the team that wrote the lexicon (tests/eval/README.md); the figures on real data come
from `cjm bench eval` (cjm/evaluation/). Measured here: macro-F1 of sentiment for ru and en,
the Russian "SentiRuEval-style" figure (mean of positive-F1 and negative-F1), macro-F1
of the journey stage, and VADER on the English set side by side. Speed is the whole
enrichment (tokenise, match, score, detect language, story keys) over real-looking
texts on one core, with the per-word caches cold, then warm.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from enrichment.rules import RuleSet
from enrichment.scorer import BrandInfo, Enricher

EVAL_DIR = Path(__file__).resolve().parent.parent / "tests" / "eval"
SENTIMENTS = ("positive", "neutral", "negative")
STAGES = ("awareness", "consideration", "purchase", "usage", "loyalty", "churn")


def load_eval(language: str, eval_dir: Path | None = None) -> list[dict[str, str]]:
    path = (eval_dir or EVAL_DIR) / f"mentions_{language}.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def f1_per_class(
    gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]
) -> dict[str, float]:
    out: dict[str, float] = {}
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        out[label] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return out


def macro_f1(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> float:
    scores = f1_per_class(gold, pred, labels)
    present = [label for label in labels if label in gold]
    return sum(scores[label] for label in present) / len(present) if present else 0.0


def _enricher(rules: RuleSet | None = None) -> Enricher:
    rules = rules or RuleSet.from_seed_dir()
    return Enricher(rules, [BrandInfo("eval", (), ("ru", "en"))], stages=STAGES[:-1])


def evaluate(rules: RuleSet | None = None, eval_dir: Path | None = None) -> dict[str, Any]:
    """Scores of our enrichment (and VADER for English) on the labelled sets."""
    enricher = _enricher(rules)
    result: dict[str, Any] = {}
    for language in ("ru", "en"):
        rows = load_eval(language, eval_dir)
        outputs = [enricher.enrich(row["text"], brand="eval") for row in rows]
        gold = [row["sentiment"] for row in rows]
        pred = [o.sentiment for o in outputs]
        per_class = f1_per_class(gold, pred, SENTIMENTS)
        stage_gold = [row["stage"] for row in rows]
        stage_pred = [o.journey_stage or o.stage or "" for o in outputs]
        result[language] = {
            "mentions": len(rows),
            "sentiment_macro_f1": round(macro_f1(gold, pred, SENTIMENTS), 3),
            "sentiment_f1": {k: round(v, 3) for k, v in per_class.items()},
            "pos_neg_mean_f1": round((per_class["positive"] + per_class["negative"]) / 2, 3),
            "sentiment_accuracy": round(
                sum(g == p for g, p in zip(gold, pred, strict=True)) / len(rows), 3
            ),
            "stage_macro_f1": round(macro_f1(stage_gold, stage_pred, STAGES), 3),
            "stage_accuracy": round(
                sum(g == p for g, p in zip(stage_gold, stage_pred, strict=True)) / len(rows), 3
            ),
        }
    result["en"]["vader_sentiment_macro_f1"] = _vader(load_eval("en", eval_dir))
    return result


def _vader(rows: list[dict[str, str]]) -> float | None:
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        return None
    analyzer = SentimentIntensityAnalyzer()
    pred = []
    for row in rows:
        compound = analyzer.polarity_scores(row["text"])["compound"]
        pred.append(
            "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
        )
    return round(macro_f1([row["sentiment"] for row in rows], pred, SENTIMENTS), 3)


def _corpus(extra_dirs: Sequence[Path] = ()) -> list[str]:
    """Distinct real-looking texts: the eval sets plus the bundled demo exports."""
    texts = [row["text"] for lang in ("ru", "en") for row in load_eval(lang)]
    root = Path(__file__).resolve().parent.parent
    demo = root / "demo" / "inbox" / "mentions_listening.csv"
    if demo.exists():
        with demo.open(encoding="utf-8", newline="") as fh:
            texts += [row.get("body") or "" for row in csv.DictReader(fh)]
    media = root / "demo" / "inbox" / "mentions_media.jsonl"
    if media.exists():
        for line in media.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            texts.append(" ".join(str(record.get(k) or "") for k in ("title", "summary", "text")))
    for directory in extra_dirs:
        for path in sorted(Path(directory).glob("*.txt")):
            texts += path.read_text(encoding="utf-8").splitlines()
    return list(dict.fromkeys(t for t in texts if t.strip()))


def throughput(rules: RuleSet | None = None, repeat: int = 5) -> dict[str, Any]:
    """Mentions per second of `Enricher.enrich` on one core (this process).

    The first pass starts with empty per-word caches (every text is new to it); later
    passes show the steady state of a long-running build, where most words have been
    seen before.
    """
    rules = rules or RuleSet.from_seed_dir()
    texts = _corpus()
    enricher = _enricher(rules)
    rules.matcher._cache.clear()
    started = time.perf_counter()
    for text in texts:
        enricher.enrich(text, brand="eval", url=None)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(repeat):
        for text in texts:
            enricher.enrich(text, brand="eval", url=None)
    warm = time.perf_counter() - started
    return {
        "texts": len(texts),
        "cold_mentions_per_s": round(len(texts) / cold),
        "warm_mentions_per_s": round(len(texts) * repeat / warm),
        "cpu_count_used": 1,
    }


def run_enrichment_bench(out: Path | None = None) -> dict[str, Any]:
    """Everything `cjm bench` reports for the enrichment (the lead wires it in)."""
    started = time.perf_counter()
    rules = RuleSet.from_seed_dir()
    compile_s = time.perf_counter() - started
    result = {
        "rules": {"terms": len(rules.terms), "hash": rules.hash, "compile_s": round(compile_s, 2)},
        "quality": evaluate(rules),
        "speed": throughput(rules),
    }
    if out:
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    print(json.dumps(run_enrichment_bench(args.out), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
