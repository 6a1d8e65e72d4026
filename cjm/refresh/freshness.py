"""Source freshness, checked by every refresh: a source whose last load is older than
its limit (`alerts.operations.source_max_age_hours`, per source in
`alerts.operations.sources`) is reported in the run and sent to the operators.

Why every refresh and not only the published `ops_source_freshness` table: a source
that silently stops returning rows (an expired token answered with an empty page, a
feed that moved) fails no task, so nothing else would tell anyone. The age is the
time since the source's last loaded batch in ops.validation_runs — the same reading
as `ops_source_freshness.hours_since_load` — and a source never loaded is stale too.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from cjm.alerts.operations import OperationsEvent, notify_operators
from cjm.core.warehouse import open_warehouse
from cjm.refresh.settings import ConfigArg, config_of

log = logging.getLogger("cjm")


def source_ages(warehouse: str | None, now: datetime | None = None) -> dict[str, float]:
    """Hours since each source's last loaded batch (sources never loaded are absent)."""
    now = now or datetime.now(UTC)
    with open_warehouse(warehouse) as con:
        rows = con.execute(
            "select source, max(loaded_at) from ops.validation_runs "
            "where loaded_at is not null group by source"
        ).fetchall()
    return {source: (now - last).total_seconds() / 3600.0 for source, last in rows}


def check_freshness(
    run_id: str,
    config: ConfigArg = None,
    warehouse: str | None = None,
    dag_id: str = "cjm_refresh",
    now: datetime | None = None,
    notify: bool = True,
) -> dict[str, Any]:
    """Every enabled source's age against its limit; alert once when any is stale.

    Returns {"sources": {name: {hours_since_load, max_age_hours, stale}}, "stale":
    [names], "notified": {target: delivered}} — the run's record of the check. It does
    not fail the task: the failure alert would repeat this one. `notify=False` only
    reports (a `cjm run` with its alerts switched off).
    """
    cfg = config_of(config)
    rules = cfg.alerts.operations
    ages = source_ages(warehouse, now)
    sources: dict[str, dict[str, Any]] = {}
    stale: dict[str, tuple[float | None, float]] = {}
    for source in cfg.enabled_sources:
        hours = ages.get(source.name)
        limit = rules.max_age_hours(source.name)
        is_stale = hours is None or hours > limit
        sources[source.name] = {
            "hours_since_load": None if hours is None else round(hours, 2),
            "max_age_hours": limit,
            "stale": is_stale,
        }
        if is_stale:
            stale[source.name] = (hours, limit)
    notified: dict[str, bool] = {}
    if stale and notify:
        log.warning("stale sources: %s", sorted(stale))
        event = OperationsEvent(kind="sources_stale", dag_id=dag_id, run_id=run_id, stale=stale)
        notified = notify_operators(cfg, event)
    return {"sources": sources, "stale": sorted(stale), "notified": notified}


def describe(result: dict[str, Any]) -> str:
    """One line for a person: which sources are stale and by how much."""
    sources = result["sources"]
    if not result["stale"]:
        return f"{len(sources)} source(s) fresh"
    parts = []
    for name in result["stale"]:
        hours = sources[name]["hours_since_load"]
        limit = sources[name]["max_age_hours"]
        parts.append(
            f"{name} (never loaded)" if hours is None else f"{name} ({hours:g} h > {limit:g} h)"
        )
    return "STALE: " + ", ".join(parts)
