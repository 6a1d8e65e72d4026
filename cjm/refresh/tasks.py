"""The refresh's steps as plain functions: the Airflow DAG and `cjm run` call these.

Each takes names and paths (JSON-friendly, so Airflow can pass them between
workers) and returns a small JSON-friendly summary. The config may come as a path (a
DAG task reads it once, from the path Airflow hands it) or as the `Config` a caller
already loaded (`cjm run` reads it once for the whole refresh). Each step is idempotent for
a given run id: a retry overwrites its own landing files or re-applies the
same upserts.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cjm.core.config import Config
from cjm.core.contracts import landing_schema
from cjm.core.landing import Landing
from cjm.core.paths import landing_dir, report_dir_for
from cjm.core.warehouse import connect, open_warehouse, warehouse_path
from cjm.refresh.settings import ConfigArg, config_of

log = logging.getLogger("cjm")


# Unflagged rows GX judges on every run as well, to catch a too lenient SQL screen.
CANARY_ROWS = 2_000


class AllRowsRejected(RuntimeError):
    """Every row of a batch failed validation: the source (or its mapping) is broken."""


class SourcesFailed(RuntimeError):
    """Some sources failed; the others were still loaded."""


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return "manual__" + now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def landing_root(config: Config, warehouse: str | None = None) -> Path:
    env = os.environ.get("CJM_LANDING")
    if env:
        return Path(env)
    if config.paths.landing:
        return config.resolve(config.paths.landing)
    return landing_dir(warehouse_path(warehouse))


def list_sources(config: ConfigArg = None) -> list[str]:
    return [s.name for s in config_of(config).enabled_sources]


def extract(
    source_name: str, run_id: str, config: ConfigArg = None, warehouse: str | None = None
) -> dict[str, Any]:
    """Read one source into its landing file for this run."""
    from cjm.extractors import ExtractContext, get_extractor

    config = config_of(config)
    source = config.source(source_name)
    cursor = _read_cursor(warehouse, source_name)
    started = time.perf_counter()
    ctx = ExtractContext(
        config=config, source=source, run_id=run_id, fetched_at=datetime.now(UTC), cursor=cursor
    )
    result = get_extractor(source.type)(ctx)
    landing = Landing(landing_root(config, warehouse), source_name, run_id)
    path, rows = landing.write_batches(
        "extracted", landing_schema(result.entity), result.iter_batches()
    )
    manifest = {
        "source": source_name,
        "source_type": source.type,
        "entity": result.entity,
        "run_id": run_id,
        "landing_path": str(path),
        "rows_seen": result.rows_seen,
        "rows_off_brand": result.rows_off_brand,
        "rows_extracted": rows,
        "cursor_before": cursor,
        "cursor": result.cursor,
        "notes": result.notes,
        "degraded": result.degraded,
        "extract_seconds": round(time.perf_counter() - started, 3),
    }
    landing.write_manifest("extract.manifest", manifest)
    log.info(
        "extracted %s: %d rows (%d seen, %d off-brand)",
        source_name,
        rows,
        result.rows_seen,
        result.rows_off_brand,
    )
    return manifest


def _read_cursor(warehouse: str | None, source: str) -> str | None:
    """The source's bookmark; read without taking the writer lock, so BI readers do not
    block it. Another process writing (a load or a dbt model elsewhere) is waited for
    rather than a cursor guessed."""
    import duckdb

    path = warehouse_path(warehouse)
    if not path.exists():
        return None
    con = connect(path, read_only=True)
    try:
        row = con.execute(
            "select cursor from ops.source_state where source = ?", [source]
        ).fetchone()
        return row[0] if row else None
    except duckdb.CatalogException:
        return None
    finally:
        con.close()


def validate(
    source_name: str, run_id: str, config: ConfigArg = None, warehouse: str | None = None
) -> dict[str, Any]:
    """Split the landed batch into passed and quarantined rows with Great Expectations,
    in bounded batches: DuckDB screens the whole file with the suite as SQL, GX judges the
    rows it flags (and a canary of the others) and gives each bad row its reason."""
    from cjm.expectations.runner import (
        DEFAULT_FUTURE_TOLERANCE,
        ValidationError,
        validate_frame,
    )
    from cjm.expectations.sql import screen

    config = config_of(config)
    landing = Landing(landing_root(config, warehouse), source_name, run_id)
    extracted = landing.read_manifest("extract.manifest")
    if extracted is None:
        raise FileNotFoundError(
            f"{landing.path('extract.manifest')}: no extract for source "
            f"{source_name!r} in run {run_id!r}"
        )
    entity = extracted["entity"]
    started = time.perf_counter()
    now = datetime.now(UTC)
    path = extracted["landing_path"]
    # Repeats of the same id inside one batch (an export listing a row twice, a feed
    # page overlapping the next) are not errors: the last one wins, and they are counted.
    # DuckDB finds them over the whole file, and the rows some check may fail
    # (expectations/sql.py); GX judges those, a bounded batch at a time.
    found = screen(entity, path, now + DEFAULT_FUTURE_TOLERANCE, config.warehouse.memory_limit)
    schema = landing_schema(entity)
    q_schema = schema.append(pa.field("reason", pa.string()))
    totals = {"in": 0, "passed": 0, "quarantined": 0}
    failed: dict[str, int] = {}
    success = True
    first_bad: tuple[str, str] | None = None
    pending: list[pa.Table] = []
    batch_rows = config.load.batch_rows

    def judge(tables: list[pa.Table], *, canary: bool = False) -> None:
        nonlocal success, first_bad
        frame = pa.concat_tables(tables).to_pandas()
        if frame.empty:
            return
        outcome = validate_frame(entity, frame, now=now)
        if canary:
            if outcome.rows_quarantined:
                raise ValidationError(
                    f"{entity}: GX failed {outcome.rows_quarantined} row(s) the SQL screen "
                    f"passed ({outcome.failed_expectations}): expectations/sql.py disagrees "
                    "with the suite"
                )
            return  # already written as passed
        passed_out.write_table(
            pa.Table.from_pandas(outcome.passed, schema=schema, preserve_index=False)
        )
        quarantine_out.write_table(
            pa.Table.from_pandas(outcome.quarantined, schema=q_schema, preserve_index=False)
        )
        totals["passed"] += outcome.rows_passed
        totals["quarantined"] += outcome.rows_quarantined
        success = success and outcome.success
        for key, n in outcome.failed_expectations.items():
            failed[key] = failed.get(key, 0) + n
        if first_bad is None and outcome.rows_quarantined:
            q = outcome.quarantined
            first_bad = (q["_row"].iloc[0], q["reason"].iloc[0])

    with (
        landing.writer("passed", schema) as passed_out,
        landing.writer("quarantine", q_schema) as quarantine_out,
    ):
        offset, canary_left = 0, CANARY_ROWS
        for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
            table = pa.Table.from_batches([batch]).cast(schema)
            positions = np.arange(offset, offset + table.num_rows)
            offset += table.num_rows
            table = table.filter(pa.array(~np.isin(positions, found.repeated)))
            positions = positions[~np.isin(positions, found.repeated)]
            totals["in"] += table.num_rows
            flagged = np.isin(positions, found.flagged)
            clean = table.filter(pa.array(~flagged))
            passed_out.write_table(clean)
            totals["passed"] += clean.num_rows
            if canary_left and clean.num_rows:
                judge([clean.slice(0, canary_left)], canary=True)
                canary_left -= min(canary_left, clean.num_rows)
            if flagged.any():
                pending.append(table.filter(pa.array(flagged)))
                if sum(t.num_rows for t in pending) >= batch_rows:
                    judge(pending)
                    pending = []
        if pending:
            judge(pending)
    rows_in, rows_passed = totals["in"], totals["passed"]
    rows_quarantined = totals["quarantined"]
    repeated = found.repeated
    manifest = {
        **extracted,
        "passed_path": str(landing.path("passed")),
        "quarantine_path": str(landing.path("quarantine")),
        "rows_duplicate": len(repeated),
        "rows_in": rows_in,
        "rows_passed": rows_passed,
        "rows_quarantined": rows_quarantined,
        "success": bool(success or rows_in == 0),
        "failed_expectations": failed,
        "validation_seconds": round(time.perf_counter() - started, 3),
        "validated_at": datetime.now(UTC).isoformat(),
    }
    assert manifest["rows_extracted"] == manifest["rows_in"] + len(repeated)
    landing.write_manifest("validated.manifest", manifest)
    if rows_in and not rows_passed:
        row, first = first_bad or ("?", "?")
        raise AllRowsRejected(
            f"source {source_name!r}: all {rows_in} rows failed validation "
            f"(first: {row}: {first}); they are in ops.quarantine after the load step"
        )
    return manifest


def load(run_id: str, config: ConfigArg = None, warehouse: str | None = None) -> dict[str, Any]:
    """Load every validated batch of this run; one transaction per batch."""
    from cjm.loader import load_batch, sync_config

    config = config_of(config)
    root = landing_root(config, warehouse)
    report: dict[str, Any] = {"run_id": run_id, "batches": {}, "failed": {}}
    with open_warehouse(warehouse, memory_limit=config.warehouse.memory_limit) as con:
        sync_config(con, config)
        for source in config.enabled_sources:
            manifest = Landing(root, source.name, run_id).read_manifest("validated.manifest")
            if manifest is None:
                report["failed"][source.name] = "no validated batch (extract or validate failed)"
                continue
            nothing_new = manifest["rows_extracted"] == 0 and not manifest.get("degraded")
            if nothing_new and manifest["cursor"] == manifest["cursor_before"]:
                report["batches"][source.name] = {"skipped": "nothing new"}
                continue
            try:
                report["batches"][source.name] = load_batch(con, manifest)
            except Exception as exc:  # one bad batch must not stop its neighbours
                log.exception("loading %s failed", source.name)
                report["failed"][source.name] = f"load failed: {exc}"
    return report


def build_marts(
    warehouse: str | None = None,
    select: list[str] | None = None,
    run_id: str | None = None,
    always: bool = False,
) -> dict[str, Any]:
    """dbt build in a child process (the DAG runs the same project through Cosmos); the
    config reaches dbt through the warehouse's config tables, written by `load`.

    A whole-project build is skipped when nothing it reads changed since the last one
    that succeeded (cjm/refresh/inputs.py), unless `always`; the result then says
    `skipped` and names that build's run."""
    from cjm.refresh import inputs
    from cjm.refresh.dbt import DbtBuildFailed, dbt_build

    path = warehouse_path(warehouse)
    whole = not select
    fingerprint = None
    if whole:
        with open_warehouse(path) as con:
            fingerprint = inputs.fingerprint(con)
            last = inputs.last_build(con)
        if not always and last is not None and last[1] == fingerprint:
            return {"seconds": 0.0, "nodes": {}, "skipped": last[0]}
    # dbt opens the file in its own process and would fail on a BI tool's connection:
    # wait for the file here first, and once more if a reader slipped in meanwhile.
    connect(path).close()
    try:
        result = dbt_build(path, select=select)
    except DbtBuildFailed as exc:
        if "Conflicting lock is held" not in str(exc):
            raise
        log.warning("dbt found the warehouse held by another process; waiting, then again")
        connect(path).close()
        result = dbt_build(path, select=select)
    if fingerprint is not None:
        with open_warehouse(path) as con:
            inputs.record_build(con, run_id or "unknown", fingerprint, result["seconds"])
    return result


def one_sided_channels(warehouse: str | None = None) -> dict[str, list[str]]:
    """The channels marts.channel_coverage sees on one side only, per side (brand-wide:
    'brand: channel'); empty lists when mentions and CRM events share every channel.
    Printed by each refresh: a one-sided channel is often a missing channels.aliases
    entry, so the communication map cannot put its mentions and customers together."""
    import duckdb

    con = connect(warehouse_path(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select coverage, brand, channel from marts.channel_coverage "
            "where coverage != 'both' order by coverage, brand, channel"
        ).fetchall()
    except duckdb.CatalogException:  # a build that did not reach the mart
        rows = []
    finally:
        con.close()
    out: dict[str, list[str]] = {"mentions_only": [], "crm_only": []}
    for coverage, brand, channel in rows:
        out[coverage].append(f"{brand}: {channel}")
    return out


def publish(config: ConfigArg = None, warehouse: str | None = None) -> dict[str, Any]:
    from cjm.publish import publish_marts

    config = config_of(config)
    return publish_marts(config, warehouse_path(warehouse))


def report_dir(config: Config, warehouse: str | None = None) -> Path:
    return (
        config.resolve(config.report.dir)
        if config.report.dir
        else report_dir_for(warehouse_path(warehouse))
    )


def report(config: ConfigArg = None, warehouse: str | None = None) -> dict[str, Any]:
    """The HTML report of the published BI copy (the snapshot BI tools read, never locked
    by a writer), into `report.dir`; skipped when `report.enabled` is false."""
    from cjm.publish import bi_paths
    from cjm.report import write_reports

    config = config_of(config)
    if not config.report.enabled:
        return {"skipped": "report.enabled is false"}
    bi_duckdb, _ = bi_paths(config, warehouse_path(warehouse))
    source = bi_duckdb if bi_duckdb.exists() else warehouse_path(warehouse)
    return write_reports(source, report_dir(config, warehouse), config)
