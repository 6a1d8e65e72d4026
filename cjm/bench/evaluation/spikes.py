"""Score the production spike detector on real, human-labelled hourly volumes.

The data are NAB's realTweets (5-minute counts of tweets naming a company, with
anomaly windows labelled by people), read from the directory passed in (never
copied into the project). Every tweet counts as one negative mention, which is how a
user who loads such volumes through a `file` source sees them.

How the counts reach the detector. The full path (one mention row per tweet →
validation → load → enrichment → dbt) would push 2.5 M mentions through the
scorer, about four minutes of one core before dbt even starts, for counts the
enrichment cannot change (every row is negative by construction). So the hourly
counts are written as `intermediate.int_mention_counts_bucketed` (the table the
detector reads, upstream only of enrichment), the rules are mirrored by the real
loader (`cjm.loader.sync_config`, JSON setting `spike_rules`), and `dbt run`
builds `int_settings_resolved`, `int_spike_rules_resolved`,
`int_negative_buckets_scored` and `marts.negative_spikes` from the project's SQL,
unchanged. What is scored is what a user reads back from `marts.negative_spikes`.
Checked on CVS (5,701 tweets): one negative mention row per tweet through a `file`
source, `cjm run` (validate 8 s, dbt build 35 s, 44 s in all on 2 shared cores) gives
the same 1,321 rows of `marts.negative_spikes` (hour, is_spike, incident_start) as
this path, which scores all five series (2.5 M tweets) in about 12 s.

Scored by incident, not by point (../shared/data/README.md): flagged hours no more
than `GAP_HOURS` apart form one incident; a labelled window is found when an
incident overlaps it; an incident that overlaps no window is a false incident.
Delay = hours from the window start to the first flagged hour of the first
overlapping incident (negative when the incident began before the window: NAB
windows open well before the anomaly). Point-adjusted F1 is never reported.

Next to the detector, a plain baseline is scored the same way: robust z > 8 over
the trailing 7-day median / MAD, at least 4 × the median and at least 10 per hour.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from cjm.core.config import SpikeRule, parse_config
from cjm.core.warehouse import open_warehouse, replace_mention_counts
from cjm.loader import sync_config
from cjm.refresh.dbt import dbt_run_or_raise

NAB_DIR = Path("spikes") / "nab_realtweets"
SERIES = ("AAPL", "AMZN", "CRM", "CVS", "FB")
GAP_HOURS = 3  # flagged hours at most this far apart are one incident
HOUR = timedelta(hours=1)
WEEK_HOURS = 168.0

# The simple baseline: robust z over a trailing median / MAD, with a lift and a floor.
BASELINE_WINDOW_HOURS = 168
BASELINE_Z = 8.0
BASELINE_LIFT = 4.0
BASELINE_MIN_COUNT = 10

# Models built on top of the written counts: the rule resolution and the detector down
# to the mart a user reads. int_mention_counts_bucketed is *not* selected (it is the
# table written here).
DETECTOR_MODELS = (
    "+int_spike_rules_resolved",
    "int_negative_buckets_scored",
    "negative_spikes",
)


# -- incident scoring (pure) ---------------------------------------------------------


@dataclass(frozen=True)
class Incident:
    """Flagged hours of one series merged by GAP_HOURS: [start, last + 1 h)."""

    start: datetime
    last: datetime
    hours: int

    def overlaps(self, window_start: datetime, window_end: datetime) -> bool:
        return self.start <= window_end and self.last + HOUR > window_start


def group_incidents(flagged: Iterable[datetime], gap_hours: float = GAP_HOURS) -> list[Incident]:
    """Merge flagged hours no more than `gap_hours` apart (start to start) into incidents."""
    hours = sorted(set(flagged))
    out: list[Incident] = []
    gap = timedelta(hours=gap_hours)
    for h in hours:
        if out and h - out[-1].last <= gap:
            last = out[-1]
            out[-1] = Incident(last.start, h, last.hours + 1)
        else:
            out.append(Incident(h, h, 1))
    return out


def score_incidents(
    incidents: Sequence[Incident],
    windows: Sequence[tuple[datetime, datetime]],
    weeks: float,
) -> dict[str, Any]:
    """Recall, precision, false incidents per week and delays of one series.

    Counts are returned alongside the ratios so several series can be pooled.
    """
    true_incidents = [i for i in incidents if any(i.overlaps(s, e) for s, e in windows)]
    delays: list[float] = []
    for ws, we in windows:
        hits = [i for i in incidents if i.overlaps(ws, we)]
        if hits:
            delays.append((min(hits, key=lambda i: i.start).start - ws).total_seconds() / 3600)
    n_false = len(incidents) - len(true_incidents)
    return _ratios(
        windows=len(windows),
        found=len(delays),
        incidents=len(incidents),
        false_incidents=n_false,
        weeks=weeks,
        delays=delays,
    )


def _ratios(
    windows: int, found: int, incidents: int, false_incidents: int, weeks: float, delays: list
) -> dict[str, Any]:
    return {
        "windows": windows,
        "found": found,
        "incidents": incidents,
        "false_incidents": false_incidents,
        "weeks": round(weeks, 3),
        "recall": round(found / windows, 3) if windows else None,
        "precision": round((incidents - false_incidents) / incidents, 3) if incidents else None,
        "false_per_week": round(false_incidents / weeks, 3) if weeks else None,
        "median_delay_hours": statistics.median(delays) if delays else None,
        "delays_hours": sorted(delays),
    }


def pool(per_series: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Overall figures: counts summed over series (micro-averaged), delays pooled."""
    rows = list(per_series.values())
    return _ratios(
        windows=sum(r["windows"] for r in rows),
        found=sum(r["found"] for r in rows),
        incidents=sum(r["incidents"] for r in rows),
        false_incidents=sum(r["false_incidents"] for r in rows),
        weeks=sum(r["weeks"] for r in rows),
        delays=[d for r in rows for d in r["delays_hours"]],
    )


# -- the data ------------------------------------------------------------------------


@dataclass
class HourlySeries:
    """One NAB series as hourly counts on a gap-free hour axis (naive UTC)."""

    name: str
    start: datetime
    counts: np.ndarray
    windows: list[tuple[datetime, datetime]]
    tweets: int

    @property
    def hours(self) -> list[datetime]:
        return [self.start + i * HOUR for i in range(len(self.counts))]

    @property
    def weeks(self) -> float:
        return len(self.counts) / WEEK_HOURS


def load_series(
    data_dir: Path, series: Sequence[str] | None = None, weeks: float | None = None
) -> list[HourlySeries]:
    """Hourly sums of the 5-minute counts; `weeks` keeps only each series' first weeks
    (windows that start after the cut are dropped, so a sample is scored fairly)."""
    base = Path(data_dir) / NAB_DIR
    labels = json.loads((base / "windows.json").read_text(encoding="utf-8"))
    out = []
    con = duckdb.connect()
    try:
        for name in series or SERIES:
            rows = con.execute(
                "select date_trunc('hour', cast(timestamp as timestamp)) as h, "
                "sum(value)::bigint from read_csv(?, header = true) group by h order by h",
                [str(base / f"{name}.csv")],
            ).fetchall()
            start, end = rows[0][0], rows[-1][0]
            if weeks is not None:
                end = min(end, start + timedelta(hours=weeks * WEEK_HOURS) - HOUR)
            n = int((end - start) / HOUR) + 1
            counts = np.zeros(n, dtype=np.int64)
            for h, v in rows:
                if h <= end:
                    counts[int((h - start) / HOUR)] = v
            windows = [
                (datetime.fromisoformat(s), datetime.fromisoformat(e))
                for s, e in labels.get(f"Twitter_volume_{name}.csv", [])
            ]
            span_end = end + HOUR
            windows = [(s, e) for s, e in windows if s < span_end]
            out.append(HourlySeries(name, start, counts, windows, int(counts.sum())))
    finally:
        con.close()
    return out


# -- the detectors -------------------------------------------------------------------


def baseline_flags(counts: np.ndarray) -> np.ndarray:
    """The plain baseline: x > median + 8 × 1.4826 MAD of the trailing 7 days (spread at
    least 1), x ≥ 4 × median and x ≥ 10; needs a day of history."""
    flags = np.zeros(len(counts), dtype=bool)
    for t in range(24, len(counts)):
        past = counts[max(0, t - BASELINE_WINDOW_HOURS) : t]
        med = float(np.median(past))
        spread = max(1.4826 * float(np.median(np.abs(past - med))), 1.0)
        x = float(counts[t])
        flags[t] = (
            x > med + BASELINE_Z * spread and x >= BASELINE_LIFT * med and x >= BASELINE_MIN_COUNT
        )
    return flags


def run_dbt_detector(
    work_dir: Path,
    series: Sequence[HourlySeries],
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    spike: Mapping[str, Any] | None = None,
) -> tuple[dict[str, list[datetime]], float]:
    """Run the production SQL on the series; the flagged hours per brand and dbt seconds.

    Each series is a brand named after it; `overrides` (brand → rule fields) and
    `spike` (alerts.spike) go through the real config model and loader, so a parameter
    sweep may run many brands (copies of a series under other names) in one dbt run.
    """
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    wh = work_dir / "spike_eval.duckdb"
    wh.unlink(missing_ok=True)
    config = parse_config(
        {
            "brands": [{"name": s.name, "keywords": ["x"]} for s in series],
            "sources": [{"name": "volumes", "type": "rss", "url": "http://127.0.0.1/x"}],
            "alerts": {"spike": dict(spike or {}), "brands": dict(overrides or {})},
        }
    )
    brands, buckets, values = [], [], []
    for s in series:
        nz = np.nonzero(s.counts)[0]  # the warehouse has rows only for hours with mentions
        brands += [s.name] * len(nz)
        buckets += [s.start + int(i) * HOUR for i in nz]
        values += s.counts[nz].tolist()
    with open_warehouse(wh) as con:
        sync_config(con, config)
        # every tweet is a negative mention: the same counts in both columns
        replace_mention_counts(con, brands, buckets, values, values)
    started = time.perf_counter()
    dbt_run_or_raise(wh, DETECTOR_MODELS, work_dir, "the detector")
    seconds = time.perf_counter() - started
    con = duckdb.connect(str(wh), read_only=True)
    try:
        rows = con.execute(
            "select brand, bucket_start at time zone 'UTC' from marts.negative_spikes "
            "where is_spike order by brand, bucket_start"
        ).fetchall()
    finally:
        con.close()
    flagged: dict[str, list[datetime]] = {s.name: [] for s in series}
    for brand, bucket in rows:
        flagged[brand].append(bucket)
    return flagged, seconds


def _score(s: HourlySeries, flagged: Iterable[datetime]) -> dict[str, Any]:
    return score_incidents(group_incidents(flagged), s.windows, s.weeks)


def evaluate_spikes(
    data_dir: Path,
    work_dir: Path,
    series: Sequence[str] | None = None,
    weeks: float | None = None,
    spike: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The production detector (default rules unless `spike` overrides alerts.spike)
    and the plain baseline on the NAB series, scored by incident; JSON-able."""
    started = time.perf_counter()
    data = load_series(Path(data_dir), series, weeks)
    flagged, dbt_seconds = run_dbt_detector(Path(work_dir), data, spike=spike)
    detector = {s.name: _score(s, flagged[s.name]) for s in data}
    t0 = time.perf_counter()
    baseline = {s.name: _score(s, [s.hours[i] for i in np.nonzero(baseline_flags(s.counts))[0]])
                for s in data}  # fmt: skip
    baseline_seconds = time.perf_counter() - t0
    hours = sum(len(s.counts) for s in data)
    tweets = sum(s.tweets for s in data)
    total = time.perf_counter() - started
    return {
        "data": str(Path(data_dir) / NAB_DIR),
        "series": [s.name for s in data],
        "weeks_per_series": weeks,
        "rule": SpikeRule.model_validate(dict(spike or {})).model_dump(),
        "detector": {"overall": pool(detector), "per_series": detector},
        "baseline": {"overall": pool(baseline), "per_series": baseline},
        "hourly_rows": hours,
        "tweets": tweets,
        "dbt_seconds": round(dbt_seconds, 2),
        "baseline_seconds": round(baseline_seconds, 2),
        "seconds": round(total, 2),
        "tweets_per_second": round(tweets / total),
    }
