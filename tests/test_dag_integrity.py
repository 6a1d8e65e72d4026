"""Every DAG in dags/ imports cleanly and cjm_refresh is wired as documented.

Cheap (one DagBag parse in a child process, no task runs), so it runs with the
unit tests: a typo in a DAG file or a Cosmos/Airflow upgrade that changes
rendering fails here, not on the scheduler. Airflow 3.3's DagBag has no
``include_examples`` argument any more; examples stay out because the isolated
AIRFLOW_HOME sets ``AIRFLOW__CORE__LOAD_EXAMPLES=False``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cjm.refresh.marts import MART_TABLES
from cjm.refresh.scheduling import WAREHOUSE_POOL
from tests.airflow_fixtures import AirflowHome, airflow_home, describe_dags

__all__ = ["airflow_home"]  # re-exported so pytest finds the fixture

MARTS = MART_TABLES


@pytest.fixture(scope="module")
def dagbag(airflow_home: AirflowHome, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    # Paths that do not exist: parsing must not open the config or the warehouse.
    missing = tmp_path_factory.mktemp("nothing_here")
    env = airflow_home.with_env(
        CJM_CONFIG=str(missing / "no_such_config.yml"),
        CJM_WAREHOUSE=str(missing / "no_such_dir" / "warehouse.duckdb"),
    )
    return describe_dags(env, tmp_path_factory.mktemp("dagbag"))


@pytest.fixture(scope="module")
def refresh(dagbag: dict[str, Any]) -> dict[str, Any]:
    assert "cjm_refresh" in dagbag["dags"], sorted(dagbag["dags"])
    return dagbag["dags"]["cjm_refresh"]


def test_no_import_errors(dagbag: dict[str, Any]) -> None:
    assert dagbag["import_errors"] == {}


def test_every_dag_has_tags_and_retries(dagbag: dict[str, Any]) -> None:
    for dag_id, dag in dagbag["dags"].items():
        assert dag["tags"], f"{dag_id} has no tags"
        assert dag["has_doc_md"], f"{dag_id} has no doc_md"
        retried = [t for t in dag["tasks"].values() if t["retries"] > 0]
        assert retried, f"{dag_id}: no task has retries"


def test_refresh_schedule_and_tags(refresh: dict[str, Any]) -> None:
    assert {"cjm", "warehouse", "dbt"} <= set(refresh["tags"])
    assert refresh["catchup"] is False
    assert refresh["max_active_runs"] == 1
    assert refresh["schedule"] is not None


def test_refresh_task_ids(refresh: dict[str, Any]) -> None:
    tasks = refresh["tasks"]
    expected = {"list_sources", "ingest.extract", "ingest.validate", "load", "publish"}
    assert expected | {"check_sources"} <= set(tasks)
    # One mapped extract/validate pair per source.
    assert tasks["ingest.extract"]["in_mapped_group"]
    assert tasks["ingest.validate"]["in_mapped_group"]
    assert tasks["ingest.validate"]["upstream"] == ["ingest.extract", "list_sources"]
    for task_id in expected:
        assert tasks[task_id]["retries"] == 2, task_id
    # Reporting a failed source is not worth retrying.
    assert tasks["check_sources"]["retries"] == 0


def test_load_waits_for_all_sources_whatever_their_outcome(refresh: dict[str, Any]) -> None:
    load = refresh["tasks"]["load"]
    assert load["trigger_rule"] == "all_done"
    assert "ingest.validate" in load["upstream"]
    check = refresh["tasks"]["check_sources"]
    assert check["trigger_rule"] == "all_done"
    assert check["upstream"] == ["load"]


def test_operators_hear_of_failed_late_and_stale_refreshes(refresh: dict[str, Any]) -> None:
    assert refresh["on_failure_callback"] == "RefreshFailedNotifier"
    # the fixture config sets no alerts.operations: the default lateness applies
    assert refresh["deadlines"] == [
        {
            "reference": "DagRunQueuedAtDeadline",
            "minutes": 90.0,
            "callback": "cjm.alerts.notifier.refresh_late",
        }
    ]
    fresh = refresh["tasks"]["check_freshness"]
    assert fresh["upstream"] == ["load"] and fresh["trigger_rule"] == "all_done"
    assert fresh["pool"] == "cjm_warehouse"


def test_dbt_task_group_renders_every_mart(refresh: dict[str, Any]) -> None:
    assert "dbt" in refresh["task_groups"]
    dbt_tasks = {k: v for k, v in refresh["tasks"].items() if k.startswith("dbt.")}
    for mart in MARTS:
        assert f"dbt.{mart}_model_build" in dbt_tasks, f"mart {mart} not rendered"
    # The first dbt tasks wait for load; publish waits for the last ones.
    roots = [
        k for k, v in dbt_tasks.items() if not any(u.startswith("dbt.") for u in v["upstream"])
    ]
    assert roots
    for root in roots:
        assert "load" in dbt_tasks[root]["upstream"], root
    assert any(u.startswith("dbt.") for u in refresh["tasks"]["publish"]["upstream"])


def test_warehouse_writers_share_the_single_slot_pool(refresh: dict[str, Any]) -> None:
    tasks = refresh["tasks"]
    writers = ["load", "publish", *(k for k in tasks if k.startswith("dbt."))]
    for task_id in writers:
        assert tasks[task_id]["pool"] == WAREHOUSE_POOL, task_id
    # Landing-file steps stay parallel.
    for task_id in ("ingest.extract", "ingest.validate"):
        assert tasks[task_id]["pool"] != WAREHOUSE_POOL


def test_publish_updates_one_asset_per_mart(refresh: dict[str, Any]) -> None:
    outlets = set(refresh["tasks"]["publish"]["outlets"])
    assert outlets == {f"duckdb://cjm/bi/marts/{mart}" for mart in MARTS}


def test_parsing_is_cheap(dagbag: dict[str, Any]) -> None:
    # The first parse runs `dbt ls` (~4 s; cached in an Airflow Variable afterwards).
    assert dagbag["parse_seconds"] < 60


def test_dags_folder_is_the_projects(airflow_home: AirflowHome) -> None:
    assert Path(airflow_home.env["AIRFLOW__CORE__DAGS_FOLDER"]).name == "dags"
    assert airflow_home.env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"


def test_report_follows_publish_outside_the_writer_pool(refresh: dict[str, Any]) -> None:
    # It reads the published BI copy, which no writer holds, so it needs no pool slot.
    report = refresh["tasks"]["report"]
    assert report["upstream"] == ["publish"]
    assert report["pool"] != WAREHOUSE_POOL
    assert report["retries"] == 2
