"""`dbt build` on a small hand-made warehouse whose answers are known.

The dataset is tiny on purpose: every number asserted below can be checked by hand
from the rows in `_load_dataset`. The build runs twice to prove the marts are
byte-identical for the same raw data.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from cjm.core.warehouse import open_warehouse
from cjm.refresh.marts import MART_TABLES

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
MARTS = MART_TABLES
STAGES = ("awareness", "consideration", "purchase", "usage", "loyalty")
# config `warehouse.memory_limit` as the load step writes it (not the default: it must be
# this row, not DuckDB's or the config's default, that the build applies)
MEMORY_LIMIT = "700MB"


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _load_dataset(path: Path) -> None:
    with open_warehouse(path) as con:
        con.execute(
            "insert into config.brands values "
            "('Acme Bank', ['acme', 'акме', '@acmebank'], ['acme corporation'], ['ru', 'en'])"
        )
        labels = {
            "awareness": "Осведомлённость",
            "consideration": "Рассмотрение",
            "purchase": "Покупка",
            "usage": "Использование",
            "loyalty": "Лояльность",
        }
        con.executemany(
            "insert into config.stages values (?, ?, ?)",
            [(stage, i + 1, labels[stage]) for i, stage in enumerate(STAGES)],
        )
        con.executemany(
            "insert into config.event_stages values (?, ?)",
            [
                ("site_visit", "awareness"),
                ("lead", "consideration"),
                ("order_paid", "purchase"),
                ("support_ticket", "usage"),
                ("renewal", "loyalty"),
            ],
        )
        con.executemany(
            "insert into config.settings values (?, ?)",
            [
                ("conversion_window_days", "90"),
                ("conversion_stage", "purchase"),
                ("spike_window_days", "28"),
                ("spike_min_count", "5"),
                ("spike_z", "4.0"),
                ("attribution_half_life_days", "7"),
                ("warehouse.memory_limit", MEMORY_LIMIT),
            ],
        )

        # customer, event_type, channel, occurred_at; brand left null on purpose:
        # with a single configured brand the events belong to it.
        events = [
            ("c1", "site_visit", "web", "2024-01-01 10:00:00"),
            ("c1", "lead", "email", "2024-01-02 10:00:00"),
            ("c1", "order_paid", "web", "2024-01-05 10:00:00"),
            ("c2", "site_visit", "web", "2024-01-01 12:00:00"),
            ("c2", "lead", "web", "2024-01-03 12:00:00"),
            # 119 days after the lead: outside the 90-day window
            ("c2", "order_paid", "web", "2024-05-01 12:00:00"),
            ("c3", "site_visit", "search", "2024-01-02 09:00:00"),
            ("c4", "lead", "email", "2024-01-04 09:00:00"),
            # not mapped to a stage: takes the customer's current stage
            ("c4", "email_open", "email", "2024-01-04 11:00:00"),
        ]
        con.executemany(
            "insert into raw.crm_events (event_id, source, native_id, customer_key, brand, "
            "event_type, channel, occurred_at, loaded_at, updated_at) "
            "values (?, 'crm', ?, ?, null, ?, ?, ?, ?, ?)",
            [
                (f"e{i}", f"n{i}", customer, event_type, channel, ts(at), ts(at), ts(at))
                for i, (customer, event_type, channel, at) in enumerate(events)
            ],
        )

        # mention_id, source_type, author, text, published_at
        mentions = [
            (
                "m_not_bad",
                "telegram",
                "ivan",
                "Not bad at all, Acme delivery was on time",
                "2024-01-10 08:15:00",
            ),
            (
                "m_refund",
                "telegram",
                "maria",
                "Акме не отвечают третий день, верните деньги!",
                "2024-01-11 09:00:00",
            ),
            ("m_news", "rss", "РБК", "Акме запустил новый кешбэк", "2024-01-12 10:00:00"),
            (
                "m_brand",
                "telegram",
                "@acmebank",
                "Спасибо, что выбираете Акме!",
                "2024-01-12 11:00:00",
            ),
            ("m_quiet", "telegram", "petr", "прочитал новости", "2024-01-13 12:00:00"),
        ]
        # the planted spike: six angry mentions within one hour
        spike_start = ts("2024-01-14 15:00:00")
        mentions += [
            (
                f"m_spike{i}",
                "telegram",
                f"user{i}",
                "Приложение Акме не работает, ужас",
                (spike_start + timedelta(minutes=5 * i)).strftime("%Y-%m-%d %H:%M:%S"),
            )
            for i in range(6)
        ]
        con.executemany(
            "insert into raw.mentions (mention_id, source, source_type, channel, native_id, "
            "author, text, published_at, language, brand, matched_keywords, loaded_at, "
            "updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, null, 'Acme Bank', ['acme'], ?, ?)",
            [
                (
                    mention_id,
                    f"{source_type}_src",
                    source_type,
                    "media" if source_type == "rss" else "telegram",
                    mention_id,
                    author,
                    text,
                    ts(at),
                    ts(at),
                    ts(at),
                )
                for mention_id, source_type, author, text, at in mentions
            ],
        )


def _run_dbt_build(warehouse: Path, work_dir: Path) -> None:
    # A subprocess, as the pipeline runs it: dbt-duckdb keeps its database open for
    # the life of the process, which would block reading the marts afterwards.
    command = [
        sys.executable,
        "-c",
        "from dbt.cli.main import cli; cli()",
        "build",
        "--project-dir",
        str(DBT_DIR),
        "--profiles-dir",
        str(DBT_DIR),
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
    ]
    env = {**os.environ, "CJM_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    result = subprocess.run(
        command, env=env, cwd=work_dir, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"dbt build failed:\n{result.stdout[-5000:]}\n{result.stderr}"
    # the project's unit tests run here (a refresh leaves them out: cjm/refresh/dbt.py)
    results = json.loads((work_dir / "target" / "run_results.json").read_text())["results"]
    unit = [r for r in results if r["unique_id"].startswith("unit_test.")]
    assert len(unit) >= 10 and all(r["status"] == "pass" for r in unit), unit


def _marts_digest(path: Path) -> dict[str, str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            table: hashlib.sha256(
                repr(con.execute(f"select * from marts.{table}").fetchall()).encode()
            ).hexdigest()
            for table in MARTS
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("dbt")
    path = tmp / "warehouse.duckdb"
    _load_dataset(path)
    _run_dbt_build(path, tmp)
    first = _marts_digest(path)
    _run_dbt_build(path, tmp)
    second = _marts_digest(path)
    assert first == second, "the same raw data gave different marts"
    return path


@pytest.fixture
def con(warehouse: Path):
    connection = duckdb.connect(str(warehouse), read_only=True)
    connection.execute("set TimeZone = 'UTC'")
    yield connection
    connection.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_the_build_applies_the_configured_memory_limit(warehouse: Path) -> None:
    """The on-run-start hook (macros/warehouse.sql) sets DuckDB's limit from
    config.settings before any model runs; dbt's log file keeps the statements it ran."""
    log = (warehouse.parent / "logs" / "dbt.log").read_text(encoding="utf-8")
    applied = log.index(f"set memory_limit = '{MEMORY_LIMIT}'")
    first_model = log.index("Began running node model.cjm.stg_raw__mentions")
    assert applied < first_model


def test_every_mart_exists_in_schema_marts(con):
    tables = {
        name
        for (name,) in rows(
            con, "select table_name from information_schema.tables where table_schema = 'marts'"
        )
    }
    assert set(MARTS) <= tables


def test_stage_conversion_applies_the_window(con):
    # marts.stage_conversion: the default grain (week) and channel basis (stage_entry)
    got = rows(
        con,
        """
        select period_grain, channel_basis, from_stage, to_stage, channel, customers_entered,
               customers_converted, conversion_rate, median_hours_to_convert
        from marts.stage_conversion
        where period_start = date '2024-01-01'
        order by from_stage_order, channel
    """,
    )
    assert {row[:2] for row in got} == {("week", "stage_entry")}
    assert [row[2:] for row in got] == [
        # c4 has a lead without a visit: awareness is inferred (at the lead, by email)
        # and converts; inferred entries have no measured time (c1 24 h, c2 48 h)
        ("awareness", "consideration", "email", 1, 1, 1.0, None),
        ("awareness", "consideration", "search", 1, 0, 0.0, None),
        ("awareness", "consideration", "web", 2, 2, 1.0, 36.0),
        # c2 bought 119 days after the lead: entered but not converted
        ("consideration", "purchase", "email", 2, 1, 0.5, 72.0),
        ("consideration", "purchase", "web", 1, 0, 0.0, None),
        ("purchase", "usage", "web", 1, 0, 0.0, None),
    ]
    # no 'all' rows: the overall funnel of the week is the sum over channels
    assert rows(
        con,
        """
        select from_stage, sum(customers_entered), sum(customers_converted)
        from marts.stage_conversion where period_start = date '2024-01-01'
        group by from_stage, from_stage_order order by from_stage_order
    """,
    ) == [("awareness", 4, 3), ("consideration", 3, 1), ("purchase", 1, 0)]
    # c2's purchase falls in the week of Monday 2024-04-29
    assert rows(
        con,
        """
        select sum(customers_entered) from marts.stage_conversion
        where period_start = date '2024-04-29'
    """,
    ) == [(1,)]
    # by first touch c4's awareness counts under its first event's channel, email
    assert rows(
        con,
        """
        select channel, sum(customers_entered), sum(customers_entered_inferred)
        from marts.stage_conversion_first_touch
        where from_stage = 'awareness' group by channel order by channel
    """,
    ) == [("email", 1, 1), ("search", 1, 0), ("web", 2, 0)]
    # each grain's mart counts every entry once: the same totals by day, week, month
    for mart in ("daily", "weekly", "monthly"):
        assert rows(
            con,
            f"""
            select distinct period_grain, sum(customers_entered) over ()
            from marts.stage_conversion_{mart} where from_stage = 'awareness'
        """,
        ) == [({"daily": "day", "weekly": "week", "monthly": "month"}[mart], 4)], mart


def test_attribution_credits(con):
    got = {
        (stage, channel, touchpoint): (first, last, linear, decay, position)
        for stage, channel, touchpoint, first, last, linear, decay, position in rows(
            con,
            """
            select stage, channel, touchpoint, first_touch, last_touch, linear, time_decay,
                   position_based
            from marts.touchpoints
            where touches > 0
        """,
        )
    }
    # c1's path is the touches before its order: visit (96 h before), lead (72 h);
    # c2 has no touch within 90 days before its order: a one-touch path, the order.
    weights = [0.5 ** (96 / 168), 0.5 ** (72 / 168)]
    decay = [w / sum(weights) for w in weights]
    assert got[("awareness", "web", "site_visit")] == pytest.approx(
        (1.0, 0.0, 0.5, decay[0], 0.5), abs=1e-6
    )
    assert got[("consideration", "email", "lead")] == pytest.approx(
        (0.0, 1.0, 0.5, decay[1], 0.5), abs=1e-6
    )
    assert got[("purchase", "web", "order_paid")] == pytest.approx(
        (1.0, 1.0, 1.0, 1.0, 1.0), abs=1e-6
    )
    totals = rows(
        con,
        """
        select sum(first_touch), sum(last_touch), sum(linear), sum(time_decay),
               sum(position_based), sum(markov)
        from marts.touchpoints
    """,
    )[0]
    assert totals == pytest.approx((2.0, 2.0, 2.0, 2.0, 2.0, 2.0), abs=1e-5)


def test_touchpoint_conversions_and_unmapped_events(con):
    got = {
        (stage, channel, touchpoint): (customers, converted)
        for stage, channel, touchpoint, customers, converted in rows(
            con,
            """
            select stage, channel, touchpoint, distinct_customers, distinct_customers_converted
            from marts.touchpoints where touches > 0
        """,
        )
    }
    assert got[("awareness", "web", "site_visit")] == (2, 2)
    assert got[("awareness", "search", "site_visit")] == (1, 0)
    # the unmapped email_open inherits c4's current stage (consideration)
    assert got[("consideration", "email", "email_open")] == (1, 0)
    assert got[("consideration", "email", "lead")] == (2, 1)


def test_cjm_has_a_row_per_stage_in_order(con):
    got = rows(
        con,
        """
        select stage, stage_order, stage_label, customers, mentions, conversion_to_next
        from marts.cjm where brand = 'Acme Bank' order by stage_order
    """,
    )
    assert [row[0] for row in got] == list(STAGES)
    assert got[0][1:4] == (1, "Осведомлённость", 4)  # c4's awareness is inferred
    assert got[0][5] == pytest.approx(3 / 4, abs=1e-6)
    loyalty = got[-1]
    assert loyalty[3:] == (0, 0, None)  # no data yet, still a row
    usage = rows(
        con, "select barriers, barrier_codes, opportunities from marts.cjm where stage = 'usage'"
    )
    # a warehouse without a display language (loaded by an older release) reads English
    assert usage == [
        (
            "App reliability (6), Response time (1)",
            ["app_stability", "response_speed"],
            "Keep the app working; Answer faster",
        )
    ]


def test_mentions_are_scored(con):
    got = {
        mention_id: (sentiment, stage, topics, author_role, nps)
        for mention_id, sentiment, stage, topics, author_role, nps in rows(
            con,
            """
            select mention_id, sentiment, stage, topics, author_role, nps_signal
            from marts.mentions
        """,
        )
    }
    assert got["m_not_bad"] == ("positive", "usage", ["delivery"], "client", "passive")
    assert got["m_refund"] == ("negative", "usage", ["response_speed"], "client", None)
    assert got["m_news"][3] == "media"
    assert got["m_brand"][3] == "brand"
    assert got["m_quiet"] == ("neutral", "awareness", [], "client", None)
    assert len(got) == 11


def test_sentiment_counts_by_day_and_topic(con):
    got = rows(
        con,
        """
        select topic, mentions, negative, net_sentiment from marts.sentiment
        where day = date '2024-01-14'
    """,
    )
    assert got == [("app_stability", 6, 6, -1.0)]


def test_planted_spike_is_detected(con):
    spikes = rows(
        con,
        """
        select bucket_start, negative_mentions, threshold
        from marts.negative_spikes where is_spike
    """,
    )
    assert spikes == [(ts("2024-01-14 15:00:00"), 6, 5.0)]
    # one row per hour from the first to the last mention, gaps filled with zeros
    n_hours, n_zero = rows(
        con,
        """
        select count(*), count(*) filter (where mentions = 0) from marts.negative_spikes
    """,
    )[0]
    first, last = ts("2024-01-10 08:00:00"), ts("2024-01-14 15:00:00")
    assert n_hours == math.floor((last - first).total_seconds() / 3600) + 1
    assert n_zero == n_hours - 6  # six hours hold mentions


def test_communication_map_covers_channels(con):
    got = rows(
        con,
        """
        select stage, channel, touchpoint, goal is not null, recommendation is not null
        from marts.communication_map
        where stage = 'awareness' and channel = 'web'
    """,
    )
    assert got == [("awareness", "web", "site_visit", True, True)]


JOURNEY_MODELS = (
    "int_crm_events_mapped",
    "int_customer_stage_entries",
    "int_customer_touches",
    "int_stage_transitions_measured",
    "int_conversion_paths",
    "int_markov_transitions_counted",
    "int_touch_credits_markov",
    "stage_conversion",
    "stage_conversion_first_touch",
    "stage_conversion_monthly",
    "touchpoints",
    "sentiment",
    "keyword_map",
    "cjm",
    "communication_map",
)


def test_docs_generate_renders_lineage_with_every_column_described(warehouse, tmp_path):
    target = tmp_path / "target"
    command = [
        sys.executable,
        "-c",
        "from dbt.cli.main import cli; cli()",
        "docs",
        "generate",
        "--project-dir",
        str(DBT_DIR),
        "--profiles-dir",
        str(DBT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(tmp_path / "logs"),
    ]
    env = {**os.environ, "CJM_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    result = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert (target / "index.html").exists()
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert (
        "model.cjm.stage_conversion" in exposures["journey_funnel_dashboard"]["depends_on"]["nodes"]
    )
    models = {
        node["name"]: (uid, node)
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
    }
    for name in JOURNEY_MODELS:
        uid, node = models[name]
        assert node["description"].strip(), f"{name} has no description"
        documented = {c for c, col in node["columns"].items() if col["description"].strip()}
        built = {c.lower() for c in catalog["nodes"][uid]["columns"]}
        assert built <= documented, f"{name}: undocumented columns {sorted(built - documented)}"
