"""Alerts for the people who run the refresh: a failed run, a late run, stale sources.

They go to the same `alerts.notify` targets as spike alerts, through the same senders
and retries (cjm/alerts/delivery.py), one message per event and target. They are not
written to ops.alerts: the failure and lateness callbacks run in Airflow's
dag-processor and triggerer, which must not open the warehouse (its single writer may
be busy), and each of them fires once per run by Airflow's own bookkeeping.

The Airflow side is cjm/alerts/notifier.py; the freshness check is
`cjm.refresh.tasks.check_freshness`.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from typing import Any, Literal

from cjm.alerts.delivery import deliver_with_retries
from cjm.core.config import Config, NotifyTarget

log = logging.getLogger("cjm.alerts")

Kind = Literal["refresh_failed", "refresh_late", "sources_stale"]

# The headline of each kind, in the languages messages are written in.
HEADLINES: dict[Kind, dict[str, str]] = {
    "refresh_failed": {
        "en": "CJM refresh failed",
        "ru": "Обновление CJM завершилось с ошибкой",
    },
    "refresh_late": {
        "en": "CJM refresh is late",
        "ru": "Обновление CJM опаздывает",
    },
    "sources_stale": {
        "en": "CJM sources are stale",
        "ru": "Источники CJM давно не обновлялись",
    },
}
LABELS: dict[str, dict[str, str]] = {
    "run": {"en": "run", "ru": "запуск"},
    "reason": {"en": "reason", "ru": "причина"},
    "task": {"en": "failed task", "ru": "упавшая задача"},
    "late": {
        "en": "not finished {minutes} min after it was queued",
        "ru": "не завершён через {minutes} мин после постановки в очередь",
    },
    "stale": {
        "en": "{source}: last loaded {age}, limit {limit} h",
        "ru": "{source}: последняя загрузка {age}, предел {limit} ч",
    },
    "never": {"en": "never", "ru": "ни разу"},
    "hours_ago": {"en": "{hours} h ago", "ru": "{hours} ч назад"},
}


@dataclass(frozen=True)
class OperationsEvent:
    """What happened, in fields; each target gets it rendered in its own language."""

    kind: Kind
    dag_id: str
    run_id: str
    reason: str | None = None
    failed_task: str | None = None
    late_minutes: int | None = None
    # source -> (hours since its last load or None when never loaded, its limit in hours)
    stale: dict[str, tuple[float | None, float]] | None = None

    def key(self) -> str:
        return f"{self.kind}:{self.dag_id}:{self.run_id}"

    def lines(self, language: str) -> list[str]:
        def label(name: str) -> str:
            return LABELS[name].get(language, LABELS[name]["en"])

        out = [f"{label('run')}: {self.dag_id} / {self.run_id}"]
        if self.failed_task:
            out.append(f"{label('task')}: {self.failed_task}")
        if self.reason:
            out.append(f"{label('reason')}: {self.reason}")
        if self.late_minutes is not None:
            out.append(label("late").format(minutes=self.late_minutes))
        for source, (hours, limit) in sorted((self.stale or {}).items()):
            age = (
                label("never") if hours is None else label("hours_ago").format(hours=f"{hours:.1f}")
            )
            out.append(label("stale").format(source=source, age=age, limit=f"{limit:g}"))
        return out

    def to_json(self) -> dict[str, Any]:
        stale = {
            s: {"hours_since_load": h, "max_age_hours": limit}
            for s, (h, limit) in (self.stale or {}).items()
        }
        return {
            "kind": self.kind,
            "dag_id": self.dag_id,
            "run_id": self.run_id,
            "reason": self.reason,
            "failed_task": self.failed_task,
            "late_minutes": self.late_minutes,
            "stale_sources": stale,
        }


def _language(cfg: Config, target: NotifyTarget) -> str:
    """The target's language, else the own brand's: operators read the team's language."""
    if target.language:
        return target.language
    own = next((b for b in cfg.brands if b.role == "own"), None)
    return own.display_language if own else "en"


def render(event: OperationsEvent, language: str) -> Any:
    from cjm.alerts.messages import Message

    headline = HEADLINES[event.kind].get(language, HEADLINES[event.kind]["en"])
    lines = event.lines(language)
    text = "\n".join([headline, *lines])
    body_html = "<b>" + html.escape(headline) + "</b>\n" + "\n".join(html.escape(x) for x in lines)
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": headline}},
        {"type": "section", "text": {"type": "plain_text", "text": "\n".join(lines)}},
    ]
    body = {**event.to_json(), "text": text, "language": language}
    return Message(
        subject=f"[CJM] {headline}: {event.run_id}",
        text=text,
        html=body_html,
        slack_blocks=blocks,
        body=body,
    )


def notify_operators(cfg: Config, event: OperationsEvent) -> dict[str, bool]:
    """Send ``event`` to every `alerts.notify` target; target key -> delivered.

    Never raises for a target that cannot be reached (it is logged): a failing
    notification must not hide the failure it reports, nor fail the task that checks.
    """
    rules = cfg.alerts
    results: dict[str, bool] = {}
    for target in rules.notify:
        message = render(event, _language(cfg, target))
        ok, tries, error = deliver_with_retries(
            target, message, event.key(), rules.delivery_attempts, rules.retry_backoff_seconds
        )
        results[target.key] = ok
        if ok:
            log.info("operations alert %s sent to %s (%d tries)", event.key(), target.key, tries)
        else:
            log.error("operations alert %s to %s failed: %s", event.key(), target.key, error)
    return results
