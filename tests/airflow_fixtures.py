"""Fixtures and helpers for the Airflow tests (imported by them, kept out of conftest.py).

Airflow reads its configuration once per process, when `airflow` is first
imported, and other tests in the same pytest process may import it first with
other settings. So everything Airflow does here runs in child processes against
a throw-away AIRFLOW_HOME: `airflow db migrate`, a DagBag dump, `airflow dags test`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cjm.airflow_env import DAGS_FOLDER, PROJECT_ROOT, prepare_airflow_home

FIXTURE_CONFIG = PROJECT_ROOT / "tests" / "fixtures" / "config.yml"


@dataclass(frozen=True)
class AirflowHome:
    """A migrated, isolated Airflow installation and the env that selects it."""

    home: Path
    env: dict[str, str] = field(repr=False)

    def with_env(self, **extra: str) -> dict[str, str]:
        return {**self.env, **extra}


# Test modules import the fixture below, and pytest then treats each import as its
# own session fixture; this cache keeps it to one `airflow db migrate` per session.
_PREPARED: dict[str, AirflowHome] = {}


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    """A migrated AIRFLOW_HOME (~5-10 s), shared by every Airflow test of the session."""
    if "home" not in _PREPARED:
        home = tmp_path_factory.mktemp("airflow_home")
        env = prepare_airflow_home(home, dags_folder=DAGS_FOLDER)
        # Paths only; the integration tests point CJM_WAREHOUSE at their own files.
        env.update(
            {
                "CJM_CONFIG": str(FIXTURE_CONFIG),
                "CJM_WAREHOUSE": str(home / "warehouse.duckdb"),
                "CJM_CUSTOMER_KEY_SECRET": "test",
            }
        )
        env.pop("CJM_LANDING", None)
        _PREPARED["home"] = AirflowHome(home=home, env=env)
    return _PREPARED["home"]


# Runs in a child process: parse dags/ with a DagBag and write what the tests check.
_DESCRIBE = r"""
import json, sys, time
from airflow.dag_processing.dagbag import DagBag

started = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
seconds = time.perf_counter() - started
dags = {}
for dag_id, dag in bag.dags.items():
    tasks = {}
    for t in dag.tasks:
        tasks[t.task_id] = {
            "task_type": type(t).__name__,
            "pool": t.pool,
            "retries": t.retries,
            "trigger_rule": str(getattr(t.trigger_rule, "value", t.trigger_rule)),
            "in_mapped_group": t.get_closest_mapped_task_group() is not None,
            "upstream": sorted(t.upstream_task_ids),
            "outlets": sorted(getattr(o, "uri", str(o)) for o in t.outlets),
        }
    dags[dag_id] = {
        "tags": sorted(dag.tags),
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "schedule": str(dag.schedule) if dag.schedule is not None else None,
        "has_doc_md": bool(dag.doc_md),
        "on_failure_callback": type(dag.on_failure_callback).__name__,
        "deadlines": [
            {"reference": d.reference.reference_name, "minutes": d.interval.total_seconds() / 60,
             "callback": d.callback.path}
            for d in (dag.deadline if isinstance(dag.deadline, list) else [dag.deadline])
            if d is not None
        ],
        "task_groups": sorted(dag.task_group_dict),
        "tasks": tasks,
    }
out = {"import_errors": bag.import_errors, "parse_seconds": seconds, "dags": dags}
with open(sys.argv[2], "w", encoding="utf-8") as fh:
    json.dump(out, fh, default=str)
"""


def describe_dags(env: dict[str, str], out_dir: Path, timeout: float = 300) -> dict[str, Any]:
    """Parse dags/ in a child process; return import errors, parse time and the DAGs."""
    out = out_dir / "dagbag.json"
    proc = subprocess.run(
        [sys.executable, "-c", _DESCRIBE, env["AIRFLOW__CORE__DAGS_FOLDER"], str(out)],
        env=env,
        cwd=out_dir,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0 or not out.exists():
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
        raise AssertionError(f"DagBag child process failed ({proc.returncode}):\n{tail}")
    return json.loads(out.read_text(encoding="utf-8"))
