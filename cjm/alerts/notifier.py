"""The Airflow side of the operations alerts (cjm/alerts/operations.py).

- A failed run: :class:`RefreshFailedNotifier` is cjm_refresh's DAG-level
  ``on_failure_callback``. Airflow calls it once when the run is marked failed, in the
  dag-processor, with the last failed task in the context; so a run with several
  failed tasks (or a task that failed after its retries) sends one message per target.
  A task-level callback would send one per failed task and one per retried failure.
- A late run: an Airflow deadline alert (``DeadlineAlert``, Airflow 3.1+) on the run's
  queued time plus ``alerts.operations.late_after_minutes``; the scheduler records the
  missed deadline and the triggerer awaits :func:`refresh_late` (an ``AsyncCallback``).
  This replaces Airflow 2's SLA misses, which are gone in Airflow 3.

Both read the config (``CJM_CONFIG``) when they fire, so targets changed in the config
need no DAG change.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import BaseNotifier

from cjm.alerts.operations import OperationsEvent, notify_operators
from cjm.core.config import Config, ConfigError, OperationsAlerts, load_config

log = logging.getLogger("cjm.alerts")


def _config(config_path: str) -> Config:
    return load_config(config_path)


class RefreshFailedNotifier(BaseNotifier):
    """``on_failure_callback`` of a DAG: one operations alert per failed run."""

    def __init__(self, config_path: str) -> None:
        super().__init__()
        self.config_path = config_path

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Nothing to render (no template fields). BaseNotifier would still ask the
        context's DAG for a Jinja env, which the serialized DAG `airflow dags test`
        hands the callback does not have."""

    def notify(self, context: Any) -> None:
        dag = context.get("dag")
        ti = context.get("ti") or context.get("task_instance")
        failed = None
        if ti is not None:
            index = getattr(ti, "map_index", -1)
            failed = ti.task_id + (f"[{index}]" if index is not None and index >= 0 else "")
        event = OperationsEvent(
            kind="refresh_failed",
            dag_id=getattr(dag, "dag_id", None) or str(context.get("dag_id", "?")),
            run_id=str(context.get("run_id")),
            reason=context.get("reason"),
            failed_task=failed,
        )
        notify_operators(_config(self.config_path), event)


async def refresh_late(config_path: str, late_minutes: int, context: Any = None) -> None:
    """The deadline alert's callback, awaited in the triggerer when a run is late.

    The senders are blocking provider hooks: they run in a thread, not on the
    triggerer's event loop that every deferred task shares.
    """
    run = (context or {}).get("dag_run") or {}
    event = OperationsEvent(
        kind="refresh_late",
        dag_id=str(run.get("dag_id", "?")),
        run_id=str(run.get("dag_run_id") or run.get("run_id") or "?"),
        late_minutes=late_minutes,
    )
    await asyncio.to_thread(notify_operators, _config(config_path), event)


def _in_dags_test() -> bool:
    """`airflow dags test` runs the DAG in its own process, with no triggerer to await a
    deadline's callback, and Airflow 3.3.2's `DagRun.update_state` there looks the DAG's
    alert objects up as if they were ids and fails the run: no deadline for such a run."""
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    return Path(sys.argv[0]).name == "airflow" and args[:2] == ["dags", "test"]


def refresh_deadline(config_path: str) -> Any:
    """The DeadlineAlert for a DAG's runs, or None when lateness alerts are off."""
    from airflow.sdk.definitions.callback import AsyncCallback
    from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

    try:
        minutes = _config(config_path).alerts.operations.late_after_minutes
    except ConfigError as exc:
        # Read while the DAG file is parsed: a broken config must not hide the DAG (its
        # first task reports the config's errors); the default applies meanwhile.
        log.warning("cjm_refresh deadline: %s; using the default lateness", exc)
        minutes = OperationsAlerts().late_after_minutes
    if minutes is None or _in_dags_test():
        return None
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(minutes=minutes),
        callback=AsyncCallback(
            refresh_late, kwargs={"config_path": config_path, "late_minutes": minutes}
        ),
        name="cjm_refresh_late",
    )
