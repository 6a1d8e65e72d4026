"""Planted journeys: the journey marts recover known counts, rates and credits.

Customers come from cjm/bench/journey_data.py with designed conversion rates per
channel. The warehouse is built the way the pipeline builds it (open_warehouse,
sync_config with a parsed config, rows in raw.crm_events, cjm.dbt_build), then:

* the funnel counts in marts.stage_conversion_first_touch (and, in total,
  marts.stage_conversion_monthly) equal the counts recomputed from the generated
  journeys, exactly, per channel (skipped stages inferred);
* the observed rates are the designed ones within sampling error (4 sigma);
* every attribution model's credits sum to the number of conversions, and
  first-touch credit per channel is exactly that channel's conversions;
* loading the events in two batches (the second with late-arriving records) and
  building after each gives exactly the tables of one build over all the data.
"""

from __future__ import annotations

import math
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pytest

from cjm.bench.journey_data import (
    BRAND,
    CHANNELS,
    P_LATE_ORDER,
    START,
    expected_funnel,
    generate,
    insert_events,
    journey_config,
)
from cjm.core.warehouse import open_warehouse
from cjm.loader import sync_config
from cjm.refresh.dbt import dbt_build

N_CUSTOMERS = 4000
FIRST_LOAD = datetime(2026, 3, 1, tzinfo=UTC)
SECOND_LOAD = datetime(2026, 4, 15, tzinfo=UTC)
# The journey marts and everything upstream of them (not the alert models).
SELECT = [
    "+int_conversion_cohorts_counted+",
    "+touchpoints",
    "+cjm",
    "+communication_map",
    "+keyword_map",
]
# The journey tables (intermediate and marts) an incremental run must get right.
JOURNEY_TABLES = (
    "intermediate.int_crm_events_mapped",
    "intermediate.int_customer_stage_entries",
    "intermediate.int_stage_transitions_measured",
    "intermediate.int_customer_touches",
    "intermediate.int_conversion_paths",
    "intermediate.int_markov_transitions_counted",
    "intermediate.int_touch_credits_markov",
    "marts.stage_conversion",
    "marts.stage_conversion_first_touch",
    "marts.stage_conversion_monthly",
    "marts.touchpoints",
    "marts.cjm",
    "marts.communication_map",
)


@pytest.fixture(scope="module")
def journeys():
    return generate(N_CUSTOMERS)


def _new_warehouse(path: Path) -> None:
    with open_warehouse(path) as con:
        sync_config(con, journey_config())


def _build(path: Path) -> None:
    dbt_build(path, select=SELECT, target_path=path.parent / "target", quiet=True)


def _tables(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for table in JOURNEY_TABLES:
            schema, name = table.split(".")
            rel = con.table(f'"{schema}"."{name}"')
            columns = sorted(rel.columns)  # column order may differ after a schema sync
            rows = con.execute(f'select {", ".join(columns)} from "{schema}"."{name}"').fetchall()
            out[table] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def warehouses(journeys, tmp_path_factory):
    """(one full build over all data, two incremental builds over two batches)."""
    events = journeys.events
    root = tmp_path_factory.mktemp("planted")
    full = root / "full" / "warehouse.duckdb"
    full.parent.mkdir()
    incremental = root / "incremental" / "warehouse.duckdb"
    incremental.parent.mkdir()

    # the first load holds the first 50 days, minus 3% of them that arrive late
    rng = np.random.default_rng(7)
    early = events["occurred_at"] < START + (datetime(2026, 2, 24, tzinfo=UTC) - START)
    late = early & (rng.random(len(events)) < 0.03)
    first, second = events[early & ~late], events[~early | late]

    _new_warehouse(full)
    with open_warehouse(full) as con:
        insert_events(con, first, FIRST_LOAD)
        insert_events(con, second, SECOND_LOAD)
    _build(full)

    _new_warehouse(incremental)
    with open_warehouse(incremental) as con:
        insert_events(con, first, FIRST_LOAD)
    _build(incremental)
    with open_warehouse(incremental) as con:
        insert_events(con, second, SECOND_LOAD)
    _build(incremental)
    return full, incremental


@pytest.fixture
def con(warehouses):
    connection = duckdb.connect(str(warehouses[0]), read_only=True)
    yield connection
    connection.close()


def _funnel(con, from_stage: str) -> dict[str, tuple]:
    """Per first-touch channel, plus 'all' (the sum over channels: the marts have no 'all' row)."""
    got = con.execute(
        """
        select coalesce(channel, 'all'), sum(customers_entered), sum(customers_converted),
               sum(customers_entered_inferred), sum(customers_entered_observed),
               sum(customers_converted_observed)
        from marts.stage_conversion_first_touch
        where from_stage = ?
        group by rollup (channel)
        """,
        [from_stage],
    ).fetchall()
    return {row[0]: tuple(int(v) for v in row[1:]) for row in got}


def test_funnel_counts_are_exact(con, journeys):
    truth = expected_funnel(journeys.customers)
    visits = _funnel(con, "awareness")
    leads = _funnel(con, "consideration")
    for channel, row in truth.iterrows():
        assert visits[channel][:2] == (row.visits, row.visit_to_lead), channel
        assert leads[channel][:3] == (row.leads, row.lead_to_order, row.leads_inferred), channel
        assert leads[channel][3:] == (row.observed_leads, row.observed_lead_to_order), channel
    assert visits["all"][0] == N_CUSTOMERS
    # month cohorts by stage-entry channel add up to the same totals as week cohorts
    monthly = con.execute(
        """
        select sum(customers_entered), sum(customers_converted)
        from marts.stage_conversion_monthly
        where channel_basis = 'stage_entry' and from_stage = 'consideration'
        """
    ).fetchone()
    assert monthly == (int(truth.leads.sum()), int(truth.lead_to_order.sum()))


def test_rates_match_the_design_within_sampling_error(con):
    visits = _funnel(con, "awareness")
    leads = _funnel(con, "consideration")
    for channel, (_, p_lead, p_order) in CHANNELS.items():
        n = visits[channel][3]
        # observed visit → observed lead = designed P(lead)
        observed_leads = leads[channel][3]
        assert abs(observed_leads / n - p_lead) < 4 * math.sqrt(p_lead * (1 - p_lead) / n)
        # observed lead → order within the window = P(order) × (1 - late share)
        p = p_order * (1 - P_LATE_ORDER)
        rate = leads[channel][4] / observed_leads
        assert abs(rate - p) < 4 * math.sqrt(p * (1 - p) / observed_leads), channel


def test_channel_effects_order_the_channels(con):
    rates = {
        channel: converted / entered
        for channel, (entered, converted, *_rest) in _funnel(con, "awareness").items()
        if channel != "all"
    }
    designed = sorted(CHANNELS, key=lambda c: CHANNELS[c][1])
    assert sorted(rates, key=rates.get) == designed


def test_every_attribution_model_sums_to_conversions(con, journeys):
    conversions = int(journeys.customers["bought"].sum())
    totals = con.execute(
        """
        select sum(first_touch), sum(last_touch), sum(linear), sum(time_decay),
               sum(position_based), sum(markov)
        from marts.touchpoints where brand = ?
        """,
        [BRAND],
    ).fetchone()
    assert totals == pytest.approx((conversions,) * 6, abs=1e-3)
    # every event of a customer carries their channel: first touch = acquisition channel
    by_channel = dict(
        con.execute(
            "select channel, sum(first_touch) from marts.touchpoints group by channel"
        ).fetchall()
    )
    truth = journeys.customers[journeys.customers["bought"]].groupby("channel").size()
    for channel, n in truth.items():
        assert by_channel[channel] == pytest.approx(n, abs=1e-3)


def test_markov_credits_follow_the_channel_effects(con):
    credit = dict(
        con.execute(
            """
            select channel,
                   sum(markov) / sum(distinct_customers) filter (where stage = 'awareness')
            from marts.touchpoints group by channel
            """
        ).fetchall()
    )
    assert credit["referral"] > credit["search"] > credit["social"]


def test_incremental_after_full_equals_one_full_build(warehouses):
    full, incremental = warehouses
    a, b = _tables(full), _tables(incremental)
    assert a.keys() == b.keys()
    for table in a:
        assert a[table] == b[table], f"{table} differs after incremental builds"


def test_changed_rules_rebuild_the_journeys(warehouses, tmp_path):
    """A new conversion window changes the rules hash: the next build redoes every customer."""
    full, _ = warehouses
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(full, copy)
    with open_warehouse(copy) as con:
        con.execute("update config.settings set value = '1' where key = 'conversion_window_days'")
    _build(copy)
    con = duckdb.connect(str(copy), read_only=True)
    try:
        windows = con.execute(
            "select distinct conversion_window_days "
            "from intermediate.int_stage_transitions_measured"
        ).fetchall()
        hashes = con.execute(
            "select count(distinct journey_rules_hash) from intermediate.int_customer_stage_entries"
        ).fetchone()
    finally:
        con.close()
    assert windows == [(1,)]
    assert hashes == (1,)
