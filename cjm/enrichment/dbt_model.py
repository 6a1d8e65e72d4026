"""The body of the dbt Python model `int_mentions_enriched` (kept here to be testable).

The model file only declares its inputs with `dbt.ref(...)` (dbt reads those calls to
order the build) and hands the relations over. Incremental logic:

* each stored row carries `rules_hash`: a fingerprint of every rule seed, the brands
  and stages config and the scorer version;
* the same hash as stored → score only mentions that are new or whose raw row changed
  (`updated_at` later than the one scored);
* a different hash (a seed was edited, config changed, new scorer) → re-score all.

dbt-duckdb then applies the batch with delete+insert on `mention_id`.

Memory and cores: the mentions to score are copied by DuckDB into a temporary Parquet
file (row groups of `enrichment.batch_rows`), never fetched into this process as a
whole; each row group is scored on its own — in a pool of `enrichment.workers`
processes (spawned: no fork of a process holding DuckDB's threads), each building its
Enricher once — and the scored batches come back as a `pyarrow.RecordBatchReader`,
which dbt-duckdb registers and copies into the table batch by batch. At most two
batches per worker are in flight, so the peak memory is set by the batch size and the
workers, not by the number of mentions.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import weakref
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cjm.core.config import EnrichmentSettings
from cjm.enrichment.relevance import brand_from_row, guess_languages, relevance
from cjm.enrichment.rules import RULE_SEEDS, RuleSet, rules_hash
from cjm.enrichment.scorer import TEXT_CACHE_SIZE, BrandInfo, Enricher
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


@dataclass(frozen=True)
class Context:
    """Everything a scoring process needs, small and picklable (seed and config rows):
    each worker rebuilds the Enricher from it once."""

    tables: dict[str, list[dict[str, Any]]]
    brand_rows: list[dict[str, Any]]
    stage_names: list[str]
    stage_cues: dict[str, Any]
    topic_packs: Any
    packs: dict[str, Any]
    current: str
    default_brand: str


def prepare(brands: Any, stages: Any, seeds: Mapping[str, Any], settings: Any) -> Context:
    """Read the seeds and config relations and fingerprint them (`rules_hash`)."""
    tables = {name: rows(seeds[name]) for name in RULE_SEEDS}
    brand_rows = rows(brands)
    stage_rows = sorted(rows(stages), key=lambda r: r["stage_order"])
    brand_infos = _brand_infos(brand_rows)
    stage_names = [r["stage"] for r in stage_rows]
    setting = _settings(settings)
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
    return Context(
        tables=tables,
        brand_rows=brand_rows,
        stage_names=stage_names,
        stage_cues=stage_cues,
        topic_packs=topic_packs,
        packs=packs,
        current=rules_hash(tables, extra=config),
        default_brand=brand_infos[0].name if len(brand_infos) == 1 else "unknown",
    )


def _brand_infos(brand_rows: list[dict[str, Any]]) -> list[BrandInfo]:
    return [
        BrandInfo(r["brand"], tuple(r.get("keywords") or ()), tuple(r.get("languages") or ()))
        for r in brand_rows
    ]


def _settings(settings: Any) -> dict[str, str]:
    return {r["setting_key"]: r["setting_value"] for r in rows(settings)} if settings else {}


class Scorer:
    """Scores record batches of `MENTION_COLUMNS` with one Context (one per process)."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.enricher = Enricher(
            RuleSet.from_tables(context.tables),
            _brand_infos(context.brand_rows),
            context.stage_names,
            stage_cues=context.stage_cues,
            topic_packs=context.topic_packs,
            topic_packs_by_brand=context.packs,
        )
        self.relevance_brands = {r["brand"]: brand_from_row(r) for r in context.brand_rows}
        self._relevance: dict[tuple[str, str], tuple[float, list[str]]] = {}
        self.cache_size = TEXT_CACHE_SIZE

    def score(self, batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch:
        """One scored row per input row, in order."""
        data = {name: batch.column(name).to_pylist() for name in MENTION_COLUMNS}
        n = batch.num_rows
        brands = [b or self.context.default_brand for b in data["brand"]]
        bodies = [
            "\n".join(filter(None, (title, text)))
            for title, text in zip(data["title"], data["text"], strict=True)
        ]
        # relevance once per distinct (text, brand) not seen before; language guesses in
        # one batched model call over those texts
        needed = dict.fromkeys(
            (body, brand)
            for body, brand in zip(bodies, brands, strict=True)
            if brand in self.relevance_brands
        )
        todo = [key for key in needed if key not in self._relevance]
        if len(self._relevance) + len(todo) > self.cache_size:
            # bounded memory: start afresh, and score again what this batch needs (the
            # entries it found cached a moment ago are gone with the rest)
            self._relevance.clear()
            todo = list(needed)
        guesses = guess_languages([body for body, _ in todo])
        for (body, brand), guess in zip(todo, guesses, strict=True):
            self._relevance[(body, brand)] = relevance(body, self.relevance_brands[brand], guess)
        columns: dict[str, list[Any]] = {field.name: [] for field in SCHEMA}
        enrich = self.enricher.enrich
        for i in range(n):
            brand = brands[i]
            result = enrich(
                data["text"][i],
                title=data["title"][i],
                author=data["author"][i],
                source_type=data["source_type"][i],
                brand=brand,
                url=data["url"][i],
                language=data["language"][i],
            ).as_dict()
            result.update(
                mention_id=data["mention_id"][i],
                source_updated_at=data["updated_at"][i],
                rules_hash=self.context.current,
                brand=brand,
            )
            rel_brand = self.relevance_brands.get(brand)
            if rel_brand is None:  # a brand no longer configured: nothing to judge it by
                result.update(relevance=1.0, is_relevant=True, relevance_evidence=[])
            else:
                score, evidence = self._relevance[(bodies[i], brand)]
                result.update(
                    relevance=score,
                    is_relevant=score >= rel_brand.min_score,
                    relevance_evidence=list(evidence),
                )
            for name, values in columns.items():
                values.append(result[name])
        return pa.RecordBatch.from_pydict(columns, schema=SCHEMA)


# the worker process's Scorer, built once by `_init_worker`
_WORKER: Scorer | None = None


def _init_worker(context: Context) -> None:
    global _WORKER
    _WORKER = Scorer(context)


def _score_row_group(path: str, index: int) -> pa.RecordBatch:
    assert _WORKER is not None, "the pool's initializer builds the Scorer"
    return _WORKER.score(pq.ParquetFile(path).read_row_group(index))


@dataclass(frozen=True)
class Options:
    """`enrichment.batch_rows` and `enrichment.workers` as the config table carries them."""

    batch_rows: int
    workers: int

    @classmethod
    def from_settings(cls, setting: Mapping[str, str]) -> Options:
        defaults = EnrichmentSettings()
        batch_rows = int(setting.get("enrichment.batch_rows") or defaults.batch_rows)
        workers = int(setting.get("enrichment.workers") or defaults.resolved_workers)
        return cls(batch_rows=batch_rows, workers=workers)


class _Stream:
    """The scored batches of a Parquet file's row groups, produced lazily."""

    def __init__(self, context: Context, directory: Path, path: Path, options: Options) -> None:
        self.context = context
        self.directory = directory
        self.path = path
        self.options = options
        # a reader dbt never consumed (a failure before the copy) still removes the file
        weakref.finalize(self, shutil.rmtree, directory, ignore_errors=True)

    @cached_property
    def groups(self) -> int:
        return pq.ParquetFile(self.path).num_row_groups

    def batches(self) -> Iterator[pa.RecordBatch]:
        try:
            if not self.groups:
                return
            if self.options.workers <= 1 or self.groups <= 1:
                scorer = Scorer(self.context)
                file = pq.ParquetFile(self.path)
                for index in range(self.groups):
                    yield scorer.score(file.read_row_group(index))
                return
            yield from self._pooled()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def _pooled(self) -> Iterator[pa.RecordBatch]:
        workers = min(self.options.workers, self.groups)
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=get_context("spawn"),
            initializer=_init_worker,
            initargs=(self.context,),
        ) as pool:
            pending: deque[Future[pa.RecordBatch]] = deque()
            submitted = 0
            while submitted < self.groups or pending:
                # two batches per worker in flight: the pool never idles, memory stays bounded
                while submitted < self.groups and len(pending) < 2 * workers:
                    pending.append(pool.submit(_score_row_group, str(self.path), submitted))
                    submitted += 1
                yield pending.popleft().result()


def build(
    session: Any,
    mentions: Any,
    brands: Any,
    stages: Any,
    seeds: Mapping[str, Any],
    this: str | None,
    is_incremental: bool,
    settings: Any = None,
) -> pa.RecordBatchReader:
    """Score the mentions that need it; returns the scored batches as a stream.

    `settings` (stg_config__settings) carries the config's `stages.stage_cues`, topic
    packs and `enrichment.*` as JSON/text; absent (an older project file) means the
    defaults."""
    context = prepare(brands, stages, seeds, settings)
    options = Options.from_settings(_settings(settings))
    todo = mentions.select(", ".join(MENTION_COLUMNS))
    if is_incremental and this:
        stored = {h for (h,) in session.sql(f"select distinct rules_hash from {this}").fetchall()}
        if stored <= {context.current}:
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
    directory = Path(tempfile.mkdtemp(prefix="cjm-enrich-"))
    path = directory / "todo.parquet"
    try:
        # DuckDB writes the todo set itself, streaming: it never passes through Python
        todo.write_parquet(str(path), row_group_size=options.batch_rows)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    stream = _Stream(context, directory, path, options)
    return pa.RecordBatchReader.from_batches(SCHEMA, stream.batches())
