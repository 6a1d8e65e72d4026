"""The alert step: new incidents → one message per target, recorded in ops.alerts.

Called by the `cjm_alerts` DAG after each published refresh and by `cjm run` as its
last step. Holds the warehouse (DuckDB's single writer) for the whole step, so two
alert runs can never interleave; deliveries are bounded (tries × backoff), which
keeps that short.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb

from cjm.alerts import state
from cjm.alerts.delivery import deliver_with_retries
from cjm.alerts.incidents import Incident, read_incidents
from cjm.alerts.messages import render
from cjm.core.config import Config, NotifyTarget, load_config
from cjm.core.labels import Labels
from cjm.core.warehouse import open_warehouse

log = logging.getLogger("cjm.alerts")


@dataclass
class AlertSummary:
    """What one run did; JSON-friendly for Airflow's XCom and `cjm run`'s report."""

    incidents: int = 0  # incidents within the lookback
    sent: int = 0
    failed: int = 0  # deliveries that failed every try in this run
    already_sent: int = 0  # incident × target pairs a previous run had handled
    unknown: int = 0  # rows found interrupted while sending
    targets: dict[str, dict[str, int]] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def _count(self, target: str, what: str) -> None:
        per = self.targets.setdefault(target, {"sent": 0, "failed": 0, "already_sent": 0})
        per[what] = per.get(what, 0) + 1


def _marts_ready(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'marts' "
        "and table_name in ('negative_spikes', 'mentions')"
    ).fetchone()
    return bool(found and found[0] == 2)


def _wants(target: NotifyTarget, brand: str) -> bool:
    return not target.brands or brand in target.brands


def target_language(cfg: Config, target: NotifyTarget, brand: str) -> str:
    """The target's own language, else the brand's display language (a brand gone from
    the config reads English)."""
    if target.language:
        return target.language
    found = next((b for b in cfg.brands if b.name == brand), None)
    return found.display_language if found else "en"


def run_alerts(
    config: Config | str | Path | None,
    warehouse: str | Path | None,
    sleep: Callable[[float], None] = time.sleep,
) -> AlertSummary:
    """Alert every new incident once per target; returns what was sent, failed, skipped.

    Delivery failures do not raise: they are recorded as `failed` with the error (and
    retried by the next run up to `alerts.max_delivery_rounds`); callers that want a red
    run check `summary.failed`.
    """
    cfg = config if isinstance(config, Config) else load_config(config)
    alerts_cfg = cfg.alerts
    summary = AlertSummary()
    with open_warehouse(warehouse) as con:
        summary.unknown = state.resolve_interrupted(con)
        if not _marts_ready(con):
            log.info("alerts: no marts yet (dbt has not built them); nothing to do")
            return summary
        incidents = read_incidents(con, cfg, examples=alerts_cfg.examples)
        summary.incidents = len(incidents)
        for incident in incidents:
            for target in alerts_cfg.notify:
                if _wants(target, incident.brand):
                    _handle(con, cfg, incident, target, summary, sleep)
    log.info(
        "alerts: %d incident(s), %d sent, %d failed, %d already sent",
        summary.incidents,
        summary.sent,
        summary.failed,
        summary.already_sent,
    )
    return summary


def _handle(
    con: duckdb.DuckDBPyConnection,
    cfg: Config,
    incident: Incident,
    target: NotifyTarget,
    summary: AlertSummary,
    sleep: Callable[[float], None],
) -> None:
    """One incident × one target: the first alert, or once its single update."""
    rule = cfg.alerts.rule_for(incident.brand)
    cooldown = timedelta(hours=rule.cooldown_hours)
    first = state.find_incident_row(
        con, incident.brand, target.key, incident.start, incident.last_spike, cooldown
    )
    if first is None:
        kind, start, first_negatives = "incident", incident.start, None
    elif first.status != "sent":
        kind, start, first_negatives = "incident", first.bucket_start, None
    elif (
        incident.is_closed
        and first.incident_end is not None
        and incident.last_spike > first.incident_end
    ):
        # It grew after the first alert and is now over: one update, never a stream.
        kind, start, first_negatives = "update", first.bucket_start, first.negative_mentions
    else:
        kind, start, first_negatives = "", first.bucket_start, None

    if not kind:
        summary.already_sent += 1
        summary._count(target.key, "already_sent")
        return
    aid = state.alert_id(incident.brand, "all", start, target.key, kind)
    row = state.get(con, aid)
    if row is not None and (
        row.status in ("sent", "unknown")
        or (row.status == "failed" and row.rounds >= cfg.alerts.max_delivery_rounds)
    ):
        summary.already_sent += row.status != "failed"
        summary._count(target.key, "already_sent" if row.status != "failed" else "failed")
        return

    language = target_language(cfg, target, incident.brand)
    message = render(
        incident,
        language,
        kind,
        cfg.alerts.report_base_url,
        first_negatives,
        labels=Labels(language, cfg),
        timezone=cfg.reporting_timezone,
    )
    payload = {**message.body, "subject": message.subject}
    if row is None:
        state.record_intent(
            con,
            alert_id_=aid,
            brand=incident.brand,
            start=start,
            incident_end=incident.last_spike,
            target_key=target.key,
            target_type=target.type,
            language=language,
            kind=kind,
            negative_mentions=incident.negative_mentions,
            baseline=incident.baseline,
            threshold=incident.threshold,
            payload=payload,
        )
    if not state.mark_sending(con, aid, payload, incident.last_spike, incident.negative_mentions):
        summary.already_sent += 1
        return
    ok, tries, error = deliver_with_retries(
        target,
        message,
        aid,
        cfg.alerts.delivery_attempts,
        cfg.alerts.retry_backoff_seconds,
        sleep=sleep,
    )
    state.mark_result(con, aid, ok, tries, error)
    what = "sent" if ok else "failed"
    setattr(summary, what, getattr(summary, what) + 1)
    summary._count(target.key, what)
    summary.alerts.append(
        {
            "alert_id": aid,
            "brand": incident.brand,
            "incident_start": start.isoformat(),
            "target": target.key,
            "kind": kind,
            "status": what,
            "tries": tries,
            "error": error,
        }
    )
    if not ok:
        log.error("alert %s to %s failed after %d tries: %s", aid, target.key, tries, error)
