"""Labels people read, in their language and time zone: two real refreshes of the
fixture (a Russian brand reporting in Moscow time, the same brand in English and
UTC), the dbt descriptions as warehouse COMMENTs, and alert texts that agree with
their numbers."""

from __future__ import annotations

import csv
import re
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from cjm.alerts.incidents import Incident
from cjm.alerts.messages import render
from cjm.core.config import ConfigError, SnscrapeSource, load_config, parse_config
from cjm.core.labels import LABELS_SEED, Labels, count_of
from cjm.core.paths import seeds_dir
from cjm.core.sources import source_types
from cjm.enrichment.sentiment_model import LABELS as SENTIMENTS
from cjm.refresh.pipeline import run_refresh
from tests.pipeline_helpers import FIXTURES, ROOT, rows

# 01:30 in Moscow on 8 September is 22:30 UTC on 7 September.
LATE_MENTION = (
    "fx-late,"
    '"Финли опять списали комиссию, поддержка молчит, ужасно",'
    "08.09.2026 01:30,Ночной клиент,vk,https://vk.com/wall-1_999,,,\n"  # no views, likes, reply
)
CJM_TEXT = (
    "customer_actions",
    "crm_actions",
    "mention_topics",
    "emotions",
    "touchpoints",
    "barriers",
)
MAP_TEXT = ("stage_label", "channel_label", "goal", "recommendation")
# a code as the marts store it: lower-case words joined by underscores
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
CYRILLIC = re.compile(r"[А-Яа-яЁё]")


def _refresh(tmp: Path, language: str, timezone: str | None) -> Path:
    """The fixture with one late-evening mention added, refreshed for one brand language."""
    data = tmp / "fixture"
    shutil.copytree(FIXTURES, data, ignore=shutil.ignore_patterns("bad", "http", "telegram"))
    with (data / "mentions.csv").open("a", encoding="utf-8") as fh:
        fh.write(LATE_MENTION)
    config = yaml.safe_load((data / "config.yml").read_text(encoding="utf-8"))
    config["brands"][0]["language"] = language
    if language == "en":
        config["stages"].pop("labels")  # the seed's English stage names, not the Russian config
    if timezone:
        config["reporting_timezone"] = timezone
    (data / "config.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    warehouse = tmp / "warehouse.duckdb"
    run_refresh(str(data / "config.yml"), str(warehouse))
    return warehouse


@pytest.fixture(scope="module")
def russian(tmp_path_factory: pytest.TempPathFactory) -> Path:
    mp = pytest.MonkeyPatch()
    mp.setenv("CJM_CUSTOMER_KEY_SECRET", "test-secret")
    yield _refresh(tmp_path_factory.mktemp("ru"), "ru", "Europe/Moscow")
    mp.undo()


@pytest.fixture(scope="module")
def english(tmp_path_factory: pytest.TempPathFactory) -> Path:
    mp = pytest.MonkeyPatch()
    mp.setenv("CJM_CUSTOMER_KEY_SECRET", "test-secret")
    yield _refresh(tmp_path_factory.mktemp("en"), "en", None)
    mp.undo()


def _texts(warehouse: Path, table: str, columns: tuple[str, ...]) -> list[str]:
    got = rows(warehouse, f"select {', '.join(columns)} from marts.{table}")
    return [cell for row in got for cell in row if cell is not None]


def test_russian_brand_reads_russian_labels_with_codes_kept(russian: Path) -> None:
    cjm = {
        r[0]: r[1:]
        for r in rows(
            russian,
            "select stage, stage_label, customer_actions, barriers, barrier_codes, "
            "opportunities from marts.cjm",
        )
    }
    assert list(cjm) == ["awareness", "consideration", "purchase", "usage", "loyalty"]
    assert cjm["usage"][0] == "Использование"  # the config's stages.labels
    actions = cjm["usage"][1]
    assert "Обращение в поддержку (" in actions and "; Обсуждают: " in actions
    # barriers name topics in words, their codes are in their own column, same order
    labels = Labels("ru")
    barriers, codes, opportunities = cjm["usage"][2:]
    assert codes and barriers.startswith(labels("topic", codes[0]) + " (")
    assert all(labels("topic", code) in barriers for code in codes)
    assert CYRILLIC.search(opportunities) and not re.search(r"[A-Za-z]", opportunities)

    texts = _texts(russian, "cjm", CJM_TEXT) + _texts(russian, "communication_map", MAP_TEXT)
    assert texts
    assert [t for t in texts if SNAKE.search(t)] == []
    goals = _texts(russian, "communication_map", ("goal", "recommendation"))
    assert goals and all(CYRILLIC.search(g) and not re.search(r"[A-Za-z]", g) for g in goals)
    # every mart that carries a stage shows its label beside the code
    for sql in (
        "select distinct from_stage, from_stage_label from marts.stage_conversion",
        "select distinct to_stage, to_stage_label from marts.stage_conversion",
        "select distinct stage, stage_label from marts.touchpoints",
        "select distinct stage, stage_label from marts.sentiment",
        "select distinct stage, stage_label from marts.mentions",
        "select distinct top_stage, top_stage_label from marts.keyword_map",
    ):
        pairs = rows(russian, sql)
        assert pairs and all(label == labels("stage", code) for code, label in pairs if code), sql


def test_english_brand_reads_english_labels(english: Path) -> None:
    stage_labels = [r[0] for r in rows(english, "select stage_label from marts.cjm")]
    assert stage_labels == ["Awareness", "Consideration", "Purchase", "Usage", "Loyalty"]
    texts = _texts(english, "cjm", (*CJM_TEXT, "opportunities")) + _texts(
        english, "communication_map", MAP_TEXT
    )
    assert any("; Talk about: " in t for t in texts)
    assert [t for t in texts if SNAKE.search(t) or CYRILLIC.search(t)] == []
    channels = dict(rows(english, "select channel, channel_label from marts.communication_map"))
    assert channels["organic"] == "Organic search" and channels["vk"] == "VK"


def test_communication_map_metrics_are_typed_columns(russian: Path) -> None:
    con = duckdb.connect(str(russian), read_only=True)
    try:
        types = dict(
            con.execute(
                "select column_name, data_type from duckdb_columns() "
                "where schema_name = 'marts' and table_name = 'communication_map'"
            ).fetchall()
        )
        assert "metrics" not in types
        for column in ("mentions", "customers", "touches", "interactions"):
            assert types[column] == "BIGINT", column
        for column in ("conversion_rate", "net_sentiment", "negative_share"):
            assert types[column] == "DOUBLE", column
        # mentions here are the map's cells of marts.mentions (stories about the brand)
        assert (
            con.execute("select sum(mentions) from marts.communication_map").fetchone()[0]
            == (
                con.execute(
                    "select count(*) from marts.mentions where not is_repost "
                    "and is_relevant is not false"
                ).fetchone()[0]
            )
        )
    finally:
        con.close()


def test_reporting_timezone_moves_the_local_day_not_the_stored_time(
    russian: Path, english: Path
) -> None:
    sql = "select published_at, published_date from marts.mentions where native_id = 'fx-late'"
    (moscow,) = rows(russian, sql)
    (utc,) = rows(english, sql)
    late = datetime(2026, 9, 7, 22, 30, tzinfo=UTC)
    assert moscow[0] == utc[0] == late  # storage stays UTC
    assert moscow[1] == date(2026, 9, 8) and utc[1] == date(2026, 9, 7)
    # marts.sentiment counts it on its Moscow day
    day_sql = "select sum(mentions) from marts.sentiment where day = ? and topic = 'fees'"
    assert rows(russian, day_sql, [date(2026, 9, 8)])[0][0] >= 1
    # spike hours people read are wall-clock Moscow hours (UTC + 3 in September)
    shifts = rows(
        russian,
        "select distinct bucket_start_local - timezone('UTC', bucket_start) "
        "from marts.negative_spikes",
    )
    assert shifts == [(timedelta(hours=3),)]
    assert rows(
        english,
        "select count(*) from marts.negative_spikes "
        "where bucket_start_local != timezone('UTC', bucket_start)",
    ) == [(0,)]


def test_dbt_descriptions_are_comments_in_the_warehouse_and_the_bi_file(russian: Path) -> None:
    spec = yaml.safe_load(
        (ROOT / "dbt_project/models/marts/_marts__models.yml").read_text(encoding="utf-8")
    )
    (cjm,) = [m for m in spec["models"] if m["name"] == "cjm"]
    wanted = {c["name"]: c["description"].strip() for c in cjm["columns"]}
    sql = (
        "select column_name, comment from duckdb_columns() "
        "where table_name = 'cjm' and schema_name = ?"
    )
    for path, schema in ((russian, "marts"), (russian.parent / "bi" / "marts.duckdb", "main")):
        got = {name: (comment or "").strip() for name, comment in rows(path, sql, [schema])}
        assert got["barriers"] == wanted["barriers"], path
        published = got.pop("refresh_id", None)  # the BI copy's own column
        assert got == {name: wanted[name] for name in got}, path
        assert published is None if schema == "marts" else "refresh" in published, path
        table = rows(path, "select comment from duckdb_tables() where table_name = 'cjm'")
        assert table[0][0].startswith("The Customer Journey Map"), path


# ---------------------------------------------------------------- labels cover the codes
def _seed(name: str) -> list[dict[str, str]]:
    with (seeds_dir() / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _config_event_types() -> set[str]:
    return {
        event
        for name in ("config/demo.yml", "tests/fixtures/config.yml")
        for event in yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))["stages"][
            "event_stages"
        ]
    }


def test_every_code_the_marts_can_show_has_both_labels() -> None:
    codes = {
        "topic": {r["topic"] for r in _seed("topic_keywords.csv")},
        "emotion": {r["emotion"] for r in _seed("emotion_lexicon.csv")}
        | {r["emotion"] for r in _seed("emoji_lexicon.csv") if r["emotion"]},
        "nps_signal": {r["signal"] for r in _seed("nps_phrases.csv")},
        "author_role": {r["role"] for r in _seed("author_roles.csv")} | {"brand", "client"},
        "stage": {r["stage"] for r in _seed("stage_cues.csv")},
        "sentiment": set(SENTIMENTS),
        "metric": {r["metric"] for r in _seed("channel_recommendations.csv")} - {"always"},
        # a source's default channel is its type; snscrape's are the platforms
        "channel": set(source_types()) | set(SnscrapeSource.WORKING.values()),
        "event_type": _config_event_types(),
    }
    labels = {(r["kind"], r["code"]): r for r in _seed(LABELS_SEED)}
    missing = [
        (kind, code)
        for kind, kind_codes in codes.items()
        for code in sorted(kind_codes)
        if not (labels.get((kind, code)) or {}).get("label_ru")
        or not labels[(kind, code)].get("label_en")
    ]
    assert missing == []
    assert labels[("topic", "support_quality")]["label_ru"] == "Качество поддержки"
    assert all("_" not in r["label_ru"] + r["label_en"] for r in labels.values())
    # the long texts carry both languages as well
    for seed, columns in (
        ("barrier_recommendations.csv", ("opportunity", "recommendation")),
        ("channel_recommendations.csv", ("recommendation",)),
        ("stage_goals.csv", ("goal",)),
    ):
        for row in _seed(seed):
            for column in columns:
                assert CYRILLIC.search(row[f"{column}_ru"]), (seed, row)
                assert not CYRILLIC.search(row[f"{column}_en"]), (seed, row)


# ---------------------------------------------------------------- config
def _minimal(**extra: object) -> dict[str, object]:
    return {
        "brands": [{"name": "Acme", "keywords": ["acme"], "languages": ["en", "ru"]}],
        "sources": [{"name": "x", "type": "rss", "url": "http://127.0.0.1/rss"}],
        **extra,
    }


def test_display_language_and_timezone_from_config(tmp_path: Path) -> None:
    config = parse_config(_minimal())
    assert config.brands[0].display_language == "en"  # the first of languages
    assert config.reporting_timezone == "UTC"
    config = parse_config(_minimal(reporting_timezone="Europe/Moscow"))
    assert config.reporting_timezone == "Europe/Moscow"
    bad = tmp_path / "cjm.yml"
    bad.write_text(yaml.safe_dump(_minimal(reporting_timezone="Moscow/Red_Square")))
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    assert err.value.errors == [
        "reporting_timezone: 'Moscow/Red_Square' is not an IANA time zone name "
        "(e.g. Europe/Moscow, UTC)"
    ]


# ---------------------------------------------------------------- alert texts
@pytest.mark.parametrize(
    ("n", "ru", "en"),
    [
        (1, "1 негативное упоминание", "1 negative mention"),
        (3, "3 негативных упоминания", "3 negative mentions"),
        (5, "5 негативных упоминаний", "5 negative mentions"),
        (21, "21 негативное упоминание", "21 negative mentions"),
        (23, "23 негативных упоминания", "23 negative mentions"),
    ],
)
def test_counts_agree_with_their_number(n: int, ru: str, en: str) -> None:
    assert count_of(n, "негативное упоминание", "ru") == ru
    assert count_of(n, "negative mention", "en") == en


def _incident(negatives: int) -> Incident:
    start = datetime(2026, 10, 14, 7, tzinfo=UTC)
    return Incident(
        brand="Finly",
        start=start,
        last_spike=start + timedelta(hours=1),
        bucket_hours=1,
        spike_buckets=2,
        negative_mentions=negatives,
        mentions=negatives + 4,
        baseline=2.0,
        threshold=6.0,
        peak_at=start + timedelta(hours=1),
        peak_negative_mentions=negatives - 2,
        peak_baseline=1.0,
        max_score=7.0,
        is_closed=False,
        topics=[("app_stability", 12), ("support_quality", 5)],
        sites=[("vk.com", 15), ("telegram", 8)],
        stage="usage",
        reach=21,
    )


def test_alert_names_stage_barriers_sites_reach_link_in_local_time() -> None:
    config = parse_config(
        _minimal(stages={"order": ["awareness", "usage"], "labels": {"usage": "Пользование"}})
    )
    message = render(
        _incident(23),
        "ru",
        "incident",
        "https://reports.example.org/cjm/",
        labels=Labels("ru", config),
        timezone="Europe/Moscow",
    )
    text = message.text
    assert text.startswith("Finly: 23 негативных упоминания за 2 ч с 2026-10-14 10:00 MSK")
    assert "Этап: Пользование" in text  # the config's stage label wins
    assert "Главные темы негатива: Работа приложения (12), Качество поддержки (5)" in text
    assert "Площадки: vk.com (15), Telegram (8)" in text
    assert "Охват: 21 просмотр" in text
    assert "Отчёт: https://reports.example.org/cjm/Finly.html" in text
    assert (
        message.subject
        == "Всплеск негатива: Finly, 23 негативных упоминания с 2026-10-14 10:00 MSK"
    )
    assert not SNAKE.search(text)

    english = render(_incident(21), "en", "incident", None, timezone="UTC")
    assert english.text.startswith("Finly: 21 negative mentions in 2 h from 2026-10-14 07:00 UTC")
    assert "Stage: Usage" in english.text and "Reach: 21 views" in english.text
    assert "Report" not in english.text and english.body["report_url"] is None
