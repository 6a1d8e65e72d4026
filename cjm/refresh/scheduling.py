"""The names the Airflow set-up shares: the single-writer pool and the writers' queue.

DuckDB allows one writer *process* per database file. load, every dbt model task,
publish and the alert ledger all open the warehouse, so under LocalExecutor/Celery
they share a one-slot pool (created by `cjm.airflow_env.prepare_airflow_home`, or
`airflow pools set cjm_warehouse 1 ...` on a real installation). On a multi-node set-up
(docker-compose.yml) the writers also go to one Celery queue, served by the single
worker that has the warehouse file; "default" elsewhere.
"""

from __future__ import annotations

import os

WAREHOUSE_POOL = "cjm_warehouse"
WAREHOUSE_POOL_DESCRIPTION = "DuckDB allows one writer process: load, dbt models, publish, alerts"
QUEUE_ENV = "CJM_WAREHOUSE_QUEUE"


def warehouse_queue() -> str:
    return os.environ.get(QUEUE_ENV, "default")
