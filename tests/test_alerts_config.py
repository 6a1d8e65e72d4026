"""The alerts section of the config, the DAG file, and the rules the loader hands dbt."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cjm.core.config import ConfigError, SpikeRule, parse_config
from cjm.core.warehouse import ensure_schema
from cjm.loader import sync_config
from cjm.refresh.scheduling import WAREHOUSE_POOL

REPO = Path(__file__).resolve().parents[1]


def _config(alerts: dict[str, Any]) -> Any:
    return parse_config(
        {
            "brands": [{"name": "Acme", "keywords": ["acme"]}, {"name": "Beta", "keywords": ["b"]}],
            "sources": [{"name": "x", "type": "rss", "url": "http://127.0.0.1/rss"}],
            # (sync_config cannot write an empty event_stages mapping yet)
            "stages": {"event_stages": {"lead": "consideration"}},
            "alerts": alerts,
        }
    )


def test_per_brand_overrides_apply_on_top_of_the_defaults() -> None:
    config = _config({"spike": {"min_count": 6}, "brands": {"Acme": {"z": 6, "min_share": 0.5}}})
    acme, beta = config.alerts.rule_for("Acme"), config.alerts.rule_for("Beta")
    assert (acme.min_count, acme.z, acme.min_share) == (6, 6.0, 0.5)
    assert (beta.min_count, beta.z, beta.min_share) == (6, SpikeRule().z, 0.3)


@pytest.mark.parametrize(
    ("alerts", "message"),
    [
        ({"brands": {"Acme": {"bucket": "day"}}}, "alerts: brands.Acme: unknown or not"),
        ({"brands": {"Acme": {"min_share": 2}}}, "brands.Acme.min_share"),
        ({"notify": [{"type": "email", "airflow_conn": "smtp"}]}, "notify[0]: to: an email"),
        (
            {
                "notify": [
                    {"type": "slack", "airflow_conn": "a"},
                    {"type": "slack", "airflow_conn": "a"},
                ]
            },
            "duplicate target",
        ),
    ],
)
def test_bad_alert_settings_are_named(alerts: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        _config(alerts)
    assert message in str(err.value)


def test_loader_writes_every_brands_resolved_rule() -> None:
    config = _config({"brands": {"Acme": {"min_count": 9}}})
    con = duckdb.connect()
    ensure_schema(con)
    sync_config(con, config)
    (value,) = con.execute("select value from config.settings where key = 'spike_rules'").fetchone()
    rules = {r["brand"]: r for r in json.loads(value)}
    assert set(rules) == {"*", "Acme", "Beta"}
    assert (rules["Acme"]["min_count"], rules["Beta"]["min_count"]) == (9, 5)


def test_alerts_dag_loads_and_waits_for_the_marts_asset() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags" / "cjm_alerts.py"))
    assert bag.import_errors == {}
    dag = bag.dags["cjm_alerts"]
    assert "alerts" in dag.tags
    assert dag.max_active_runs == 1
    (task,) = dag.tasks
    assert task.pool == WAREHOUSE_POOL and task.retries == 2
    assert "cjm.bi.marts.negative_spikes" in repr(dag.timetable.asset_condition)
