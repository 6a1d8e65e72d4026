"""The body of the dbt Python model `int_mentions_enriched` (kept here to be testable).

The model file only declares its inputs with `dbt.ref(...)` (dbt reads those calls to
order the build) and hands the relations over. Incremental logic:

* each stored row carries `rules_hash`: a fingerprint of every rule seed, the brands
  and stages config and the scorer version;
* the same hash as stored → score only mentions that are new or whose raw row changed
  (`updated_at` later than the one scored);
* a different hash (a seed was edited, config changed, new scorer) → re-score all.

dbt-duckdb then applies the batch with delete+insert on `mention_id`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from cjm.enrichment.relevance import brand_from_row, guess_languages, relevance
from cjm.enrichment.rules import RULE_SEEDS, RuleSet, rules_hash
from cjm.enrichment.scorer import BrandInfo, Enricher
from cjm.enrichment.sentiment_model import models_fingerprint
from cjm.enrichment.stages import catalogue as cue_catalogue
from cjm.enrichment.stages import resolve as resolve_stage_cues

SCHEMA = pa.schema(
    [
        ("mention_id", pa.string()),
        ("source_updated_at", pa.timestamp("us", tz="UTC")),
        ("rules_hash", pa.string()),
        ("brand", pa.string()),
        ("language", pa.string()),
        ("sentiment", pa.string()),
        ("sentiment_score", pa.float64()),
        ("raw_score", pa.float64()),
        ("sentiment_terms", pa.list_(pa.string())),
        ("is_ironic", pa.bool_()),
        ("journey_stage", pa.string()),
        ("stage", pa.string()),
        ("topics", pa.list_(pa.string())),
        (
            "topic_sentiments",
            pa.list_(pa.struct([("topic", pa.string()), ("sentiment", pa.string())])),
        ),
        ("barriers", pa.list_(pa.string())),
        ("emotion", pa.string()),
        ("nps_signal", pa.string()),
        ("author_role", pa.string()),
        ("story_keys", pa.list_(pa.string())),
        # cjm/enrichment/relevance.py: is the mention about its brand (not another sense,
        # market or an ad bot), and why
        ("relevance", pa.float64()),
        ("is_relevant", pa.bool_()),
        ("relevance_evidence", pa.list_(pa.string())),
    ]
)
MENTION_COLUMNS = (
    "mention_id",
    "source_type",
    "brand",
    "url",
    "author",
    "title",
    "text",
    "language",
    "updated_at",
)


def rows(relation: Any) -> list[dict[str, Any]]:
    """A DuckDB relation as a list of dicts (small tables: seeds, config)."""
    columns = list(relation.columns)
    return [dict(zip(columns, values, strict=True)) for values in relation.fetchall()]


def build(
    session: Any,
    mentions: Any,
    brands: Any,
    stages: Any,
    seeds: Mapping[str, Any],
    this: str | None,
    is_incremental: bool,
    settings: Any = None,
) -> pa.Table:
    """Score the mentions that need it; returns the batch as an Arrow table.

    `settings` (stg_config__settings) carries the config's `stages.stage_cues` and
    topic packs as JSON; absent (an older project file) means the defaults."""
    tables = {name: rows(seeds[name]) for name in RULE_SEEDS}
    rules = RuleSet.from_tables(tables)
    brand_rows = rows(brands)
    stage_rows = sorted(rows(stages), key=lambda r: r["stage_order"])
    brand_infos = [
        BrandInfo(r["brand"], tuple(r.get("keywords") or ()), tuple(r.get("languages") or ()))
        for r in brand_rows
    ]
    stage_names = [r["stage"] for r in stage_rows]
    setting = {r["setting_key"]: r["setting_value"] for r in rows(settings)} if settings else {}
    stage_cues = json.loads(setting.get("stage_cues") or "{}")
    packs = json.loads(setting.get("topic_packs") or "{}")
    topic_packs = packs.pop("*", None)
    cue_map = resolve_stage_cues(stage_names, stage_cues, cue_catalogue(tables["stage_cues"]))
    config = {
        "brands": sorted([b.name, sorted(b.keywords), list(b.languages)] for b in brand_infos),
        "stages": stage_names,
        # the shipped sentiment models: a rebuilt model re-scores every mention
        "sentiment_models": models_fingerprint(),
        # what each stage's cues are and which topic packs apply: a change re-scores
        "stage_cues": cue_map.as_config(),
        "topic_packs": [topic_packs, packs],
    }
    relevance_brands = {r["brand"]: brand_from_row(r) for r in brand_rows}
    # context / off-topic words and min_score change the stored relevance: re-score all
    config["relevance"] = sorted(repr(b) for b in relevance_brands.values())
    current = rules_hash(tables, extra=config)
    default_brand = brand_infos[0].name if len(brand_infos) == 1 else "unknown"

    todo = mentions.select(", ".join(MENTION_COLUMNS))
    if is_incremental and this:
        stored = {h for (h,) in session.sql(f"select distinct rules_hash from {this}").fetchall()}
        if stored <= {current}:
            session.register("__cjm_todo", todo)
            todo = session.sql(
                f"""
                select todo.*
                from __cjm_todo as todo
                left join {this} as done on todo.mention_id = done.mention_id
                where done.mention_id is null
                    or todo.updated_at > done.source_updated_at
                """
            )
    enricher = Enricher(
        rules,
        brand_infos,
        stage_names,
        stage_cues=stage_cues,
        topic_packs=topic_packs,
        topic_packs_by_brand=packs,
    )
    columns: dict[str, list[Any]] = {field.name: [] for field in SCHEMA}
    records = rows(todo)
    bodies = ["\n".join(filter(None, (r["title"], r["text"]))) for r in records]
    guesses = guess_languages(bodies)  # one batch: the per-text model call is the cost
    for record, body, guess in zip(records, bodies, guesses, strict=True):
        brand = record["brand"] or default_brand
        result = enricher.enrich(
            record["text"],
            title=record["title"],
            author=record["author"],
            source_type=record["source_type"],
            brand=brand,
            url=record["url"],
            language=record["language"],
        ).as_dict()
        result.update(
            mention_id=record["mention_id"],
            source_updated_at=record["updated_at"],
            rules_hash=current,
            brand=brand,
        )
        rel_brand = relevance_brands.get(brand)
        if rel_brand is None:  # a brand no longer configured: nothing to judge it by
            result.update(relevance=1.0, is_relevant=True, relevance_evidence=[])
        else:
            score, evidence = relevance(body, rel_brand, guess)
            result.update(
                relevance=score,
                is_relevant=score >= rel_brand.min_score,
                relevance_evidence=evidence,
            )
        for name, values in columns.items():
            values.append(result[name])
    return pa.table(columns, schema=SCHEMA)
