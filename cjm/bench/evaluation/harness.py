"""`cjm bench eval`: every quality figure on real labelled data, in one table.

Sentiment (each set through the real pipeline, `cjm.bench.evaluation.sentiment`), brand
relevance on the Sanders off-topic labels (`cjm.bench.evaluation.relevance`) and spike
detection on the NAB volumes with human-labelled incidents (`cjm.bench.evaluation.spikes`),
each printed beside its baseline. `sample` runs a small fixed slice of every set (what
`make test` does); without it the full dev data is used (what the notes report).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

SAMPLE_SPIKE_SERIES = ("CRM", "CVS")


def _cell(value: Any) -> str:
    return "—" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)


def _spike_table(result: dict[str, Any]) -> str:
    lines = [
        "| series | detector recall | precision | false / brand-week | median delay h "
        "| baseline recall | precision | false / brand-week |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    detector, baseline = result["detector"], result["baseline"]
    rows = {**detector["per_series"], "overall": detector["overall"]}
    base_rows = {**baseline["per_series"], "overall": baseline["overall"]}
    for name, d in rows.items():
        b = base_rows[name]
        lines.append(
            f"| {name} | {_cell(d['recall'])} | {_cell(d['precision'])} "
            f"| {_cell(d['false_per_week'])} | {_cell(d['median_delay_hours'])} "
            f"| {_cell(b['recall'])} | {_cell(b['precision'])} | {_cell(b['false_per_week'])} |"
        )
    return "\n".join(lines)


def run_eval(
    data_dir: Path,
    sample: int | None = None,
    out: Path | None = None,
    cv: bool = True,
    work_dir: Path | None = None,
) -> dict[str, Any]:
    """Run all three evaluations; print their tables; optionally write the JSON."""
    from cjm.bench.evaluation.relevance import evaluate_relevance
    from cjm.bench.evaluation.relevance import format_table as relevance_table
    from cjm.bench.evaluation.sentiment import evaluate_sentiment
    from cjm.bench.evaluation.sentiment import format_table as sentiment_table
    from cjm.bench.evaluation.spikes import evaluate_spikes

    if not (data_dir / "sentiment").is_dir():
        raise FileNotFoundError(
            f"{data_dir}: no sentiment/ folder — pass --data (the shared dev data) "
            "or set CJM_EVAL_DATA"
        )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cjm-eval-") as tmp:
        base = work_dir or Path(tmp)
        sentiment = evaluate_sentiment(data_dir, base / "sentiment", sample=sample, cv=cv)
        print("## Sentiment (each competition's metric; CJM read back from marts.mentions)")
        print(sentiment_table(sentiment), flush=True)
        relevance = evaluate_relevance(data_dir, sample=sample)
        print("\n## Brand relevance on Sanders (about the brand = not `irrelevant`)")
        print(relevance_table(relevance), flush=True)
        spikes = evaluate_spikes(
            data_dir, base / "spikes", series=SAMPLE_SPIKE_SERIES if sample else None
        )
        print("\n## Spikes on NAB volumes, scored by incident")
        print(_spike_table(spikes), flush=True)
    result = {
        "data": str(data_dir),
        "sample": sample,
        "sentiment": sentiment,
        "relevance": relevance,
        "spikes": spikes,
        "seconds": round(time.perf_counter() - started, 1),
    }
    if out is not None:
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return result
