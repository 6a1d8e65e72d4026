"""Measure the spike detector on generated mention streams with planted incidents.

The streams (hourly mentions and negatives per brand) have daily and weekly rhythm,
over-dispersed noise, brands of different sizes, growth of total volume at an
unchanged negative share, and holiday dips; incidents of different sizes and
durations are planted after the warm-up. The detector that judges them is the dbt
model itself: the counts are written to a temporary warehouse as
`intermediate.int_mention_counts_bucketed` (and the rule as
`intermediate.int_spike_rules_resolved`), and `dbt run --select
int_negative_buckets_scored` runs the same SQL the warehouse runs, so the benchmark
and production cannot diverge.

Scored by incident, not by point (STACK_NOTES "Evaluating spike detection"): a planted
incident is found when a detected incident overlaps it (one hit per incident however
many spike hours); every detected incident that overlaps no planted one is one false
alarm. Delay = first spike hour − planted start, in hours (0 = flagged in its first
hour). Point-adjusted F1 is not used: it flatters even random detectors.

    python -m cjm.bench.alerts [--seeds 3] [--out bench_spikes.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from cjm.core.config import SpikeRule
from cjm.core.warehouse import replace_mention_counts
from cjm.refresh.dbt import dbt_run_or_raise

START = datetime(2026, 1, 5)  # a Monday; naive UTC like the model's buckets
DAYS = 63
WARMUP_DAYS = 28  # = the default window: no incident is planted or scored before it
TOLERANCE_HOURS = 1  # a detection may start this long after the planted end


@dataclass(frozen=True)
class Planted:
    brand: str
    start: datetime
    hours: int
    extra_per_hour: float
    multiplier: float


@dataclass
class Stream:
    brand: str
    kind: str
    mentions: np.ndarray
    negatives: np.ndarray
    planted: list[Planted] = field(default_factory=list)
    quiet_windows: list[tuple[str, datetime, datetime]] = field(default_factory=list)
    start: datetime = START  # the first hour (naive UTC)


def _daily_profile() -> np.ndarray:
    """Morning and evening peaks, a night trough; mean 1."""
    h = np.arange(24)
    p = 0.25 + 1.3 * np.exp(-(((h - 19) / 3.5) ** 2)) + 0.8 * np.exp(-(((h - 11) / 3) ** 2))
    return p / p.mean()


WEEKLY = np.array([1.1, 1.15, 1.1, 1.05, 1.0, 0.75, 0.85])  # Mon..Sun


def generate_stream(
    brand: str,
    kind: str,
    rng: np.random.Generator,
    base_per_hour: float,
    negative_share: float = 0.25,
    weekly: np.ndarray = WEEKLY,
    growth: tuple[int, float] | None = None,
    holidays: tuple[int, ...] = (),
    incidents: int = 5,
    multipliers: tuple[float, ...] = (4.0, 6.0, 10.0),
    durations: tuple[int, ...] = (1, 2, 3, 6),
) -> Stream:
    """One brand's hourly stream over DAYS days.

    growth=(day, factor): total volume ramps to `factor` × over the 7 days from `day`
    and stays, at the same negative share (must not fire). holidays: days at 25% volume
    (must not fire, nor the day after). Incidents add negatives (and a few neutral
    reactions) of `multiplier` × the hour's usual negatives, at least 8 per hour.
    """
    hours = DAYS * 24
    t = np.arange(hours)
    day, hour = t // 24, t % 24
    lam = base_per_hour * _daily_profile()[hour] * (weekly / weekly.mean())[day % 7]
    lam = lam * (1 + 0.15 * day / DAYS)  # slow organic growth
    quiet: list[tuple[str, datetime, datetime]] = []
    if growth:
        g_day, factor = growth
        ramp = np.clip((t - g_day * 24) / (7 * 24), 0, 1)
        lam = lam * (1 + (factor - 1) * ramp)
        quiet.append(("growth", START + timedelta(days=g_day), START + timedelta(days=DAYS)))
    for d in holidays:
        lam[d * 24 : (d + 1) * 24] *= 0.25
        quiet.append(("holiday", START + timedelta(days=d), START + timedelta(days=d + 2)))
    # Over-dispersed counts (gamma-Poisson): real streams are burstier than Poisson.
    mentions = rng.poisson(lam * rng.gamma(8.0, 1 / 8.0, size=hours))
    negatives = rng.binomial(mentions, negative_share)
    stream = Stream(brand, kind, mentions.astype(int), negatives.astype(int), [], quiet)

    # Incidents: after the warm-up, at least 3 days apart, away from the quiet windows.
    blocked = {d for _, s, e in quiet for d in range((s - START).days, (e - START).days + 1)}
    candidates = [d for d in range(WARMUP_DAYS + 1, DAYS - 1) if d not in blocked]
    if growth:  # incidents after the growth is complete are fair game; not during the ramp
        candidates = [d for d in candidates if not growth[0] <= d < growth[0] + 8]
    chosen: list[int] = []
    for d in rng.permutation(candidates):
        if len(chosen) == incidents:
            break
        if all(abs(int(d) - c) >= 3 for c in chosen):
            chosen.append(int(d))
    for d in sorted(chosen):
        start_h = int(d * 24 + rng.integers(0, 24))
        dur = int(rng.choice(durations))
        mult = float(rng.choice(multipliers))
        usual = float(lam[start_h : start_h + dur].mean() * negative_share)
        extra = max(8.0, mult * usual)
        for i in range(dur):
            if start_h + i >= hours:
                break
            # a ramp: the first hour of a longer incident is half-strength
            k = rng.poisson(extra * (0.5 if i == 0 and dur > 1 else 1.0))
            stream.negatives[start_h + i] += k
            stream.mentions[start_h + i] += k + rng.poisson(0.2 * k)
        stream.planted.append(
            Planted(brand, START + timedelta(hours=start_h), dur, round(extra, 1), mult)
        )
    return stream


def scenario_streams(seed: int) -> list[Stream]:
    """The benchmark's brands: sizes, seasonality, growth, holiday dips."""
    rng = np.random.default_rng(seed)
    s = f"s{seed}"
    strong_weekly = np.array([1.2, 1.2, 1.2, 1.2, 1.1, 0.35, 0.4])
    return [
        generate_stream(f"small_{s}", "small", rng, base_per_hour=2.0),
        generate_stream(f"medium_{s}", "medium", rng, base_per_hour=12.0),
        generate_stream(f"large_{s}", "large", rng, base_per_hour=60.0),
        generate_stream(f"weekly_{s}", "strong weekly", rng, 12.0, weekly=strong_weekly),
        generate_stream(f"growth_{s}", "growth ×3", rng, 12.0, growth=(33, 3.0), incidents=3),
        generate_stream(f"holiday_{s}", "holiday dip", rng, 12.0, holidays=(35, 36), incidents=4),
        generate_stream(f"quiet_{s}", "no incidents", rng, 12.0, incidents=0),
    ]


def _write_inputs(con: duckdb.DuckDBPyConnection, streams: list[Stream], rule: SpikeRule) -> None:
    brands, buckets, mentions, negatives = [], [], [], []
    for st in streams:
        nonzero = np.nonzero(st.mentions)[0]
        brands += [st.brand] * len(nonzero)
        buckets += [st.start + timedelta(hours=int(i)) for i in nonzero]
        mentions += st.mentions[nonzero].tolist()
        negatives += st.negatives[nonzero].tolist()
    replace_mention_counts(con, brands, buckets, mentions, negatives)
    r = rule.model_dump()
    con.execute(
        "create or replace table intermediate.int_spike_rules_resolved as select "
        "'*' as brand, ? as spike_bucket, ? as window_days, ? as min_count, ? as z, "
        "? as sustained_z, ? as min_share, ? as seasonal_weight, ? as cooldown_hours, "
        "? as min_history_days",
        [
            r["bucket"],
            r["window_days"],
            r["min_count"],
            r["z"],
            r["sustained_z"],
            r["min_share"],
            r["seasonal_weight"],
            r["cooldown_hours"],
            r["min_history_days"],
        ],
    )


def run_detector(
    workdir: Path,
    streams: list[Stream],
    rule: SpikeRule,
    models: tuple[str, ...] = ("int_negative_buckets_scored",),
    warehouse: Path | None = None,
) -> list[tuple]:
    """Run the dbt detector model on the streams; the spike rows (brand, bucket, incident).

    `models` may add the marts (negative_spikes) when a caller wants the whole chain.
    """
    wh = warehouse or workdir / "bench.duckdb"
    con = duckdb.connect(str(wh))
    try:
        _write_inputs(con, streams, rule)
    finally:
        con.close()
    dbt_run_or_raise(wh, models, workdir, "the detector")
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(
            "select brand, bucket_start at time zone 'UTC', incident_start at time zone 'UTC' "
            "from intermediate.int_negative_buckets_scored "
            "where source = 'all' and is_spike order by brand, bucket_start"
        ).fetchall()
    finally:
        con.close()


def score(streams: list[Stream], spikes: list[tuple]) -> dict[str, Any]:
    """Incident-level precision, recall and delay; per stream kind too."""
    scored_from = START + timedelta(days=WARMUP_DAYS)
    detected: dict[tuple[str, datetime], list[datetime]] = {}
    for brand, bucket, incident in spikes:
        detected.setdefault((brand, incident), []).append(bucket)
    detected = {k: v for k, v in detected.items() if k[1] >= scored_from}
    kinds = {st.brand: st.kind for st in streams}
    planted = [p for st in streams for p in st.planted]

    def overlaps(p: Planted, buckets: list[datetime]) -> list[datetime]:
        end = p.start + timedelta(hours=p.hours - 1 + TOLERANCE_HOURS)
        return [b for b in buckets if p.start <= b <= end]

    matched_detections: set[tuple[str, datetime]] = set()
    hits: list[dict[str, Any]] = []
    for p in planted:
        firsts = []
        for key, buckets in detected.items():
            if key[0] == p.brand and (inside := overlaps(p, buckets)):
                matched_detections.add(key)
                firsts.append(min(inside))
        delay = (min(firsts) - p.start).total_seconds() / 3600 if firsts else None
        hits.append({**asdict(p), "found": bool(firsts), "delay_hours": delay})
    false_alarms = [
        {"brand": b, "kind": kinds[b], "incident_start": s.isoformat(), "hours": len(v)}
        for (b, s), v in detected.items()
        if (b, s) not in matched_detections
    ]

    def figures(hit_rows: list[dict], n_detected: int, n_false: int) -> dict[str, Any]:
        delays = [h["delay_hours"] for h in hit_rows if h["found"]]
        found = sum(h["found"] for h in hit_rows)
        return {
            "planted": len(hit_rows),
            "found": found,
            "detected_incidents": n_detected,
            "false_alarms": n_false,
            "precision": round((n_detected - n_false) / n_detected, 3) if n_detected else None,
            "recall": round(found / len(hit_rows), 3) if hit_rows else None,
            "median_delay_hours": statistics.median(delays) if delays else None,
            "max_delay_hours": max(delays) if delays else None,
        }

    per_kind = {}
    for kind in dict.fromkeys(kinds.values()):
        brands = {b for b, k in kinds.items() if k == kind}
        per_kind[kind] = figures(
            [h for h in hits if h["brand"] in brands],
            sum(1 for b, _ in detected if b in brands),
            sum(1 for f in false_alarms if f["brand"] in brands),
        )
    by_multiplier = {
        str(m): figures([h for h in hits if h["multiplier"] == m], 0, 0)["recall"]
        for m in sorted({h["multiplier"] for h in hits})
    }
    by_duration = {
        str(d): figures([h for h in hits if h["hours"] == d], 0, 0)["recall"]
        for d in sorted({h["hours"] for h in hits})
    }
    return {
        **figures(hits, len(detected), len(false_alarms)),
        "per_kind": per_kind,
        "recall_by_multiplier": by_multiplier,
        "recall_by_duration_hours": by_duration,
        "false_alarm_list": false_alarms,
        "missed": [
            {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in h.items()}
            for h in hits
            if not h["found"]
        ],
    }


def run_spike_bench(seeds: int = 3, rule: SpikeRule | None = None) -> dict[str, Any]:
    """Generate `seeds` × the scenario brands, run the dbt detector once, score it."""
    rule = rule or SpikeRule()
    streams = [st for seed in range(1, seeds + 1) for st in scenario_streams(seed)]
    with tempfile.TemporaryDirectory(prefix="cjm-spike-bench-") as tmp:
        spikes = run_detector(Path(tmp), streams, rule)
    result = score(streams, spikes)
    result["rule"] = rule.model_dump()
    result["streams"] = len(streams)
    result["hours_per_stream"] = DAYS * 24
    result["generated_at"] = datetime.now(UTC).isoformat()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", default=None, help="also write the full result as JSON here")
    args = parser.parse_args(argv)
    result = run_spike_bench(args.seeds)
    brief = {k: v for k, v in result.items() if k not in ("false_alarm_list", "missed")}
    print(json.dumps(brief, indent=2, ensure_ascii=False))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
