"""Load validated batches into DuckDB: one transaction per batch, merged by stable id.

Everything a batch changes — raw rows, quarantined rows, its validation record
and the source's cursor — commits together or not at all, so a crash between
steps can never leave the cursor ahead of the data.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from cjm.core.config import Config
from cjm.core.contracts import ENTITIES

# Columns that describe the fetch, not the record: a re-fetch of an unchanged record
# must not count as a change.
_VOLATILE = {"run_id", "fetched_at"}


def _content_columns(entity: str) -> list[str]:
    id_col = ENTITIES[entity]["id"]
    return [f.name for f in ENTITIES[entity]["schema"] if f.name not in _VOLATILE | {id_col}]


def sync_config(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """Mirror the journey settings into config.* so dbt reads them as sources."""
    stages = config.stages
    settings = {
        "conversion_window_days": str(stages.conversion_window_days),
        # per-step windows: conversion_window_days.<from stage>
        **{f"conversion_window_days.{s}": str(d) for s, d in stages.step_windows_days.items()},
        "conversion_stage": stages.resolved_conversion_stage,
        "period_grains": ",".join(stages.period_grains),
        "stage_conversion_grain": stages.resolved_stage_conversion_grain,
        "stage_conversion_channel_basis": stages.stage_conversion_channel_basis,
        "incremental_lookback_hours": str(stages.incremental_lookback_hours),
        "spike_bucket": config.alerts.spike.bucket,
        "spike_window_days": str(config.alerts.spike.window_days),
        "spike_min_count": str(config.alerts.spike.min_count),
        "spike_z": str(config.alerts.spike.z),
        "attribution_half_life_days": str(stages.attribution_half_life_days),
        # drivers, barrier impact and paths: analysis.<key> (int_settings_resolved)
        **{f"analysis.{k}": str(v) for k, v in stages.analysis.model_dump().items()},
        # The zone of the local days and hours the marts show (macros/time.sql).
        "reporting_timezone": config.reporting_timezone,
        # How mentions are read (int_mentions_enriched): the explicit stage → cue sets
        # mapping and the topic packs ('*' = all brands; null = every pack).
        "stage_cues": json.dumps(stages.stage_cues, ensure_ascii=False, sort_keys=True),
        "topic_packs": json.dumps(
            {"*": config.enrichment.topic_packs, **config.enrichment.topic_packs_by_brand},
            ensure_ascii=False,
            sort_keys=True,
        ),
        # How int_mentions_enriched streams and parallelises (cjm/enrichment/dbt_model.py)
        "enrichment.batch_rows": str(config.enrichment.batch_rows),
        # empty: one per core of the machine dbt runs on
        "enrichment.workers": str(config.enrichment.workers or ""),
        # DuckDB's memory limit in the dbt build (macros/warehouse.sql)
        "warehouse.memory_limit": config.warehouse.memory_limit,
        # Every configured brand's effective spike rule (defaults + overrides) and the
        # defaults under '*' for brands outside the config; int_spike_rules_resolved
        # unpacks it.
        "spike_rules": json.dumps(
            [
                {"brand": "*", **config.alerts.spike.model_dump()},
                *(
                    {"brand": b.name, **config.alerts.rule_for(b.name).model_dump()}
                    for b in config.brands
                ),
            ],
            ensure_ascii=False,
        ),
        # Segments (int_segment_settings): where each dimension is read from, the
        # products' keywords per brand, the map's segment dimension, the channel aliases.
        "segments": json.dumps(config.segments.model_dump(), ensure_ascii=False, sort_keys=True),
        "products": json.dumps(
            [
                {"brand": b.name, "product": p, "keyword": k}
                for b in config.brands
                for p, keywords in b.products.items()
                for k in keywords
            ],
            ensure_ascii=False,
        ),
        "journey_map_segment_by": config.journey_map.segment_by,
        "channel_aliases": json.dumps(config.channels.aliases, ensure_ascii=False, sort_keys=True),
    }
    con.begin()
    try:
        con.execute("delete from config.brands")
        con.executemany(
            "insert into config.brands values (?, ?, ?, ?)",
            [[b.name, b.keywords, b.exclude, b.languages] for b in config.brands],
        )
        con.execute("delete from config.brand_relevance")
        con.executemany(
            "insert into config.brand_relevance values (?, ?, ?, ?)",
            [[b.name, b.context, b.off_topic, b.relevance.min_score] for b in config.brands],
        )
        con.execute("delete from config.brand_display")
        con.executemany(
            "insert into config.brand_display values (?, ?)",
            [[b.name, b.display_language] for b in config.brands],
        )
        con.execute("delete from config.brand_markets")
        con.executemany(
            "insert into config.brand_markets values (?, ?, ?)",
            [[b.name, b.role, b.market] for b in config.brands],
        )
        con.execute("delete from config.brand_accounts")
        accounts = [[b.name, a.source, a.author] for b in config.brands for a in b.accounts]
        if accounts:  # executemany rejects an empty parameter list
            con.executemany("insert into config.brand_accounts values (?, ?, ?)", accounts)
        con.execute("delete from config.key_media")
        if config.key_media:
            con.executemany(
                "insert into config.key_media values (?, ?, ?, ?, ?)",
                [
                    [m.name, m.sources, m.outlets, [d.lower() for d in m.domains], m.weight]
                    for m in config.key_media
                ],
            )
        con.execute("delete from config.stages")
        con.executemany(
            "insert into config.stages values (?, ?, ?)",
            [[s, i + 1, stages.labels.get(s, s)] for i, s in enumerate(stages.order)],
        )
        con.execute("delete from config.event_stages")
        if stages.event_stages:  # executemany rejects an empty parameter list
            con.executemany(
                "insert into config.event_stages values (?, ?)",
                [[e.lower(), s] for e, s in stages.event_stages.items()],
            )
        con.execute("delete from config.settings")
        con.executemany("insert into config.settings values (?, ?)", list(settings.items()))
        con.commit()
    except Exception:
        con.rollback()
        raise


def _quarantine_id(entity: str, source: str, record: dict[str, Any]) -> str:
    stable = {k: v for k, v in record.items() if k not in _VOLATILE | {"_row"}}
    blob = json.dumps([entity, source, stable], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def load_batch(con: duckdb.DuckDBPyConnection, manifest: dict[str, Any]) -> dict[str, int]:
    """Apply one validated batch; returns inserted / updated / unchanged / quarantined."""
    entity = manifest["entity"]
    meta = ENTITIES[entity]
    table = meta["table"]
    id_col = meta["id"]
    cols = [f.name for f in meta["schema"]]
    content = _content_columns(entity)
    now = datetime.now(UTC)
    col_list = ", ".join(cols)
    con.begin()
    try:
        counts = {"inserted": 0, "updated": 0, "unchanged": 0, "quarantined": 0}
        if manifest["rows_passed"]:
            # A view, not a copy: each statement streams the landing file, so the load
            # holds no batch in memory whatever its size.
            passed = str(manifest["passed_path"]).replace("'", "''")
            con.execute(
                f"create or replace temp view _batch as "
                f"select {col_list} from read_parquet('{passed}')"
            )
            row_b = ", ".join(f"b.{c}" for c in content)
            row_t = ", ".join(f"t.{c}" for c in content)
            inserted, updated, unchanged = con.execute(
                f"""select count(*) filter (where t.{id_col} is null),
                           count(*) filter (where t.{id_col} is not null
                                            and row({row_b}) is distinct from row({row_t})),
                           count(*) filter (where t.{id_col} is not null
                                            and row({row_b}) is not distinct from row({row_t}))
                    from _batch b left join {table} t using ({id_col})"""
            ).fetchone()
            # Set-based, inside DuckDB: new ids are appended by an anti-join (no per-row
            # conflict check, the cost of ON CONFLICT on a first load of millions), and
            # only rows whose content changed are rewritten.
            con.execute(
                f"""insert into {table} ({col_list}, loaded_at, updated_at)
                    select {col_list}, $now, $now from _batch b
                    where not exists (select 1 from {table} t where t.{id_col} = b.{id_col})""",
                {"now": now},
            )
            if updated:
                set_list = ", ".join(f"{c} = b.{c}" for c in cols if c != id_col)
                con.execute(
                    f"""update {table} t set {set_list}, updated_at = $now
                        from _batch b
                        where t.{id_col} = b.{id_col}
                          and row({row_t}) is distinct from row({row_b})""",
                    {"now": now},
                )
            con.execute("drop view _batch")
            counts.update(inserted=inserted, updated=updated, unchanged=unchanged)
        if manifest["rows_quarantined"]:
            rows = pq.read_table(manifest["quarantine_path"]).to_pylist()
            params = []
            for r in rows:
                reason = r.pop("reason")
                row_ref = r.get("_row")
                record = {k: _jsonable(v) for k, v in r.items() if k != "_errors"}
                params.append(
                    [
                        _quarantine_id(entity, manifest["source"], record),
                        entity,
                        manifest["source"],
                        manifest["run_id"],
                        reason,
                        row_ref,
                        json.dumps(record, default=str, ensure_ascii=False, sort_keys=True),
                        now,
                    ]
                )
            con.executemany(
                "insert into ops.quarantine values (?, ?, ?, ?, ?, ?, ?, ?) "
                "on conflict (quarantine_id) do nothing",
                params,
            )
            counts["quarantined"] = manifest["rows_quarantined"]
        con.execute(
            """insert or replace into ops.validation_runs
               (run_id, entity, source, rows_extracted, rows_duplicate, rows_in,
                rows_passed, rows_quarantined, rows_inserted, rows_updated,
                rows_unchanged, success, failed_expectations, validation_seconds,
                validated_at, loaded_at, rows_seen, rows_off_brand, degraded)
               values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                manifest["run_id"],
                entity,
                manifest["source"],
                manifest["rows_extracted"],
                manifest["rows_duplicate"],
                manifest["rows_in"],
                manifest["rows_passed"],
                manifest["rows_quarantined"],
                counts["inserted"],
                counts["updated"],
                counts["unchanged"],
                manifest["success"],
                json.dumps(manifest["failed_expectations"]),
                manifest["validation_seconds"],
                manifest["validated_at"],
                now,
                manifest.get("rows_seen"),
                manifest.get("rows_off_brand"),
                manifest.get("degraded"),
            ],
        )
        # The bookmark moves only with the data it describes, inside this transaction.
        # An entirely rejected batch keeps the old cursor, so fixing the source's config
        # re-reads the same records instead of skipping them.
        if manifest["success"] or manifest["rows_passed"]:
            _advance_cursor(con, manifest["source"], manifest.get("cursor"), now)
        con.commit()
        return counts
    except Exception:
        con.rollback()
        raise


def _advance_cursor(
    con: duckdb.DuckDBPyConnection, source: str, cursor: str | None, now: datetime
) -> None:
    if cursor is None:
        return
    con.execute(
        """insert into ops.source_state values (?, ?, ?)
           on conflict (source) do update set cursor = excluded.cursor,
                                              updated_at = excluded.updated_at
           where ops.source_state.cursor is distinct from excluded.cursor""",
        [source, cursor, now],
    )


def _jsonable(v: Any) -> Any:
    """Quarantined records are stored as JSON: no NaN/NaT, arrays as lists."""
    if isinstance(v, np.ndarray | list | tuple):
        return [_jsonable(x) for x in v]
    if v is None or (np.isscalar(v) and pd.isna(v)):
        return None
    if isinstance(v, pd.Timestamp | datetime):
        return v.isoformat()
    if isinstance(v, np.generic):
        return v.item()
    return v
