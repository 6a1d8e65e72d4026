"""Incidents read from the marts: what an alert says.

An incident is the spike buckets of one brand that share an `incident_start`
(the dbt model merges spikes within the cooldown). Everything here is read from
the warehouse's `marts.negative_spikes` and `marts.mentions`, so an alert shows
exactly what the BI tools show.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb

from cjm.core.config import Config


@dataclass(frozen=True)
class Example:
    text: str
    url: str | None
    site: str  # where it was posted: the link's site, else the channel
    channel: str | None
    published_at: datetime


@dataclass(frozen=True)
class Incident:
    """One incident of one brand as of the latest refresh."""

    brand: str
    start: datetime  # first spike bucket (UTC)
    last_spike: datetime  # last spike bucket so far
    bucket_hours: int
    spike_buckets: int
    negative_mentions: int  # in the spike buckets
    mentions: int
    baseline: float  # expected negatives in the spike buckets, summed
    threshold: float  # of the peak bucket
    peak_at: datetime
    peak_negative_mentions: int
    peak_baseline: float
    max_score: float
    is_closed: bool  # no spike for cooldown_hours after last_spike (in the data)
    topics: list[tuple[str, int]] = field(default_factory=list)  # topic codes
    # where the negative mentions were posted: the link's site, else the channel code
    sites: list[tuple[str, int]] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    stage: str | None = None  # the stage most of the negative mentions are at (code)
    reach: int | None = None  # views of the negative mentions, where the source gives them

    @property
    def end(self) -> datetime:
        """End of the last spike bucket (exclusive)."""
        return self.last_spike + timedelta(hours=self.bucket_hours)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("start", "last_spike", "peak_at"):
            out[key] = out[key].isoformat()
        out["end"] = self.end.isoformat()
        out["topics"] = [{"topic": t, "mentions": n} for t, n in self.topics]
        out["sites"] = [{"site": s, "negative_mentions": n} for s, n in self.sites]
        out["examples"] = [
            {**e, "published_at": e["published_at"].isoformat()} for e in out["examples"]
        ]
        return out


def _bucket_hours(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("select value from config.settings where key = 'spike_bucket'").fetchone()
    return 24 if row and row[0] == "day" else 1


def read_incidents(
    con: duckdb.DuckDBPyConnection, config: Config, examples: int = 3, top: int = 3
) -> list[Incident]:
    """Incidents whose last spike lies within `alerts.lookback_hours` of the brand's newest
    bucket. Measured against the data, not the clock, so a backfill or the demo behaves
    the same on any day, and old history does not flood a newly configured target.
    """
    bucket_hours = _bucket_hours(con)
    rows = con.execute(
        """
        with spikes as (
            select * from marts.negative_spikes where is_spike
        ),
        newest as (
            select brand, max(bucket_start) as newest_bucket
            from marts.negative_spikes group by brand
        )
        select
            spikes.brand,
            spikes.incident_start,
            max(spikes.bucket_start) as last_spike,
            count(*) as spike_buckets,
            sum(spikes.negative_mentions) as negative_mentions,
            sum(spikes.mentions) as mentions,
            sum(spikes.baseline) as baseline,
            arg_max(spikes.threshold, spikes.negative_mentions) as threshold,
            arg_max(spikes.bucket_start, spikes.negative_mentions) as peak_at,
            max(spikes.negative_mentions) as peak_negative_mentions,
            arg_max(spikes.baseline, spikes.negative_mentions) as peak_baseline,
            max(spikes.score) as max_score,
            any_value(newest.newest_bucket) as newest_bucket
        from spikes
        join newest using (brand)
        group by spikes.brand, spikes.incident_start
        order by spikes.brand, spikes.incident_start
        """
    ).fetchall()
    competitors = {b.name for b in config.brands if b.role == "competitor"}
    out = []
    for r in rows:
        brand, start, last_spike, newest = r[0], r[1], r[2], r[12]
        rule = config.alerts.rule_for(brand)
        if last_spike < newest - timedelta(hours=config.alerts.lookback_hours):
            continue
        if brand in competitors and not config.alerts.competitors:
            continue
        window_end = last_spike + timedelta(hours=bucket_hours)
        out.append(
            Incident(
                brand=brand,
                start=start,
                last_spike=last_spike,
                bucket_hours=bucket_hours,
                spike_buckets=int(r[3]),
                negative_mentions=int(r[4]),
                mentions=int(r[5]),
                baseline=float(r[6]),
                threshold=float(r[7]),
                peak_at=r[8],
                peak_negative_mentions=int(r[9]),
                peak_baseline=float(r[10]),
                max_score=float(r[11]),
                is_closed=newest >= last_spike + timedelta(hours=rule.cooldown_hours),
                topics=_top_topics(con, brand, start, window_end, top),
                sites=_sites(con, brand, start, window_end),
                examples=_examples(con, brand, start, window_end, examples),
                stage=_top_stage(con, brand, start, window_end),
                reach=_reach(con, brand, start, window_end),
            )
        )
    return out


_NEGATIVE_IN_WINDOW = """
    from marts.mentions
    where brand = $brand and sentiment = 'negative'
      and published_at >= $start and published_at < $end
"""


def _top_topics(
    con: duckdb.DuckDBPyConnection, brand: str, start: datetime, end: datetime, top: int
) -> list[tuple[str, int]]:
    """The barriers people name most in the incident's negative mentions."""
    rows = con.execute(
        f"""
        select topic, count(*) as n
        from (select unnest(topics) as topic {_NEGATIVE_IN_WINDOW})
        group by topic order by n desc, topic limit $top
        """,
        {"brand": brand, "start": start, "end": end, "top": top},
    ).fetchall()
    return [(t, int(n)) for t, n in rows]


# The host of a mention's link without `www.`: the site it was posted on.
_SITE = "nullif(regexp_extract(url, '^[A-Za-z]+://(?:www\\.)?([^/:?#]+)', 1), '')"


def _sites(
    con: duckdb.DuckDBPyConnection, brand: str, start: datetime, end: datetime
) -> list[tuple[str, int]]:
    """Where the negative mentions came from, as a reader knows it (vk.com, t.me, the
    channel when there is no link), not the config's source names."""
    rows = con.execute(
        f"select coalesce({_SITE}, channel, source) as site, count(*) as n "
        f"{_NEGATIVE_IN_WINDOW} group by site order by n desc, site",
        {"brand": brand, "start": start, "end": end},
    ).fetchall()
    return [(s, int(n)) for s, n in rows]


def _top_stage(
    con: duckdb.DuckDBPyConnection, brand: str, start: datetime, end: datetime
) -> str | None:
    row = con.execute(
        f"select stage, count(*) as n {_NEGATIVE_IN_WINDOW} and stage is not null "
        "group by stage order by n desc, stage limit 1",
        {"brand": brand, "start": start, "end": end},
    ).fetchone()
    return row[0] if row else None


def _reach(
    con: duckdb.DuckDBPyConnection, brand: str, start: datetime, end: datetime
) -> int | None:
    """Views of the incident's negative mentions where the source reports them
    (Telegram's view counter, in raw.mentions.attributes); None when none does."""
    row = con.execute(
        f"""
        select sum(try_cast(json_extract_string(raw_mentions.attributes, '$.views') as bigint))
        from (select mention_id {_NEGATIVE_IN_WINDOW}) as negative
        inner join raw.mentions as raw_mentions
            on negative.mention_id = raw_mentions.mention_id
        """,
        {"brand": brand, "start": start, "end": end},
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else None


def _examples(
    con: duckdb.DuckDBPyConnection, brand: str, start: datetime, end: datetime, n: int
) -> list[Example]:
    """The most negative mentions with a link, one per author, in a stable order so a
    re-rendered alert (a retry) says the same thing."""
    if n <= 0:
        return []
    rows = con.execute(
        f"""
        select text, url, coalesce({_SITE}, channel, source) as site, channel, published_at
        from (
            select *, row_number() over (
                partition by coalesce(author, mention_id) order by sentiment_score, mention_id
            ) as nth
            {_NEGATIVE_IN_WINDOW}
        )
        where nth = 1
        order by url is null, sentiment_score, published_at, mention_id
        limit $n
        """,
        {"brand": brand, "start": start, "end": end, "n": n},
    ).fetchall()
    return [Example(*r) for r in rows]
