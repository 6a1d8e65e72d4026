"""One full refresh without a scheduler: the same task functions, in the DAG's order."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cjm.core.config import Config, ConfigError, CrmApiSource, FileSource
from cjm.core.contracts import customer_key_secret
from cjm.core.landing import remove_dead_temp_files, safe_run_id
from cjm.core.warehouse import WarehouseBusy, warehouse_path
from cjm.refresh import settings, tasks
from cjm.refresh.freshness import check_freshness
from cjm.refresh.freshness import describe as describe_freshness
from cjm.refresh.lock import run_lock
from cjm.refresh.settings import ConfigArg, config_of, unwritable

log = logging.getLogger("cjm")


@dataclass
class RunReport:
    run_id: str
    steps: dict[str, float] = field(default_factory=dict)  # step → seconds
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)  # source/step → one line
    # sources read only in part (a malformed feed) → why; loaded, and re-read next run
    degraded: dict[str, str] = field(default_factory=dict)
    dbt: dict[str, Any] = field(default_factory=dict)
    published: dict[str, Any] = field(default_factory=dict)
    alerts: dict[str, Any] = field(default_factory=dict)
    # each source's age against alerts.operations (cjm/refresh/freshness.py)
    freshness: dict[str, Any] = field(default_factory=dict)
    pages: dict[str, Any] = field(default_factory=dict)  # the HTML report written

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2, default=str, ensure_ascii=False)


def needs_customer_secret(config: Config) -> bool:
    return any(
        isinstance(s, CrmApiSource) or (isinstance(s, FileSource) and s.entity == "crm_event")
        for s in config.enabled_sources
    )


def _default_alerts(config: Config, warehouse: str | None) -> Any:
    from cjm.alerts import run_alerts

    return run_alerts(config, warehouse)


def run_refresh(
    config: ConfigArg,
    warehouse: str | None,
    run_id: str | None = None,
    on_step: Callable[[str, str], None] | None = None,
    alert_step: Callable[[Config, str | None], Any] | None = _default_alerts,
    lock_wait: float | None = None,
    build_always: bool = False,
) -> RunReport:
    """extract → validate → load → dbt build → publish → report → alerts; a failing
    source fails alone.

    The config is read once here and the object handed to every step. One refresh per
    warehouse at a time: a second waits up to `lock_wait` seconds (default
    `CJM_RUN_LOCK_WAIT` or 600), then raises RunLocked. dbt is skipped when nothing it
    reads changed since its last successful build, unless `build_always`."""
    config = config_of(config)
    if needs_customer_secret(config):
        customer_key_secret()  # stop before any work with one clear line
    run_id = run_id or tasks.new_run_id()
    say = on_step or (lambda step, msg: log.info("%s: %s", step, msg))
    problem = unwritable(tasks.landing_root(config, warehouse))
    if problem:  # one line before any work, not a traceback from the first extract
        raise ConfigError("paths.landing", [problem])
    with run_lock(warehouse_path(warehouse), run_id, lock_wait, lambda m: say("lock", m)):
        for tmp in remove_dead_temp_files(tasks.landing_root(config, warehouse)):
            log.info("removed %s, left by a run that died", tmp)
        return _refresh(config, warehouse, run_id, say, alert_step, build_always)


def _refresh(
    config: Config,
    warehouse: str | None,
    run_id: str,
    say: Callable[[str, str], None],
    alert_step: Callable[[Config, str | None], Any] | None,
    build_always: bool = False,
) -> RunReport:
    report = RunReport(run_id=run_id)

    def timed(step: str, fn: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            return fn()
        finally:
            report.steps[step] = report.steps.get(step, 0.0) + round(
                time.perf_counter() - started, 3
            )

    # A ${VAR} or an Airflow connection that does not resolve: one line naming the YAML
    # path; a source with one fails alone before it is read.
    unresolved = settings.unresolved_references(config)
    blocked = settings.by_source(config, unresolved)
    for where, line in unresolved:
        if not where.startswith("sources["):
            say("config", f"WARNING {where}: {line}")
    extracted: list[str] = []
    for name in tasks.list_sources(config):
        if name in blocked:
            report.failures[name] = blocked[name]
            say("extract", f"{name}: FAILED: {blocked[name]}")
            continue
        try:
            m = timed("extract", lambda n=name: tasks.extract(n, run_id, config, warehouse))
            report.sources[name] = {
                "extracted": m["rows_extracted"],
                "off_brand": m["rows_off_brand"],
            }
            extracted.append(name)
            off = f", {m['rows_off_brand']} off-brand" if m["rows_off_brand"] else ""
            say("extract", f"{name}: {m['rows_extracted']} rows{off}")
            for note in m.get("notes") or []:  # what a user should see: warnings, PII counts
                if note.startswith(("WARNING", "personal data")):
                    say("extract", f"{name}: {note}")
            if m.get("degraded"):
                report.degraded[name] = m["degraded"]
                say("extract", f"{name}: DEGRADED: {m['degraded']}")
        except WarehouseBusy:  # not this source's fault: the whole run waits or stops
            raise
        except Exception as exc:
            report.failures[name] = f"extract failed: {exc}"
            say("extract", f"{name}: FAILED: {exc}")
    for name in extracted:
        try:
            m = timed("validate", lambda n=name: tasks.validate(n, run_id, config, warehouse))
            report.sources[name].update(
                passed=m["rows_passed"],
                quarantined=m["rows_quarantined"],
                duplicates=m["rows_duplicate"],
            )
            say(
                "validate",
                f"{name}: {m['rows_passed']} passed, "
                f"{m['rows_quarantined']} quarantined, {m['rows_duplicate']} duplicate",
            )
        except tasks.AllRowsRejected as exc:
            report.failures[name] = str(exc)
            say("validate", f"{name}: FAILED: {exc}")
        except Exception as exc:
            report.failures[name] = f"validate failed: {exc}"
            say("validate", f"{name}: FAILED: {exc}")
    loaded = timed("load", lambda: tasks.load(run_id, config, warehouse))
    for name, counts in loaded["batches"].items():
        report.sources.setdefault(name, {}).update(load=counts)
    for name, why in loaded["failed"].items():
        report.failures.setdefault(name, why)
    say("load", ", ".join(f"{k}: {v}" for k, v in loaded["batches"].items()) or "nothing")
    # As the DAG's check_freshness task: a source that stopped returning rows fails no
    # step, so its age is what tells; sent to the operators when alerts are on.
    report.freshness = timed(
        "freshness",
        lambda: check_freshness(
            run_id, config, warehouse, dag_id="cjm run", notify=alert_step is not None
        ),
    )
    say("freshness", describe_freshness(report.freshness))
    report.dbt = timed(
        "dbt build", lambda: tasks.build_marts(warehouse, run_id=run_id, always=build_always)
    )
    if report.dbt.get("skipped"):
        say("dbt build", f"skipped: nothing dbt reads changed since run {report.dbt['skipped']}")
    else:
        say("dbt build", f"{report.dbt['nodes']} in {report.dbt['seconds']} s")
    one_sided = tasks.one_sided_channels(warehouse)
    if any(one_sided.values()):
        say(
            "channels",
            "seen on one side only (marts.channel_coverage) — mentions only: "
            f"{', '.join(one_sided['mentions_only']) or '-'}; CRM only: "
            f"{', '.join(one_sided['crm_only']) or '-'}",
        )
    report.published = timed("publish", lambda: tasks.publish(config, warehouse))
    published = report.published
    where = [
        published["duckdb"],
        published["parquet_dir"],
        (published["postgres"] or {}).get("target"),
    ]
    say("publish", f"{len(published['rows'])} tables → {', '.join(w for w in where if w)}")
    for target, why in published["failed"].items():
        report.failures[f"publish.{target}"] = why
        say("publish", f"{target}: FAILED: {why}")
    # The report before the alerts, so the page an alert links to exists when it is read.
    try:
        report.pages = timed("report", lambda: tasks.report(config, warehouse))
        say("report", report.pages.get("index") or report.pages.get("skipped", ""))
    except Exception as exc:  # a page that cannot be drawn must not stop the alerts
        log.exception("report failed")
        report.failures["report"] = f"report failed: {exc}"
        say("report", f"FAILED: {exc}")
    if alert_step is not None:
        summary = timed("alerts", lambda: alert_step(config, warehouse))
        report.alerts = summary.to_dict()
        say(
            "alerts",
            f"{report.alerts.get('incidents')} incident(s), sent "
            f"{report.alerts.get('sent')}, failed {report.alerts.get('failed')}",
        )
        if summary.failed:
            report.failures["alerts"] = (
                f"{summary.failed} delivery(ies) failed after retries; recorded in ops.alerts"
            )
    runs_dir = Path(tasks.landing_root(config, warehouse)) / "_runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    (runs_dir / f"{safe_run_id(run_id)}.json").write_text(report.to_json(), encoding="utf-8")
    return report
