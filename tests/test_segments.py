"""Segments and the one channel vocabulary on the demo: planted differences recovered.

One refresh of the demo exports (config/cjm.yml: the files in demo/inbox, read as a
user's exports) builds every mart once for the module. The demo generator plants, with
a random stream of its own (cjm/demo/generate.py "segments"):

* customers of segment vip are likelier among those whose lead led to an order, so
  their consideration -> purchase rate is far above mass (truth: summary.json
  segments.funnel_by_segment, the generator's own count of the same step);
* every customer a region, two of them written as a city (Казань, Новосибирск) that
  the marts read as the federal subject;
* listening rows a Регион column in which Республика Татарстан carries a high share of
  the negative mentions (designed 0.40 of negatives vs 0.08 of the rest).

Counts are asserted exactly; rates within the tolerance stated at each assertion. The
channel aliases of the demo config (vk_ads -> vk, telegram_ads -> telegram) make the
communication map's vk and telegram rows carry mentions and customers together, and
marts.channel_coverage names the channels seen on one side only.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest

from cjm.core.config import load_config
from cjm.refresh.pipeline import run_refresh
from cjm.refresh.tasks import one_sided_channels
from tests.pipeline_helpers import ROOT

SUMMARY = json.loads((ROOT / "demo" / "truth" / "summary.json").read_text(encoding="utf-8"))
SEGMENTS = SUMMARY["segments"]
LISTENING = ROOT / "demo" / "inbox" / "mentions_listening.csv"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    mp = pytest.MonkeyPatch()
    mp.setenv("CJM_CUSTOMER_KEY_SECRET", "test-secret")
    wh = tmp_path_factory.mktemp("segments") / "warehouse.duckdb"
    lines: list[str] = []
    report = run_refresh(
        str(ROOT / "config" / "cjm.yml"),
        str(wh),
        on_step=lambda step, text: lines.append(text),
        alert_step=None,
    )
    mp.undo()
    assert report.ok, report.failures
    con = duckdb.connect(str(wh), read_only=True)
    yield con, wh, lines
    con.close()


def test_customers_per_segment_and_region_are_exact(demo):
    con, _, _ = demo
    by_segment = dict(
        con.execute(
            "select customer_segment, sum(customers_entered) from marts.stage_conversion_segments "
            "where from_stage = 'awareness' group by 1"
        ).fetchall()
    )
    assert by_segment == SEGMENTS["customers_by_segment"]
    by_region = dict(
        con.execute(
            "select region, sum(customers_entered) from marts.stage_conversion_segments "
            "where from_stage = 'awareness' group by 1"
        ).fetchall()
    )
    # Казань and Новосибирск as written in the CRM are read as their regions
    assert by_region == SEGMENTS["customers_by_region"]
    assert "Республика Татарстан" in by_region and "Казань" not in by_region


def test_the_planted_segment_converts_at_its_rate(demo):
    con, _, _ = demo
    rates = dict(
        con.execute(
            """select customer_segment,
                      sum(customers_converted) / sum(customers_entered)
               from marts.stage_conversion_segments
               where from_stage = 'consideration' group by 1"""
        ).fetchall()
    )
    truth = SEGMENTS["funnel_by_segment"]
    # The marts also count customers who ordered without a lead as having passed
    # consideration (an inferred entry), the generator counts observed leads only: 0.08.
    for segment in ("vip", "mass"):
        assert rates[segment] == pytest.approx(truth[segment]["lead->order_paid"], abs=0.08)
    assert rates["vip"] - rates["mass"] > 0.3  # the planted gap (0.86 vs 0.41 by design)


def _export_regions() -> dict[str, str]:
    with LISTENING.open(encoding="utf-8", newline="") as f:
        return {r["id"]: r["Регион"] for r in csv.DictReader(f) if r["id"]}


def test_mention_regions_come_from_the_export_before_the_text(demo):
    con, _, _ = demo
    cells = _export_regions()
    rows = con.execute(
        "select native_id, region, region_source from marts.mentions where source = 'listening'"
    ).fetchall()
    assert rows
    tatarstan = {"Казань", "Республика Татарстан"}
    for native_id, region, region_source in rows:
        cell = cells.get(native_id, "")
        if cell:
            expected = "Республика Татарстан" if cell in tatarstan else cell
            assert (region, region_source) == (expected, "metadata"), native_id
        else:
            assert region_source in (None, "text"), native_id
    counted = sum(1 for n, r, _ in rows if r == "Республика Татарстан" and cells.get(n))
    assert counted == sum(1 for n, _, _ in rows if cells.get(n, "") in tatarstan)


def test_the_planted_region_carries_its_negative_share(demo):
    con, _, _ = demo
    shares = dict(
        con.execute(
            """select region, avg((sentiment = 'negative')::int)
               from marts.mentions
               where source = 'listening' and region_source = 'metadata' and is_relevant
               group by 1"""
        ).fetchall()
    )
    truth = SEGMENTS["listening_by_region"]
    # the scorer's sentiment, not the labels: within 0.12 of the designed share
    assert shares["Республика Татарстан"] == pytest.approx(
        truth["Республика Татарстан"]["negative_share"], abs=0.12
    )
    assert shares["Республика Татарстан"] - shares["Москва"] > 0.25


def test_mentions_get_the_product_their_keywords_name(demo):
    con, _, _ = demo
    rows = con.execute(
        "select coalesce(title, '') || ' ' || text, product from marts.mentions "
        "where product is not null limit 200"
    ).fetchall()
    assert len(rows) >= 50
    config = load_config(ROOT / "config" / "cjm.yml")
    products = config.brands[0].products
    for text, product in rows:
        stems = [k.rstrip("*").lower() for k in products[product]]
        assert any(s in text.lower().replace("ё", "е") for s in stems), (product, text)
    text_regions = con.execute(
        "select count(*) from marts.mentions where region_source = 'text'"
    ).fetchone()[0]
    assert text_regions > 0


def test_shared_channels_carry_mentions_and_customers(demo):
    con, _, _ = demo
    both = con.execute(
        """select channel from marts.communication_map
           group by channel having sum(mentions) > 0 and sum(customers) > 0 order by 1"""
    ).fetchall()
    assert [c for (c,) in both] == ["telegram", "vk"]
    rows = con.execute(
        """select segment_by, segment, count(*) from marts.communication_map group by 1, 2"""
    ).fetchall()
    assert [(by, seg) for by, seg, _ in rows] == [("none", "all")]
    raw = dict(
        con.execute(
            "select channel, crm_channels_raw from marts.channel_coverage where coverage = 'both'"
        ).fetchall()
    )
    assert raw == {"telegram": ["telegram_ads"], "vk": ["vk_ads"]}


def test_one_sided_channels_are_named(demo):
    con, wh, lines = demo
    coverage = dict(con.execute("select channel, coverage from marts.channel_coverage").fetchall())
    # the demo's CRM has organic search and referrals, its listening forums and media
    assert coverage["organic"] == "crm_only" and coverage["referral"] == "crm_only"
    assert coverage["forum"] == "mentions_only" and coverage["media"] == "mentions_only"
    sides = one_sided_channels(str(wh))
    assert "Finly: forum" in sides["mentions_only"] and "Finly: organic" in sides["crm_only"]
    printed = [t for t in lines if t.startswith("seen on one side only")]
    assert printed and "Finly: forum" in printed[0] and "Finly: organic" in printed[0]


def test_touchpoints_name_the_site_as_the_map_does(demo):
    con, _, _ = demo
    sources = {s for (s,) in con.execute("select distinct source from marts.mentions").fetchall()}
    mention_touchpoints = {
        t
        for (t,) in con.execute(
            "select distinct touchpoint from marts.touchpoints where mentions > 0"
        ).fetchall()
    }
    assert not mention_touchpoints & sources
    assert "t.me" in mention_touchpoints


def test_the_map_splits_by_a_configured_segment(demo, tmp_path: Path):
    """journey_map.segment_by: region gives one map per region (dbt on the same data)."""
    from cjm.core.warehouse import open_warehouse
    from cjm.loader import sync_config
    from cjm.refresh.dbt import dbt_build

    _, wh, _ = demo
    copy = tmp_path / "warehouse.duckdb"
    copy.write_bytes(wh.read_bytes())
    config = load_config(ROOT / "config" / "cjm.yml")
    config = config.model_copy(
        update={"journey_map": config.journey_map.model_copy(update={"segment_by": "region"})}
    )
    with open_warehouse(copy) as con:
        sync_config(con, config)
    dbt_build(
        copy,
        select=["int_segment_settings", "communication_map"],
        target_path=tmp_path / "target",
        quiet=True,
    )
    con = duckdb.connect(str(copy), read_only=True)
    try:
        per_region = dict(
            con.execute(
                "select segment, sum(mentions) from marts.communication_map group by 1"
            ).fetchall()
        )
        total = con.execute(
            "select count(*) from marts.mentions where not is_repost and is_relevant is not false"
        ).fetchone()[0]
        by = {
            b for (b,) in con.execute("select segment_by from marts.communication_map").fetchall()
        }
    finally:
        con.close()
    assert by == {"region"}
    assert "Республика Татарстан" in per_region and "all" not in per_region
    assert sum(per_region.values()) == total  # each mention in one segment's map


SEEDS = ROOT / "dbt_project" / "seeds"


def test_every_default_channel_has_a_label():
    with (SEEDS / "channel_aliases.csv").open(encoding="utf-8", newline="") as f:
        channels = {r["channel"] for r in csv.DictReader(f)}
    with (SEEDS / "display_labels.csv").open(encoding="utf-8", newline="") as f:
        labelled = {r["code"] for r in csv.DictReader(f) if r["kind"] == "channel"}
    assert channels - labelled == set()


def test_segment_config_is_checked_and_its_crm_fields_are_kept(tmp_path: Path):
    from cjm.core.config import ConfigError
    from cjm.core.pii import PiiPolicy

    base = (ROOT / "config" / "cjm.yml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yml"
    bad.write_text(base.replace("segment_by: none", "segment_by: city"), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    assert "journey_map.segment_by" in str(err.value)
    config = load_config(ROOT / "config" / "cjm.yml")
    assert config.segments.crm_attributes == ["segment", "region", "product"]
    # what finish_crm_events keeps: the segments' fields, not the other unmapped ones
    policy = PiiPolicy(keep=[*config.pii.keep, *config.segments.crm_attributes])
    kept = policy.crm_attributes({"segment": "vip", "region": "Казань", "phone_note": "x"})
    assert kept == {"segment": "vip", "region": "Казань"}


def test_the_planted_segment_is_a_significant_conversion_driver(demo):
    """marts.conversion_drivers tests the customer's segment like any other property:
    the planted vip segment separates converters at consideration -> purchase, with the
    counts of marts.stage_conversion_segments, and survives the FDR correction."""
    con, _, _ = demo
    row = con.execute(
        """select customers_with, converted_with, customers_without, converted_without,
                  odds_ratio, odds_ratio_low, q_value, is_significant, property_label
           from marts.conversion_drivers
           where brand = 'Finly' and from_stage = 'consideration'
             and property = 'customer_segment' and property_value = 'vip'"""
    ).fetchone()
    assert row is not None
    with_n, with_conv, without_n, without_conv, odds, low, q, significant, label = row
    entered = dict(
        con.execute(
            """select customer_segment, sum(customers_entered)
               from marts.stage_conversion_segments
               where brand = 'Finly' and from_stage = 'consideration' group by 1"""
        ).fetchall()
    )
    assert with_n == entered["vip"]
    assert without_n == sum(entered.values()) - entered["vip"]
    # planted: 0.86 vs 0.41 (odds ratio about 9); the marts' inferred entries dilute it
    assert odds == pytest.approx(
        (with_conv * (without_n - without_conv)) / ((with_n - with_conv) * without_conv)
    )
    assert low > 3 and significant and q < 1e-6
    assert label == "Сегмент клиента"
