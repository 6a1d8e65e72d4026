"""The spike detector (the dbt model int_negative_buckets_scored) on generated streams.

The streams come from alerts.bench, and the detector is run exactly as the benchmark
runs it: the dbt model on a temporary warehouse. One dbt run serves the module.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest

from alerts import run_alerts
from alerts.bench import START, WARMUP_DAYS, Stream, generate_stream, run_detector, score
from alerts.demo_receiver import DEMO_CONN_ID, demo_receiver
from cjm.config import SpikeRule, parse_config
from cjm.warehouse import open_warehouse


@pytest.fixture(scope="module")
def detected(tmp_path_factory: pytest.TempPathFactory) -> dict:
    rng = np.random.default_rng(11)
    streams = [
        # clear incidents (8-12 × the usual negatives): these must all be found; the
        # benchmark (alerts.bench) measures the harder, smaller ones
        generate_stream("spiky", "medium", rng, 12.0, incidents=4, multipliers=(8.0, 12.0)),
        generate_stream("small", "small", rng, 2.0, incidents=4, multipliers=(8.0, 12.0)),
        generate_stream("growth", "growth", rng, 12.0, growth=(33, 3.0), incidents=0),
        generate_stream("holiday", "holiday", rng, 12.0, holidays=(35, 36), incidents=0),
    ]
    spikes = run_detector(tmp_path_factory.mktemp("detector"), streams, SpikeRule())
    return {"streams": streams, "spikes": spikes, "score": score(streams, spikes)}


def _detections(detected: dict, brand: str) -> list[datetime]:
    cut = START + timedelta(days=WARMUP_DAYS)
    return [b for br, b, _ in detected["spikes"] if br == brand and b >= cut]


def test_planted_spikes_are_found_quickly(detected: dict) -> None:
    per_kind = detected["score"]["per_kind"]
    for kind in ("medium", "small"):
        assert per_kind[kind]["recall"] == 1.0, per_kind[kind]
        assert per_kind[kind]["median_delay_hours"] <= 1
    assert detected["score"]["precision"] >= 0.8


def test_growth_of_volume_at_the_same_share_is_not_flagged(detected: dict) -> None:
    assert _detections(detected, "growth") == []


def test_holiday_dip_is_not_flagged(detected: dict) -> None:
    holiday = START + timedelta(days=35)
    near = [
        b for b in _detections(detected, "holiday") if holiday <= b < holiday + timedelta(days=3)
    ]
    assert near == []


def _demo_like(tmp: Path) -> Path:
    """A Finly-like stream: eight weeks, at most 3 negatives in any hour, then the planted
    incident of 12, 25 and 18 negatives at 07:00-09:00 UTC on 2026-10-14 — through the
    dbt detector and the marts, as `cjm demo` runs them."""
    rng = np.random.default_rng(20260901)
    start = datetime(2026, 9, 1)
    hours = 8 * 7 * 24
    mentions = rng.poisson(2.0, hours)
    negatives = np.minimum(rng.binomial(mentions, 0.3), 3)
    incident = int((datetime(2026, 10, 14, 7) - start).total_seconds() // 3600)
    for i, k in enumerate((12, 25, 18)):
        negatives[incident + i] = k
        mentions[incident + i] = k + 4
    wh = tmp / "warehouse.duckdb"
    with open_warehouse(wh) as con:
        con.execute("insert or replace into config.settings values ('spike_bucket', 'hour')")
        con.execute("create schema if not exists marts")
        con.execute(
            """create table marts.mentions (
                mention_id varchar, brand varchar, source varchar, channel varchar,
                url varchar, author varchar, text varchar, published_at timestamptz,
                sentiment varchar, sentiment_score double, topics varchar[])"""
        )
        con.executemany(
            "insert into marts.mentions values (?,?,?,?,?,?,?,?,?,?,?)",
            [
                (f"m{h}-{j}", "Finly", "listening", "telegram", f"https://t.me/x/{h}{j}",
                 f"u{h}{j}", "не могу войти, ошибка 503", f"{start + timedelta(hours=h)}+00",
                 "negative", -1.0, ["app_stability"])
                for h in range(hours) for j in range(int(negatives[h]))
            ],
        )  # fmt: skip
    run_detector(
        tmp,
        [Stream("Finly", "demo-like", mentions, negatives, start=start)],
        SpikeRule(),
        models=("int_negative_buckets_scored", "negative_spikes"),
        warehouse=wh,
    )
    return wh


def test_demo_like_run_yields_exactly_one_alert_per_target(tmp_path: Path) -> None:
    wh = _demo_like(tmp_path)
    with duckdb.connect(str(wh), read_only=True) as con:
        spikes = con.execute(
            "select bucket_start at time zone 'UTC', incident_start at time zone 'UTC' "
            "from marts.negative_spikes where is_spike order by 1"
        ).fetchall()
    incident = datetime(2026, 10, 14, 7)
    assert spikes == [(incident + timedelta(hours=i), incident) for i in range(3)]

    config = parse_config(
        {
            "brands": [{"name": "Finly", "keywords": ["finly"]}],
            "sources": [{"name": "x", "type": "rss", "url": "http://127.0.0.1/rss"}],
            "alerts": {
                "lookback_hours": 24 * 30,
                "notify": [
                    {"type": "webhook", "airflow_conn": DEMO_CONN_ID, "endpoint": "alerts"},
                    {"type": "webhook", "airflow_conn": DEMO_CONN_ID, "endpoint": "ru",
                     "language": "ru", "name": "second"},
                ],
            },
        }
    )  # fmt: skip
    out = tmp_path / "demo_alerts.jsonl"
    with demo_receiver(out):
        first = run_alerts(config, wh)
        again = run_alerts(config, wh)
    assert (first.incidents, first.sent, again.sent) == (1, 2, 0)
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(g["path"] for g in got) == ["/alerts", "/ru"]
    assert all(g["body"]["incident"]["negative_mentions"] == 55 for g in got)
    ru = next(g for g in got if g["path"] == "/ru")
    assert "55 негативных упоминаний за 3 ч с 2026-10-14 07:00 UTC" in ru["body"]["text"]
