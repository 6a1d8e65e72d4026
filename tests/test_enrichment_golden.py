"""The enrichment gives the same answers after being made faster.

`tests/fixtures/enrichment_golden.jsonl.gz` holds what `int_mentions_enriched`'s body
(`cjm.enrichment.dbt_model.build`) returned for the shipped demo's 3,036 mentions (the
social, market and media exports in demo/inbox/) when it still scored one mention at a
time in the dbt process — the scorer before its caches, pre-filters and process pool —
plus the 22 VK posts and Mastodon statuses of social_api.json, added by regenerating with
the scorer of that day (which left the 3,036 earlier answers byte for byte as they were).
It was written once from that code, not from the code under test, so any change of an
answer (a label, a score, a term list, a relevance, a story key) fails here.

When the rules change on purpose (a seed edit, a new scorer version), regenerate it from
the new code and review the diff:
`CJM_WRITE_GOLDEN=1 .venv/bin/pytest -q tests/test_enrichment_golden.py`.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from cjm.core.paths import demo_bundle_dir
from cjm.enrichment import dbt_model
from cjm.enrichment.rules import RULE_SEEDS, RuleSet

GOLDEN = Path(__file__).parent / "fixtures" / "enrichment_golden.jsonl.gz"
STAGES = ("awareness", "consideration", "purchase", "usage", "loyalty")
# stg_config__brands rows of the demo's brands (config/demo.yml), with relevance context
BRANDS = [
    {
        "brand": "Finly",
        "keywords": ["finly", "финли", "@finlyapp", "#finly", "#финли", "finly.app"],
        "exclude_keywords": ["кафе финли", "finly cafe", "finlyandia", "финлидер"],
        "languages": ["ru", "en"],
        "context": ["карта", "кешбэк", "перевод", "приложение"],
        "off_topic": ["кафе", "меню"],
        "min_relevance": 0.3,
    },
    {
        "brand": "Монетто",
        "keywords": ["монетто", "monetto"],
        "exclude_keywords": [],
        "languages": ["ru", "en"],
        "context": [],
        "off_topic": [],
        "min_relevance": None,
    },
]
# not compared: when it was scored and with which fingerprint
UNCOMPARED = ("source_updated_at", "rules_hash")


def _mentions() -> list[dict[str, Any]]:
    """The demo exports as rows of stg_raw__mentions (brand None: the default brand)."""
    inbox = demo_bundle_dir() / "inbox"
    out: list[dict[str, Any]] = []
    with (inbox / "mentions_listening.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            out.append(
                {
                    "mention_id": r["id"],
                    "source_type": r["platform"],
                    "brand": "Finly",
                    "url": r["link"] or None,
                    "author": r["author"] or None,
                    "title": None,
                    "text": r["body"],
                    "language": None,
                }
            )
    with (inbox / "mentions_market.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            named = "онетто" in r["body"] or "onetto" in r["body"]
            out.append(
                {
                    "mention_id": r["id"],
                    "source_type": r["platform"],
                    "brand": "Монетто" if named else None,
                    "url": r["link"] or None,
                    "author": r["author"] or None,
                    "title": None,
                    "text": r["body"],
                    "language": "ru",
                }
            )
    for line in (inbox / "mentions_media.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        out.append(
            {
                "mention_id": str(r.get("guid")),
                "source_type": "rss",
                "brand": "Finly",
                "url": r.get("link"),
                "author": r.get("outlet"),
                "title": r.get("title"),
                "text": r.get("summary") or r.get("text"),
                "language": None,
            }
        )
    # the VK posts and Mastodon statuses the demo's rest_api sources read, as stored
    social = json.loads((inbox / "social_api.json").read_text(encoding="utf-8"))
    for r in social["vk"]:
        out.append(
            {
                "mention_id": f"{r['owner_id']}_{r['id']}",
                "source_type": "rest_api",
                "brand": "Finly",
                "url": f"https://vk.com/wall{r['owner_id']}_{r['id']}",
                "author": str(r["from_id"]),
                "title": None,
                "text": r["text"],
                "language": None,
            }
        )
    for r in social["mastodon"]:
        out.append(
            {
                "mention_id": r["id"],
                "source_type": "rest_api",
                "brand": "Finly",
                "url": f"https://{r['domain']}/@{r['user']}/{r['id']}",
                "author": r["user"]
                if r["domain"] == "mastodon.social"
                else f"{r['user']}@{r['domain']}",
                "title": None,
                "text": r["text"],
                "language": r["language"],
            }
        )
    at = datetime(2026, 9, 1, tzinfo=UTC)
    for number, row in enumerate(out):
        # the exports repeat and omit ids (the demo's dirty rows): keys of our own
        row["mention_id"] = f"{number:05d}:{row['mention_id']}"
        row["updated_at"] = at
    return out


def _score(batch_rows: int | None = None, workers: int | None = None) -> dict[str, dict[str, Any]]:
    """Run the model body on a real DuckDB session, as dbt-duckdb calls it."""
    con = duckdb.connect()
    extra: dict[str, Any] = {}
    if batch_rows is not None:
        settings = [
            {"setting_key": "enrichment.batch_rows", "setting_value": str(batch_rows)},
            {"setting_key": "enrichment.workers", "setting_value": str(workers)},
        ]
        con.register("settings", pa.Table.from_pylist(settings))
        extra["settings"] = con.table("settings")
    try:
        result = dbt_model.build(
            session=con, this=None, is_incremental=False, **_relations(con), **extra
        )
        table = result if isinstance(result, pa.Table) else result.read_all()
    finally:
        con.close()
    return _by_id(table)


def _relations(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The relations dbt hands the model: the demo's mentions, brands, stages, seeds."""
    tables = RuleSet.from_seed_dir().tables
    seeds = {}
    for name in RULE_SEEDS:
        con.register(f"seed_{name}", pa.Table.from_pylist(list(tables[name])))
        seeds[name] = con.table(f"seed_{name}")
    con.register("mentions", pa.Table.from_pylist(_mentions()))
    con.register("brands", pa.Table.from_pylist(BRANDS))
    stages = [{"stage": s, "stage_order": i} for i, s in enumerate(STAGES)]
    con.register("stages", pa.Table.from_pylist(stages))
    return {
        "mentions": con.table("mentions"),
        "brands": con.table("brands"),
        "stages": con.table("stages"),
        "seeds": seeds,
    }


def _by_id(table: pa.Table) -> dict[str, dict[str, Any]]:
    out = {}
    for row in table.to_pylist():
        for name in UNCOMPARED:
            row.pop(name)
        out[row["mention_id"]] = row
    return out


def _golden() -> dict[str, dict[str, Any]]:
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    return {row["mention_id"]: row for row in rows}


def test_write_golden_on_request() -> None:
    """Only with CJM_WRITE_GOLDEN=1: (re)writes the golden file from the code as it is."""
    if os.environ.get("CJM_WRITE_GOLDEN") != "1":
        return
    scored = _score()
    with gzip.open(GOLDEN, "wt", encoding="utf-8") as fh:
        for mention_id in sorted(scored):
            fh.write(json.dumps(scored[mention_id], ensure_ascii=False, sort_keys=True) + "\n")


@pytest.fixture(scope="module")
def golden() -> dict[str, dict[str, Any]]:
    return _golden()


@pytest.mark.parametrize(
    ("batch_rows", "workers"),
    [(100_000, 1), (500, 2)],
    ids=["one batch in the dbt process", "batches of 500 in two spawned workers"],
)
def test_every_demo_mention_scores_as_the_golden_file_says(
    golden: dict[str, Any], batch_rows: int, workers: int
) -> None:
    scored = _score(batch_rows=batch_rows, workers=workers)
    assert len(golden) == 3036 + 22  # the exports, then the rest_api sources' posts
    assert scored.keys() == golden.keys()
    differ = [m for m in golden if json.loads(json.dumps(scored[m])) != golden[m]]
    assert not differ, f"{len(differ)} mentions score differently, e.g. {differ[0]}: " + (
        f"{scored[differ[0]]} != {golden[differ[0]]}"
    )


def test_a_cache_filling_up_between_batches_changes_no_answer(golden: dict[str, Any]) -> None:
    """The per-text caches are cleared when full; a batch whose texts were cached a
    moment before the clearing must still score them (a 10^5-row bench run once failed
    here with a KeyError). A tiny cache makes every batch hit that moment."""
    con = duckdb.connect()
    try:
        relations = _relations(con)
        context = dbt_model.prepare(
            relations["brands"], relations["stages"], relations["seeds"], None
        )
        scorer = dbt_model.Scorer(context)
        scorer.cache_size = 150
        mentions = relations["mentions"].arrow().read_all()
        mentions = mentions.select(list(dbt_model.MENTION_COLUMNS))
    finally:
        con.close()
    # overlapping windows: each batch repeats half of the previous one's texts
    scored: dict[str, dict[str, Any]] = {}
    for start in range(0, mentions.num_rows, 100):
        batch = mentions.slice(max(start - 100, 0), 200)
        scored.update(_by_id(pa.Table.from_batches([scorer.score(batch)])))
    assert scored.keys() == golden.keys()
    differ = [m for m in golden if json.loads(json.dumps(scored[m])) != golden[m]]
    assert not differ, f"{len(differ)} mentions score differently, e.g. {differ[0]}"
