"""
### cjm_alerts — negative-mention spikes → Slack / Telegram / e-mail / webhook, once each

Runs whenever `cjm_refresh` publishes fresh marts (scheduled on the
`cjm.bi.marts.negative_spikes` asset, not on a clock). One task calls
`alerts.run_alerts`: incidents from `marts.negative_spikes` (spike hours merged by
the cooldown), one message per incident and notify target (plus at most one
update when an incident that grew is over), recorded in `ops.alerts` before and
after sending, so a retry, a re-run or a backfill never sends a spike twice.

A delivery that fails all its tries is recorded as `failed` and fails this task,
so the run is red and Airflow's retry tries it again (bounded by
`alerts.max_delivery_rounds`). Targets are Airflow connections named in the
config's `alerts.notify`. Environment: `CJM_CONFIG`, `CJM_WAREHOUSE`.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import Asset, dag, task

from cjm.refresh.scheduling import WAREHOUSE_POOL, warehouse_queue

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_PATH = str(Path(os.environ.get("CJM_CONFIG", REPO_ROOT / "config" / "cjm.yml")).resolve())
WAREHOUSE = str(
    Path(os.environ.get("CJM_WAREHOUSE", REPO_ROOT / "data" / "warehouse.duckdb")).resolve()
)
# The same single-writer pool as cjm_refresh (this task writes ops.alerts) and queue.
WAREHOUSE_QUEUE = warehouse_queue()
# Published by cjm_refresh's publish task; referenced by name so the two DAG files
# cannot disagree on the URI.
NEGATIVE_SPIKES = Asset.ref(name="cjm.bi.marts.negative_spikes")


@dag(
    dag_id="cjm_alerts",
    schedule=[NEGATIVE_SPIKES],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    # Two runs at once would only queue on the warehouse lock; one is enough.
    max_active_runs=1,
    tags=["cjm", "alerts"],
    doc_md=__doc__,
    default_args={
        "owner": "cjm",
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(minutes=15),
    },
)
def cjm_alerts() -> None:
    @task(pool=WAREHOUSE_POOL, queue=WAREHOUSE_QUEUE)
    def send_alerts() -> dict[str, Any]:
        from cjm.alerts import run_alerts

        summary = run_alerts(CONFIG_PATH, WAREHOUSE)
        if summary.failed:
            raise RuntimeError(
                f"{summary.failed} alert deliveries failed after retries (recorded as failed "
                f"in ops.alerts): {[a for a in summary.alerts if a['status'] == 'failed']}"
            )
        return summary.to_dict()

    send_alerts()


cjm_alerts()
