"""Competitors and control metrics: the marts recover what the demo generator planted.

cjm/demo/market.py writes a second listening export with two competitors' mentions
(known counts per platform and sentiment, views and likes) and Finly's support
replies to a known set of the main export's customer mentions with known delays;
demo/truth/summary.json (`market`) holds the answers, and the media feed's outlets
are the key media's truth. One warehouse per module: the demo's three mention files
read as file sources, loaded the way the pipeline loads them, and only the models
under test built (marts.share_of_voice, response_times(_daily), negative_frequency,
media_citations, keyword_map).
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
import yaml

from cjm.core.config import ConfigError, parse_config
from cjm.refresh import tasks
from cjm.refresh.dbt import run_dbt
from tests.pipeline_helpers import ROOT

DEMO = ROOT / "demo"
SUMMARY = json.loads((DEMO / "truth" / "summary.json").read_text(encoding="utf-8"))
MARKET = SUMMARY["market"]
MSK = ZoneInfo("Europe/Moscow")
SELECT = [
    "+share_of_voice",
    "+response_times_daily",
    "+negative_frequency",
    "+media_citations",
    "+keyword_map",
]


def _config(path: Path) -> Path:
    """The demo config's brands, key media and stages over the bundled files."""
    demo = yaml.safe_load((ROOT / "config" / "demo.yml").read_text(encoding="utf-8"))
    market = next(s for s in demo["sources"] if s["name"] == "listening_market")
    listening = next(s for s in demo["sources"] if s["name"] == "listening")
    config = {
        "brands": demo["brands"],
        "key_media": demo["key_media"],
        "stages": demo["stages"],
        "reporting_timezone": demo["reporting_timezone"],
        "sources": [
            {**listening, "path": str(DEMO / "inbox" / "mentions_listening.csv")},
            {
                "name": "media",
                "type": "file",
                "entity": "mention",
                "path": str(DEMO / "inbox" / "mentions_media.jsonl"),
                "columns": {
                    "native_id": "guid",
                    "title": "title",
                    "text": "summary",
                    "published_at": "published",
                    "url": "link",
                    "author": "outlet",
                },
                "constants": {"channel": "media"},
            },
            {**market, "path": str(DEMO / "inbox" / market["path"].rsplit("/", 1)[-1])},
        ],
    }
    out = path / "config.yml"
    out.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("market")
    config = str(_config(root))
    warehouse = str(root / "warehouse.duckdb")
    for source in ("listening", "media", "listening_market"):
        tasks.extract(source, "market-test", config, warehouse)
        tasks.validate(source, "market-test", config, warehouse)
    loaded = tasks.load("market-test", config, warehouse)
    assert not loaded["failed"], loaded["failed"]
    # the models' data and unit tests too, but only those whose parents are all built
    proc = run_dbt(
        "build",
        Path(warehouse),
        SELECT,
        root / "target",
        root / "logs",
        capture=True,
        quiet=True,
        extra=("--indirect-selection", "cautious"),
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    connection = duckdb.connect(warehouse, read_only=True)
    yield connection
    connection.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


# ---------------------------------------------------------------- share of voice


def test_share_of_voice_counts_each_competitors_planted_mentions(con):
    got = Counter()
    for r in _rows(
        con,
        "select brand, channel, sum(positive_mentions) p, sum(negative_mentions) n, "
        "sum(mentions) m from marts.share_of_voice where brand_role = 'competitor' group by all",
    ):
        got[(r["brand"], r["channel"], "positive")] = r["p"]
        got[(r["brand"], r["channel"], "negative")] = r["n"]
        got[(r["brand"], r["channel"], "all")] = r["m"]
    want = Counter()
    for brand, truth in MARKET["competitors"].items():
        for cell, n in truth["by_platform_sentiment"].items():
            platform, sentiment = cell.split("/")
            want[(brand, platform, "all")] += n
            if sentiment != "neutral":
                want[(brand, platform, sentiment)] += n
    assert {k: v for k, v in got.items() if v} == {k: v for k, v in want.items() if v}
    markets = con.execute("select distinct market from marts.share_of_voice").fetchall()
    assert markets == [(MARKET["market"],)]


def test_share_of_voice_shares_are_of_the_market_cell(con):
    cells = _rows(
        con,
        "select published_date, channel, source_type, brand, mentions, market_mentions, "
        "share_of_mentions, negative_mentions, market_negative_mentions, share_of_negatives "
        "from marts.share_of_voice",
    )
    totals, negatives = Counter(), Counter()
    for c in cells:
        key = (c["published_date"], c["channel"], c["source_type"])
        totals[key] += c["mentions"]
        negatives[key] += c["negative_mentions"]
    assert {c["brand"] for c in cells} == {"Finly", *MARKET["competitors"]}
    for c in cells:
        key = (c["published_date"], c["channel"], c["source_type"])
        assert c["market_mentions"] == totals[key]
        assert c["share_of_mentions"] == pytest.approx(c["mentions"] / totals[key])
        assert c["market_negative_mentions"] == negatives[key]
        if negatives[key]:
            assert c["share_of_negatives"] == pytest.approx(c["negative_mentions"] / negatives[key])
        else:
            assert c["share_of_negatives"] is None
    # Finly's side of every cell is its customers' stories in marts.mentions (no replies)
    finly = con.execute(
        "select count(*) from marts.mentions where brand = 'Finly' and not is_repost "
        "and is_relevant is not false and not is_brand_account"
    ).fetchone()[0]
    in_mart = con.execute(
        "select sum(mentions) from marts.share_of_voice where brand = 'Finly'"
    ).fetchone()[0]
    assert in_mart == finly


def test_share_of_voice_sums_the_mapped_reach_and_engagement(con):
    got = {
        b: (reach, engagement)
        for b, reach, engagement in con.execute(
            "select brand, sum(reach), sum(engagement) from marts.share_of_voice "
            "where brand_role = 'competitor' group by brand"
        ).fetchall()
    }
    want = {b: (t["views"], t["likes"]) for b, t in MARKET["competitors"].items()}
    assert got == want


def test_negative_frequency_counts_per_thousand(con):
    rows = _rows(
        con,
        "select brand, sum(negative_mentions) n, sum(mentions) m from marts.negative_frequency "
        "where brand_role = 'competitor' group by brand",
    )
    assert {r["brand"]: r["n"] for r in rows} == {
        b: t["negative"] for b, t in MARKET["competitors"].items()
    }
    assert {r["brand"]: r["m"] for r in rows} == {
        b: t["mentions"] for b, t in MARKET["competitors"].items()
    }
    bad = con.execute(
        "select count(*) from marts.negative_frequency "
        "where abs(negatives_per_1000 - 1000.0 * negative_mentions / mentions) > 1e-9"
    ).fetchone()[0]
    assert bad == 0


def test_keyword_map_sets_competitors_beside_the_own_brand(con):
    rows = _rows(
        con,
        "select brand, brand_role, market, topic, mentions, barrier_mentions, "
        "competitor_mentions, competitor_barrier_mentions from marts.keyword_map",
    )
    roles = {r["brand"]: r["brand_role"] for r in rows}
    assert roles == {"Finly": "own", **dict.fromkeys(MARKET["competitors"], "competitor")}
    by = {(r["brand"], r["topic"]): r for r in rows}
    compared = 0
    for (brand, topic), r in by.items():
        others = [v for (b, t), v in by.items() if t == topic and b != brand]
        assert r["competitor_mentions"] == sum(o["mentions"] for o in others)
        assert r["competitor_barrier_mentions"] == sum(o["barrier_mentions"] for o in others)
        compared += bool(others and brand == "Finly")
    assert compared >= 3  # Finly's topics meet the competitors' (support, cards, fees ...)


# ---------------------------------------------------------------- response times


def test_response_times_recover_the_planted_replies_and_delays(con):
    planted = {a["url"]: a["delay_minutes"] for a in MARKET["replies"]["answered_mentions"]}
    answered = _rows(
        con,
        "select m.url, r.response_hours, r.reply_author from marts.response_times r "
        "join marts.mentions m using (mention_id) where r.is_answered",
    )
    assert len(answered) == MARKET["replies"]["answered"] == len(planted)
    got = {r["url"]: round(r["response_hours"] * 60, 6) for r in answered}
    assert got == planted  # the first reply, never the follow-up
    accounts = set(MARKET["replies"]["account"].values())
    assert {r["reply_author"] for r in answered} <= accounts
    median = statistics.median(r["response_hours"] for r in answered) * 60
    assert median == pytest.approx(MARKET["replies"]["median_delay_minutes"], abs=0.5)


def test_response_times_daily_summarises_the_mart(con):
    total = _rows(
        con,
        "select sum(customer_mentions) c, sum(answered_mentions) a, "
        "sum(unanswered_mentions) u from marts.response_times_daily",
    )[0]
    assert total["a"] == MARKET["replies"]["answered"]
    customers = con.execute("select count(*) from marts.response_times").fetchone()[0]
    assert total["c"] == customers == total["a"] + total["u"]
    # the brand's replies themselves are not customer mentions
    replies = con.execute(
        "select count(*) from marts.response_times r join marts.mentions m using (mention_id) "
        "where m.is_brand_account"
    ).fetchone()[0]
    assert replies == 0
    day = _rows(
        con,
        "select published_date, brand, channel, median_response_hours, p90_response_hours, "
        "unanswered_share from marts.response_times_daily where answered_mentions >= 2 limit 1",
    )[0]
    hours = [
        h
        for (h,) in con.execute(
            "select response_hours from marts.response_times where is_answered "
            "and published_date = ? and brand = ? and channel = ?",
            [day["published_date"], day["brand"], day["channel"]],
        ).fetchall()
    ]
    assert day["median_response_hours"] == pytest.approx(statistics.median(hours))
    assert min(hours) <= day["p90_response_hours"] <= max(hours)


# ---------------------------------------------------------------- key media


def test_media_citations_count_the_key_outlets_articles(con):
    demo = yaml.safe_load((ROOT / "config" / "demo.yml").read_text(encoding="utf-8"))
    media = demo["key_media"]
    want = Counter()
    for line in (DEMO / "inbox" / "mentions_media.jsonl").read_text(encoding="utf-8").splitlines():
        a = json.loads(line)
        day = datetime.fromisoformat(a["published"]).astimezone(MSK).date()
        host = a["link"].split("/")[2]
        for m in media:
            if a["outlet"] in m.get("outlets", []) or host in m.get("domains", []):
                want[(day, m["name"])] += 1
    rows = _rows(
        con,
        "select published_date, medium, citations, stories, weight, citation_index "
        "from marts.media_citations",
    )
    assert {(r["published_date"], r["medium"]): r["citations"] for r in rows} == dict(want)
    weights = {m["name"]: m.get("weight", 1) for m in media}
    for r in rows:
        assert r["weight"] == weights[r["medium"]]
        assert r["citation_index"] == pytest.approx(r["citations"] * r["weight"])
        assert 1 <= r["stories"] <= r["citations"]


# ---------------------------------------------------------------- config


def _base() -> dict:
    return {
        "brands": [{"name": "A", "keywords": ["a"]}],
        "sources": [{"name": "f", "type": "file", "entity": "mention", "path": "x.csv",
                     "columns": {"native_id": "id", "text": "t", "published_at": "d"}}],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda c: c["brands"][0].update(accounts=[{"source": "nope", "author": "a"}]),
            "brands[0].accounts[0].source: 'nope' is not one of sources",
        ),
        (lambda c: c["brands"][0].update(role="competitor"), "every brand is a competitor"),
        (lambda c: c.update(key_media=[{"name": "M"}]), "at least one of sources, outlets"),
        (
            lambda c: c.update(key_media=[{"name": "M", "sources": ["nope"]}]),
            "key_media[0].sources: ['nope'] are not sources",
        ),
        (
            lambda c: (
                c["brands"].append(
                    {"name": "B", "keywords": ["b"], "accounts": [{"source": "f", "author": "X"}]}
                )
                or c["brands"][0].update(accounts=[{"source": "f", "author": "x"}])
            ),
            "is listed by both 'A' and 'B'",
        ),
    ],
)
def test_config_rejects_bad_markets_accounts_and_media(change, message, tmp_path):
    config = _base()
    change(config)
    with pytest.raises(ConfigError) as err:
        parse_config(config, tmp_path / "cjm.yml")
    assert message in str(err.value)


def test_config_defaults_every_brand_to_own_in_one_market(tmp_path):
    config = parse_config(_base(), tmp_path / "cjm.yml")
    assert (config.brands[0].role, config.brands[0].market) == ("own", "default")
    assert config.key_media == []
