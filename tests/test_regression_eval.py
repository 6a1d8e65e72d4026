"""The team's own labelled sets (tests/eval/) as a regression check, not evidence.

They were written by the hands that wrote the lexicon (tests/eval/README.md), so a high
figure here proves nothing about real text (`cjm bench eval` measures that); a drop
here does say that a change broke something the rules used to get right. The floors
sit a few points under the figures measured when the sentiment model shipped
(ru macro-F1 0.781, stage 0.679; en 0.724, stage 0.784), so noise cannot fail it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sklearn.metrics import f1_score

from cjm.enrichment import BrandInfo, Enricher, RuleSet

EVAL_DIR = Path(__file__).resolve().parent / "eval"
STAGES = ("awareness", "consideration", "purchase", "usage", "loyalty")
FLOORS = {"ru": (0.74, 0.63), "en": (0.68, 0.74)}  # sentiment, stage macro-F1


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher(RuleSet.from_seed_dir(), [BrandInfo("eval", (), ("ru", "en"))], STAGES)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_regression_set_holds(enricher: Enricher, language: str) -> None:
    with (EVAL_DIR / f"mentions_{language}.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = [enricher.enrich(row["text"], brand="eval") for row in rows]
    sentiment = f1_score(
        [r["sentiment"] for r in rows], [o.sentiment for o in out], average="macro"
    )
    stage = f1_score(
        [r["stage"] for r in rows],
        [o.journey_stage or o.stage or "" for o in out],
        labels=sorted({r["stage"] for r in rows}),
        average="macro",
    )
    floor_sentiment, floor_stage = FLOORS[language]
    assert sentiment >= floor_sentiment, f"{language} sentiment macro-F1 {sentiment:.3f}"
    assert stage >= floor_stage, f"{language} stage macro-F1 {stage:.3f}"
