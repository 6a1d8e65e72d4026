"""Sentiment quality on real labelled data, read back from the warehouse.

Each labelled set of the dev data (`../shared/data/sentiment`, see its README) is
loaded the way a user would load it: a `file` source per set, the default settings,
`cjm run` (extract → validation → load → dbt build with the enrichment model), and
`marts.mentions` read back and joined to the labels by native id. Beside it, on the
same texts: VADER (the reference the competitions cite), the majority class, and the
first version's rules without the model — so every figure has its baseline.

Metrics are each competition's own: SentiRuEval — the mean of the positive and
negative F1 (`f1_pn`); SemEval-2017 4A — macro-averaged recall; plus 3-class
macro-F1 everywhere. Which figures are honest hold-outs is said per set (`role`):
the Russian test splits and the Sanders brand tweets were never trained on; the
SemEval tweets are the English training set, so their honest figure is the 5-fold
cross-validation of the training recipe (`cv`), and the in-warehouse figure is shown
only to prove the path.

The data is read from where it lies; the work directory receives only the
temporary warehouse and per-run copies of the inbox files the pipeline reads.
"""

from __future__ import annotations

import csv
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

LABELS = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class EvalSet:
    key: str
    file: str
    language: str
    role: str  # test | held-out | training
    metric: str  # the set's headline metric
    timestamp_format: str | None = None


SETS: tuple[EvalSet, ...] = (
    EvalSet("ru_banks_test", "ru_sentirueval2015_banks_test.csv", "ru", "test", "f1_pn"),
    EvalSet("ru_telecom_test", "ru_sentirueval2015_telecom_test.csv", "ru", "test", "f1_pn"),
    EvalSet(
        "en_sanders",
        "en_sanders_brands.csv",
        "en",
        "held-out",
        "macro_f1",
        timestamp_format="%a %b %d %H:%M:%S %z %Y",
    ),
    EvalSet("en_tweeteval_val", "en_tweeteval_val.csv", "en", "training", "macro_recall"),
)


# ----------------------------------------------------------------------------- metrics
def metrics(gold: Sequence[str], pred: Sequence[str]) -> dict[str, float]:
    """f1_pn (SentiRuEval), macro_recall (SemEval-2017 4A), macro_f1, accuracy — over
    the classes present in the gold labels."""
    from sklearn.metrics import accuracy_score, f1_score, recall_score

    present = [label for label in LABELS if label in gold]
    scores = f1_score(gold, pred, labels=list(LABELS), average=None, zero_division=0)
    f1 = dict(zip(LABELS, scores, strict=True))
    return {
        "f1_pn": round(float(f1["positive"] + f1["negative"]) / 2, 4),
        "macro_recall": round(
            float(recall_score(gold, pred, labels=present, average="macro", zero_division=0)), 4
        ),
        "macro_f1": round(float(sum(f1[label] for label in present) / len(present)), 4),
        "accuracy": round(float(accuracy_score(gold, pred)), 4),
    }


# ----------------------------------------------------------------------------- data
@dataclass(frozen=True)
class Row:
    id: str
    text: str
    label: str
    brand: str | None
    date: str | None


def read_set(data_dir: Path, eval_set: EvalSet, sample: int | None = None) -> list[Row]:
    """The set's sentiment-labelled rows (`irrelevant` is not a sentiment); a sample
    takes every k-th row so it keeps the set's class mix and is the same every time."""
    path = data_dir / "sentiment" / eval_set.file
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [
            Row(r["id"], r["text"], r["label"], r.get("brand") or None, r.get("date") or None)
            for r in csv.DictReader(fh)
            if r["label"] in LABELS
        ]
    if sample and sample < len(rows):
        step = len(rows) / sample
        rows = [rows[int(i * step)] for i in range(sample)]
    return rows


def _brand_name(value: str | None, eval_set: EvalSet) -> str:
    return value or eval_set.key


def write_inputs(
    data_dir: Path, work_dir: Path, sample: int | None = None
) -> tuple[Path, dict[str, list[Row]]]:
    """The inbox files and the config a user would write for these sets."""
    inbox = work_dir / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    loaded: dict[str, list[Row]] = {}
    brands: dict[str, set[str]] = {}
    sources = []
    for eval_set in SETS:
        rows = read_set(data_dir, eval_set, sample)
        loaded[eval_set.key] = rows
        path = inbox / f"{eval_set.key}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["id", "text", "brand", "date"])
            for r in rows:
                writer.writerow([r.id, r.text, _brand_name(r.brand, eval_set), r.date or ""])
        for r in rows:
            brands.setdefault(_brand_name(r.brand, eval_set), set()).add(eval_set.language)
        source: dict[str, Any] = {
            "name": eval_set.key,
            "type": "file",
            "entity": "mention",
            "path": str(path),
            "columns": {"native_id": "id", "text": "text", "brand": "brand"},
        }
        if any(r.date for r in rows):
            source["columns"]["published_at"] = "date"
        else:  # the set carries no dates: one day for all (sentiment does not look)
            source["constants"] = {"published_at": "2017-01-01T00:00:00+00:00"}
        if eval_set.timestamp_format:
            source["timestamp_format"] = eval_set.timestamp_format
        sources.append(source)
    config = {
        "brands": [
            {"name": name, "keywords": [name], "languages": sorted(langs)}
            for name, langs in sorted(brands.items())
        ],
        "sources": sources,
    }
    config_path = work_dir / "eval.yml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return config_path, loaded


def run_pipeline(config_path: Path, warehouse: Path) -> dict[str, Any]:
    """`cjm run` on the eval config (no alerts: nothing to notify)."""
    from cjm.refresh.pipeline import run_refresh

    os.environ.setdefault("CJM_CUSTOMER_KEY_SECRET", "eval-only")
    started = time.perf_counter()
    report = run_refresh(str(config_path), str(warehouse), alert_step=None)
    if report.failures:
        raise RuntimeError(f"the eval refresh failed: {report.failures}")
    return {"seconds": round(time.perf_counter() - started, 1), "steps": report.steps}


@dataclass(frozen=True)
class Stored:
    sentiment: str
    emotion: str | None
    has_barrier: bool


def read_back(warehouse: Path) -> dict[tuple[str, str], Stored]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            (source, native_id): Stored(sentiment, emotion, bool(n_barriers))
            for source, native_id, sentiment, emotion, n_barriers in con.execute(
                "select source, native_id, sentiment, emotion, len(coalesce(barriers, []))"
                " from marts.mentions"
            ).fetchall()
        }
    finally:
        con.close()


# The tone an emotion of the seeds implies (interest and doubt imply none).
EMOTION_TONE = {
    "joy": "positive",
    "gratitude": "positive",
    "anger": "negative",
    "disappointment": "negative",
    "anxiety": "negative",
}


def agreement(gold: Sequence[str], stored: Sequence[Stored]) -> dict[str, float | int]:
    """No emotion or barrier labels exist in the dev data, so check them against the
    sentiment labels: how often a toned emotion matches the gold tone, and how often a
    mention with a barrier is a gold-negative one."""
    toned = [(g, EMOTION_TONE[s.emotion]) for g, s in zip(gold, stored, strict=True)
             if s.emotion in EMOTION_TONE]  # fmt: skip
    barred = [g for g, s in zip(gold, stored, strict=True) if s.has_barrier]
    return {
        "toned_emotions": len(toned),
        "emotion_agrees_with_gold": round(sum(g == t for g, t in toned) / len(toned), 3)
        if toned
        else 0.0,
        "with_barrier": len(barred),
        "barrier_on_gold_negative": round(barred.count("negative") / len(barred), 3)
        if barred
        else 0.0,
    }


# ----------------------------------------------------------------------------- baselines
def vader_labels(texts: Sequence[str]) -> list[str]:
    """VADER's compound score with its authors' ±0.05 neutral band."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    out = []
    for text in texts:
        compound = analyzer.polarity_scores(text)["compound"]
        out.append(
            "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
        )
    return out


def rules_labels(texts: Sequence[str], language: str) -> list[str]:
    """The first version's scorer: the seed rules with no model."""
    from cjm.enrichment.rules import RuleSet
    from cjm.enrichment.scorer import BrandInfo, Enricher

    enricher = Enricher(
        RuleSet.from_seed_dir(), [BrandInfo("eval", (), (language,))], use_model=False
    )
    return [enricher.enrich(t).sentiment for t in texts]


def throughput(texts: Sequence[str], language: str, repeat: int = 1) -> float:
    """Mentions/s of the whole enrichment (rules + model + stages + topics …), one core."""
    from cjm.enrichment.rules import RuleSet
    from cjm.enrichment.scorer import BrandInfo, Enricher

    enricher = Enricher(RuleSet.from_seed_dir(), [BrandInfo("eval", (), (language,))])
    for t in texts[:200]:
        enricher.enrich(t)  # warm the per-word caches a long-running batch would have
    started = time.perf_counter()
    for _ in range(repeat):
        for t in texts:
            enricher.enrich(t, brand="eval")
    return len(texts) * repeat / (time.perf_counter() - started)


def cross_validated(data_dir: Path, language: str, folds: int = 5) -> dict[str, float]:
    """Out-of-fold figures of the shipped recipe (model + the seeds' vote) on its own
    training files: the honest figure for a set the model trains on."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    from cjm.enrichment import train
    from cjm.enrichment.sentiment_model import LanguageModel, with_rules

    rows = train.training_data(data_dir, language)
    enricher = train.rules_enricher()
    feats = train.featurise_all([r.text for r in rows], language, enricher)
    # the label the seeds vote for, as scoring mixes it in
    votes = [enricher.seed_label(r.text) for r in rows]
    gold = np.array([r.label for r in rows])
    vectors = train.Embeddings() if language in train.EMBEDDING_LANGUAGES else None
    pred = np.empty(len(rows), dtype=object)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    for fit_idx, test_idx in splitter.split(gold, gold):
        arrays = train.fit(
            [feats[i] for i in fit_idx], gold[fit_idx], train.C_BY_LANGUAGE[language], vectors
        )
        model = LanguageModel(arrays)
        pred[test_idx] = [
            with_rules(model.predict(feats[i], evidence=0), votes[i]).label for i in test_idx
        ]
    return metrics(list(gold), list(pred))


# ----------------------------------------------------------------------------- harness
def evaluate_sentiment(
    data_dir: Path, work_dir: Path, sample: int | None = None, cv: bool = True
) -> dict[str, Any]:
    """Every set through the pipeline, with VADER, majority and the rules beside it."""
    config_path, loaded = write_inputs(data_dir, work_dir, sample)
    warehouse = work_dir / "warehouse.duckdb"
    pipeline = run_pipeline(config_path, warehouse)
    stored = read_back(warehouse)
    result: dict[str, Any] = {"pipeline": pipeline, "sets": {}}
    for eval_set in SETS:
        rows = loaded[eval_set.key]
        missing = [r.id for r in rows if (eval_set.key, r.id) not in stored]
        if missing:
            raise RuntimeError(
                f"{eval_set.key}: {len(missing)} labelled rows are not in marts.mentions "
                f"(first: {missing[:3]})"
            )
        gold = [r.label for r in rows]
        texts = [r.text for r in rows]
        majority = Counter(gold).most_common(1)[0][0]
        entry: dict[str, Any] = {
            "rows": len(rows),
            "language": eval_set.language,
            "role": eval_set.role,
            "metric": eval_set.metric,
            "cjm": metrics(gold, [stored[(eval_set.key, r.id)].sentiment for r in rows]),
            "emotions_barriers": agreement(gold, [stored[(eval_set.key, r.id)] for r in rows]),
            "rules_only": metrics(gold, rules_labels(texts, eval_set.language)),
            "vader": metrics(gold, vader_labels(texts)),
            "majority": metrics(gold, [majority] * len(gold)),
            "mentions_per_s": round(throughput(texts, eval_set.language)),
        }
        if eval_set.role == "training" and cv:
            entry["cv"] = cross_validated(data_dir, eval_set.language)
        result["sets"][eval_set.key] = entry
    return result


def format_table(result: dict[str, Any]) -> str:
    """The Markdown table the note and BENCHMARKS.md carry."""
    lines = [
        "| set | rows | role | metric | CJM (warehouse) | CJM 5-fold CV | rules only "
        "| VADER | majority | mentions/s |",
        "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, e in result["sets"].items():
        m = e["metric"]
        cv = f"{e['cv'][m]:.3f}" if "cv" in e else "—"
        lines.append(
            f"| {key} | {e['rows']} | {e['role']} | {m} | {e['cjm'][m]:.3f} | {cv} "
            f"| {e['rules_only'][m]:.3f} | {e['vader'][m]:.3f} | {e['majority'][m]:.3f} "
            f"| {e['mentions_per_s']:,} |"
        )
    lines.append("")
    lines.append(
        "| set | CJM macro-F1 | CJM macro recall | CJM F1± | toned emotions agreeing "
        "with gold | mentions with a barrier that are gold-negative |"
    )
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    for key, e in result["sets"].items():
        c = e["cv"] if "cv" in e else e["cjm"]
        a = e["emotions_barriers"]
        lines.append(
            f"| {key} | {c['macro_f1']:.3f} | {c['macro_recall']:.3f} | {c['f1_pn']:.3f} "
            f"| {a['emotion_agrees_with_gold']:.3f} ({a['toned_emotions']}) "
            f"| {a['barrier_on_gold_negative']:.3f} ({a['with_barrier']}) |"
        )
    return "\n".join(lines)
