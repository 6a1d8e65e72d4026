"""Sum-safe marts: summing an additive column over a whole mart counts nothing twice.

Two real datasets: the fixture config's files through the whole refresh (files →
GX → DuckDB → dbt), and generated journeys (cjm.bench.journey_data) built by dbt,
which close conversion windows and skip stages. The marts'
.yml marks every numeric column `meta: {additive: true, sums_to: UNIT}` or
`meta: {additive: false}`; this test iterates over those marks, not over a list of
its own. Each UNIT's total is recomputed here from the staging tables (CRM events,
config) or from marts.mentions, one row per loaded mention: the funnel counts by
re-deriving every customer's stage entries and conversions from their raw events,
not by reading the journey models the marts are built from.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from cjm.bench.journey_data import generate, insert_events, journey_config
from cjm.core.warehouse import open_warehouse
from cjm.loader import sync_config
from cjm.refresh.dbt import dbt_build
from cjm.refresh.marts import MART_TABLES
from cjm.refresh.pipeline import run_refresh
from tests.pipeline_helpers import FIXTURES, ROOT

MARTS_YML = ROOT / "dbt_project" / "models" / "marts" / "_marts__models.yml"
NUMERIC_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
)

# Every CRM event with its brand (a brandless one belongs to the only configured
# brand), its mapped stage's position (null: unmapped) and the stage count.
EVENTS = """
with
brands as (select * from staging.stg_config__brands),
default_brand as (
    select case when count(*) = 1 then min(brand) else 'unknown' end as brand from brands
),
stages as (select * from staging.stg_config__stages),
events as (
    select
        coalesce(e.brand, (select brand from default_brand)) as brand,
        e.customer_key,
        e.occurred_at,
        s.stage,
        s.stage_order
    from staging.stg_raw__crm_events as e
    left join staging.stg_config__event_stages as m on e.event_type = m.event_type
    left join stages as s on m.stage = s.stage
)
"""

# One row per customer × stage reached (observed or, for a skipped stage, inferred):
# entered at the stage's first event, else at the first event of any later stage.
ENTRIES = (
    EVENTS
    + """,
reach as (
    select brand, customer_key, max(stage_order) as furthest
    from events where stage_order is not null group by all
),
entries as (
    select
        reach.brand,
        reach.customer_key,
        stages.stage,
        stages.stage_order,
        stages.stage_order = (select max(stage_order) from stages) as is_last,
        min(events.occurred_at) filter (where events.stage_order = stages.stage_order)
            is null as is_inferred,
        coalesce(
            min(events.occurred_at) filter (where events.stage_order = stages.stage_order),
            min(events.occurred_at) filter (where events.stage_order > stages.stage_order)
        ) as entered_at
    from reach
    inner join stages on stages.stage_order <= reach.furthest
    inner join events
        on events.brand = reach.brand and events.customer_key = reach.customer_key
    group by all
)
"""
)

# One row per entry into a stage that has a next stage: converted when the next
# stage was entered at or after it and within the step's window; dropped once the
# window closed by the brand's newest CRM event, else in progress.
STEPS = (
    ENTRIES
    + """,
settings as (select * from staging.stg_config__settings),
cutoffs as (select brand, max(occurred_at) as cutoff from events group by brand),
windows as (
    select
        stages.stage,
        cast(coalesce(own.setting_value, overall.setting_value) as double) * 86400
            as window_seconds
    from stages
    left join settings as own on own.setting_key = 'conversion_window_days.' || stages.stage
    left join settings as overall on overall.setting_key = 'conversion_window_days'
),
steps as (
    select
        f.*,
        t.is_inferred as to_inferred,
        windows.window_seconds,
        coalesce(
            t.entered_at >= f.entered_at
            and epoch(t.entered_at) - epoch(f.entered_at) <= window_seconds,
            false
        ) as converted,
        epoch(f.entered_at) + window_seconds <= epoch(cutoffs.cutoff) as window_closed
    from entries as f
    inner join cutoffs on f.brand = cutoffs.brand
    inner join windows on f.stage = windows.stage
    left join entries as t
        on f.brand = t.brand and f.customer_key = t.customer_key
        and t.stage_order = f.stage_order + 1
    where not f.is_last
)
"""
)

CONFIGURED = "brand in (select brand from staging.stg_config__brands)"
STORIES = "not is_repost and is_relevant is not false"

KEY_MEDIA = """
with m as (
    select *, regexp_extract(lower(url), '://([^/:?#]+)', 1) as host from marts.mentions
    where is_relevant is not false and not is_brand_account
),
carried as (
    select k.weight from m join config.key_media as k
    on list_contains(k.sources, m.source)
    or list_contains(list_transform(k.outlets, o -> lower(o)), lower(trim(m.author)))
    or len(list_filter(k.domains, d -> m.host = d or ends_with(m.host, '.' || d))) > 0
)
"""

# What each `sums_to` unit counts, as a total over the whole warehouse.
UNITS: dict[str, str] = {
    "step_entries": STEPS + "select count(*) from steps",
    "step_entries_inferred": STEPS + "select count(*) from steps where is_inferred",
    "step_entries_observed": STEPS + "select count(*) from steps where not is_inferred",
    "step_conversions": STEPS + "select count(*) from steps where converted",
    "step_conversions_inferred": STEPS
    + "select count(*) from steps where converted and to_inferred",
    "step_conversions_observed": STEPS
    + "select count(*) from steps where converted and not is_inferred and not to_inferred",
    "step_drop_offs": STEPS + "select count(*) from steps where not converted and window_closed",
    "step_in_progress": STEPS
    + "select count(*) from steps where not converted and not window_closed",
    "stage_entries": ENTRIES + f"select count(*) from entries where {CONFIGURED}",
    "stage_entries_inferred": ENTRIES
    + f"select count(*) from entries where is_inferred and {CONFIGURED}",
    "conversions": ENTRIES
    + """select count(*) from entries
         where stage = (select setting_value from staging.stg_config__settings
                        where setting_key = 'conversion_stage')""",
    "journeys": ENTRIES
    + f"select count(*) from (select distinct brand, customer_key from entries where {CONFIGURED})",
    "crm_events": "select count(*) from staging.stg_raw__crm_events",
    "relevant_stories": f"select count(*) from marts.mentions where {STORIES}",
    "crm_events_and_stories": f"""select (select count(*) from staging.stg_raw__crm_events)
        + (select count(*) from marts.mentions where {STORIES})""",
    "customer_voice_stories": f"""select count(*) from marts.mentions
        where {STORIES} and author_role != 'brand' and {CONFIGURED}""",
    "customer_voice_nps_stories": f"""select count(*) from marts.mentions
        where {STORIES} and author_role != 'brand' and nps_signal is not null and {CONFIGURED}""",
    "relevant_mentions": "select count(*) from marts.mentions where is_relevant is not false",
    "relevant_negative_mentions": """select count(*) from marts.mentions
        where is_relevant is not false and sentiment = 'negative'""",
    "reposts": "select count(*) from marts.mentions where is_repost",
    "market_voice_stories": f"""select count(*) from marts.mentions
        where {STORIES} and not is_brand_account""",
    "market_voice_positive_stories": f"""select count(*) from marts.mentions
        where {STORIES} and not is_brand_account and sentiment = 'positive'""",
    "market_voice_negative_stories": f"""select count(*) from marts.mentions
        where {STORIES} and not is_brand_account and sentiment = 'negative'""",
    "market_voice_reach": f"""select coalesce(sum(reach), 0) from marts.mentions
        where {STORIES} and not is_brand_account""",
    "market_voice_engagement": f"""select coalesce(sum(engagement), 0) from marts.mentions
        where {STORIES} and not is_brand_account""",
    "customer_voice_reach": f"""select coalesce(sum(reach), 0) from marts.mentions
        where {STORIES} and author_role != 'brand' and {CONFIGURED}""",
    "customer_voice_engagement": f"""select coalesce(sum(engagement), 0) from marts.mentions
        where {STORIES} and author_role != 'brand' and {CONFIGURED}""",
    "relevant_stories_reach": f"""select coalesce(sum(reach), 0) from marts.mentions
        where {STORIES}""",
    "relevant_stories_engagement": f"""select coalesce(sum(engagement), 0) from marts.mentions
        where {STORIES}""",
    "reach": "select coalesce(sum(reach), 0) from marts.mentions",
    "engagement": "select coalesce(sum(engagement), 0) from marts.mentions",
    "customer_mentions": f"""select count(*) from marts.mentions
        where {STORIES} and not is_brand_account and author_role != 'media'""",
    # customer mentions with a later brand-account mention whose reply_to is their URL
    # or their id at the same source
    "answered_mentions": f"""select count(*) from marts.mentions as c
        where {STORIES} and not is_brand_account and author_role != 'media' and exists (
            select 1 from marts.mentions as r
            where r.is_brand_account and r.brand = c.brand and r.published_at >= c.published_at
              and (regexp_replace(rtrim(lower(r.reply_to), '/'), '^https?://(www\\.)?', '')
                     = regexp_replace(rtrim(lower(c.url), '/'), '^https?://(www\\.)?', '')
                   or (r.source = c.source and r.reply_to = c.native_id)))""",
    "unanswered_mentions": f"""select count(*) from marts.mentions as c
        where {STORIES} and not is_brand_account and author_role != 'media' and not exists (
            select 1 from marts.mentions as r
            where r.is_brand_account and r.brand = c.brand and r.published_at >= c.published_at
              and (regexp_replace(rtrim(lower(r.reply_to), '/'), '^https?://(www\\.)?', '')
                     = regexp_replace(rtrim(lower(c.url), '/'), '^https?://(www\\.)?', '')
                   or (r.source = c.source and r.reply_to = c.native_id)))""",
    # relevant, non-brand mentions times the key media each belongs to (by source,
    # outlet, or a host equal to or under a configured domain), read from config.*
    "key_media_citations": KEY_MEDIA + "select count(*) from carried",
    "key_media_citation_index": KEY_MEDIA + "select coalesce(sum(weight), 0) from carried",
}


def _fixture_files(path: Path) -> None:
    """The fixture config's files through the whole refresh (extract, GX, load, dbt)."""
    report = run_refresh(str(FIXTURES / "config.yml"), str(path))
    assert report.ok, report.failures


def _planted_journeys(path: Path) -> None:
    """Generated journeys over 90 days (drop-offs, skipped stages, late orders), every grain."""
    config = journey_config()
    config = config.model_copy(
        update={
            "stages": config.stages.model_copy(update={"period_grains": ["day", "week", "month"]})
        }
    )
    with open_warehouse(path) as con:
        sync_config(con, config)
        insert_events(con, generate(600).events, datetime(2026, 4, 15, tzinfo=UTC))
    dbt_build(path, select=JOURNEY_SELECT, target_path=path.parent / "target", quiet=True)


DATASETS = {"fixture files": _fixture_files, "planted journeys": _planted_journeys}
# The journey marts and what they read (no alert models: the planted set has no mentions).
JOURNEY_SELECT = ["+int_conversion_cohorts_counted+", "+touchpoints", "+cjm", "+communication_map"]


@pytest.fixture(scope="module", params=list(DATASETS))
def warehouse(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    mp = pytest.MonkeyPatch()
    mp.setenv("CJM_CUSTOMER_KEY_SECRET", "test-secret")
    wh = tmp_path_factory.mktemp("sumsafe") / "warehouse.duckdb"
    DATASETS[request.param](wh)
    mp.undo()
    con = duckdb.connect(str(wh), read_only=True)
    yield con, request.param
    con.close()


def _built_marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    built = {
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    }
    return [mart for mart in MART_TABLES if mart in built]


@pytest.fixture(scope="module")
def docs() -> dict[str, dict]:
    models = yaml.safe_load(MARTS_YML.read_text(encoding="utf-8"))["models"]
    return {m["name"]: m for m in models}


def _numeric_columns(con: duckdb.DuckDBPyConnection, mart: str) -> list[str]:
    return [
        name
        for name, data_type in con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name = ? order by ordinal_position",
            [mart],
        ).fetchall()
        if data_type.split("(")[0] in NUMERIC_TYPES
    ]


def _additivity(docs: dict[str, dict], mart: str) -> dict[str, dict]:
    return {c["name"]: c.get("meta") or {} for c in docs[mart].get("columns", [])}


def test_every_mart_states_its_grain_and_marks_every_numeric_column(warehouse, docs):
    con, dataset = warehouse
    built = _built_marts(con)
    if dataset == "fixture files":
        assert built == list(MART_TABLES)
    problems = []
    for mart in built:
        if mart not in docs:
            problems.append(f"{mart}: not documented in {MARTS_YML.name}")
            continue
        if "one row per" not in " ".join(docs[mart]["description"].lower().split()):
            problems.append(f"{mart}: description does not state its grain ('one row per …')")
        marks = _additivity(docs, mart)
        numeric = _numeric_columns(con, mart)
        assert numeric, f"marts.{mart} has no numeric column"
        for column in numeric:
            additive = marks.get(column, {}).get("additive")
            if not isinstance(additive, bool):
                problems.append(f"{mart}.{column}: numeric, but no meta additive: true/false")
            elif additive and marks[column].get("sums_to") not in UNITS:
                problems.append(
                    f"{mart}.{column}: additive, sums_to {marks[column].get('sums_to')!r} "
                    f"is not one of {sorted(UNITS)}"
                )
    assert not problems, "\n".join(problems)


def test_summing_an_additive_column_counts_each_unit_once(warehouse, docs):
    con, _ = warehouse
    checked, mismatches = 0, []
    for mart in _built_marts(con):
        for column, meta in _additivity(docs, mart).items():
            if meta.get("additive") is not True:
                continue
            got = con.execute(
                f'select coalesce(sum("{column}"), 0) from marts."{mart}"'
            ).fetchone()[0]
            expected = con.execute(UNITS[meta["sums_to"]]).fetchone()[0]
            checked += 1
            if got != pytest.approx(expected, abs=1e-3):
                mismatches.append(f"sum({mart}.{column}) = {got}, {meta['sums_to']} = {expected}")
    assert not mismatches, "\n".join(mismatches)
    assert checked >= 60, checked  # six stage_conversion marts × 8, touchpoints, cjm, ...


# Units a dataset cannot exercise (a total of 0 would let a sum pass vacuously): the
# two days of fixture files close no 90-day window and carry no repost; the planted
# journeys have no mentions. Every other unit is non-zero in each.
UNEXERCISED = {
    "fixture files": {"step_drop_offs", "reposts"},
    "planted journeys": {
        "relevant_stories",
        "customer_voice_stories",
        "customer_voice_nps_stories",
        "relevant_mentions",
        "relevant_negative_mentions",
        "reposts",
        "market_voice_stories",
        "market_voice_positive_stories",
        "market_voice_negative_stories",
        "market_voice_reach",
        "market_voice_engagement",
        "customer_voice_reach",
        "customer_voice_engagement",
        "relevant_stories_reach",
        "relevant_stories_engagement",
        "reach",
        "engagement",
        "customer_mentions",
        "answered_mentions",
        "unanswered_mentions",
        "key_media_citations",
        "key_media_citation_index",
    },
}


def test_the_dataset_exercises_the_units(warehouse):
    con, dataset = warehouse
    empty = {unit for unit, sql in UNITS.items() if not con.execute(sql).fetchone()[0]}
    assert empty == UNEXERCISED[dataset]


def test_the_long_cohort_table_would_double_count(warehouse):
    """The check can fail: the all-grain, both-basis table counts each entry six times."""
    con, _ = warehouse
    combinations = con.execute(
        "select count(distinct period_grain) * count(distinct channel_basis) "
        "from intermediate.int_conversion_cohorts_counted"
    ).fetchone()[0]
    assert combinations == 6
    long_sum = con.execute(
        "select sum(customers_entered) from intermediate.int_conversion_cohorts_counted"
    ).fetchone()[0]
    step_entries = con.execute(UNITS["step_entries"]).fetchone()[0]
    assert long_sum == 6 * step_entries
    assert (
        con.execute("select sum(customers_entered) from marts.stage_conversion").fetchone()[0]
        == step_entries
    )


def test_stage_conversion_is_one_configured_grain_and_basis(warehouse):
    con, _ = warehouse
    assert con.execute(
        "select distinct period_grain, channel_basis from marts.stage_conversion"
    ).fetchall() == [("week", "stage_entry")]
    for mart, grain, basis in (
        ("stage_conversion_daily", "day", "stage_entry"),
        ("stage_conversion_weekly", "week", "stage_entry"),
        ("stage_conversion_monthly", "month", "stage_entry"),
        ("stage_conversion_first_touch", "week", "first_touch"),
        ("stage_conversion_stage_entry", "week", "stage_entry"),
    ):
        assert con.execute(
            f"select distinct period_grain, channel_basis from marts.{mart}"
        ).fetchall() == [(grain, basis)], mart


def test_mention_units_read_one_row_per_staged_mention(warehouse):
    con, _ = warehouse
    staged = con.execute("select count(*) from staging.stg_raw__mentions").fetchone()[0]
    joined = con.execute(
        "select count(*) from staging.stg_raw__mentions join marts.mentions using (mention_id)"
    ).fetchone()[0]
    assert staged == joined == con.execute("select count(*) from marts.mentions").fetchone()[0]
