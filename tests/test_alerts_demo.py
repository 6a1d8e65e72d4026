"""`cjm demo` end to end: the planted incident (2026-10-14 07:00-10:00 UTC) is one
incident and one alert, delivered to the demo's local receiver, once."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from cjm.demo.receiver import run_demo_alerts

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.integration
def test_demo_incident_is_alerted_exactly_once(tmp_path: Path) -> None:
    wh = tmp_path / "warehouse.duckdb"
    cjm = Path(sys.executable).with_name("cjm")
    # `cjm demo` itself runs the alert step against the local receiver it starts.
    subprocess.run([str(cjm), "demo", "--warehouse", str(wh)], cwd=REPO, check=True,
                   capture_output=True)  # fmt: skip
    out = tmp_path / "demo_alerts.jsonl"
    assert out.exists(), "the demo's local receiver got nothing"
    config = REPO / "config" / "demo.yml"
    again = run_demo_alerts(str(config), wh, out)  # a retried alert step sends nothing
    assert (again.incidents, again.sent, again.already_sent) == (1, 0, 1)

    (got,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    incident = got["body"]["incident"]
    start = datetime.fromisoformat(incident["start"])
    assert datetime(2026, 10, 14, 7, tzinfo=UTC) <= start <= datetime(2026, 10, 14, 9, tzinfo=UTC)
    assert datetime.fromisoformat(incident["end"]) <= datetime(2026, 10, 14, 10, tzinfo=UTC)
    assert incident["topics"][0]["topic"] in {"app_stability", "support_quality"}
    with duckdb.connect(str(wh), read_only=True) as con:
        rows = con.execute("select status, kind from ops.alerts").fetchall()
    assert rows == [("sent", "incident")]
