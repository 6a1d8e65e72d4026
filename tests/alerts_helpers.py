"""A warehouse holding hand-made marts for the alert tests: the numbers are chosen, so
every assertion about a message can be checked against the rows below."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cjm.core.warehouse import open_warehouse

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def write_marts(
    path: Path,
    spike_hours: list[int],
    last_hour: int,
    brand: str = "Acme",
    negatives_per_spike: int = 20,
) -> None:
    """Hours 0..last_hour from T0 with 1 negative each, except spike_hours (all in one
    incident, starting at the first) with `negatives_per_spike` negatives."""
    first = min(spike_hours) if spike_hours else None
    with open_warehouse(path) as con:
        con.execute("create schema if not exists marts")
        con.execute("insert or replace into config.settings values ('spike_bucket', 'hour')")
        con.execute(
            """create or replace table marts.negative_spikes (
                brand varchar, bucket_start timestamptz, mentions bigint,
                negative_mentions bigint, baseline double, threshold double, score double,
                is_spike boolean, incident_start timestamptz)"""
        )
        con.execute(
            """create or replace table marts.mentions (
                mention_id varchar, brand varchar, source varchar, channel varchar,
                url varchar, author varchar, text varchar, published_at timestamptz,
                sentiment varchar, sentiment_score double, topics varchar[], stage varchar)"""
        )
        rows, mentions = [], []
        for h in range(last_hour + 1):
            at = T0 + timedelta(hours=h)
            spike = h in spike_hours
            k = negatives_per_spike if spike else 1
            rows.append(
                (brand, at, k + 2, k, 1.0, 6.0, (k - 1) / 1.0, spike,
                 T0 + timedelta(hours=first) if spike else None)
            )  # fmt: skip
            for i in range(k):
                topics = ["app_stability"] if i % 2 == 0 else ["support_quality", "app_stability"]
                mentions.append(
                    (f"m{h}-{i}", brand, "listening" if i % 3 else "media", "telegram",
                     f"https://example.org/{h}/{i}", f"user{h}-{i}",
                     f"App is down again <b>#{h}-{i}</b> & nobody answers",
                     at + timedelta(minutes=i % 60), "negative", -1.0 - (i % 4) / 10, topics,
                     "usage")
                )  # fmt: skip
        con.executemany("insert into marts.negative_spikes values (?,?,?,?,?,?,?,?,?)", rows)
        con.executemany("insert into marts.mentions values (?,?,?,?,?,?,?,?,?,?,?,?)", mentions)


def alert_rows(path: Path) -> list[tuple]:
    with open_warehouse(path) as con:
        return con.execute(
            "select sent_to, kind, status, attempts, rounds, language, bucket_start "
            "from ops.alerts order by sent_to, kind"
        ).fetchall()
