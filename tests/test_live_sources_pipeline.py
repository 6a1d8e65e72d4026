"""Live HTTP sources through the whole refresh: a failing CRM API fails alone.

Two refreshes against a local server: the first with every source healthy, the
second with the CRM API down (HTTP 500 on every try). The feed, the file
sources and the marts still refresh, the report names the failure, and the
CRM's bookmark in ops.source_state stays where the last good load left it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from cjm.refresh.pipeline import run_refresh
from tests.pipeline_helpers import FIXTURES, rows, scalar

HTTP = FIXTURES / "http"
FAST = {"max_tries": 2, "backoff_seconds": 0.01, "timeout_read": 5}


def _config(tmp_path: Path, base_url: str) -> Path:
    fixture = yaml.safe_load((FIXTURES / "config.yml").read_text(encoding="utf-8"))
    files = []
    for src in fixture["sources"]:
        assert src["type"] == "file"
        files.append({**src, "path": str(FIXTURES / src["path"])})
    config = {
        **{k: v for k, v in fixture.items() if k != "sources"},
        "sources": [
            {"name": "news", "type": "rss", "url": f"{base_url}/rss.xml", **FAST},
            {
                "name": "crm_live",
                "type": "crm_api",
                "url": f"{base_url}/api/v1/events",
                "records": "data",
                "pagination": {"type": "page", "size_param": "per_page", "size": 3},
                "since_param": "updated_since",
                "columns": {
                    "native_id": "id",
                    "customer_key": "contact.email",
                    "event_type": "type",
                    "occurred_at": "created_at",
                    "channel": "utm.source",
                    "campaign": "utm.campaign",
                    "amount": "amount",
                },
                **FAST,
            },
            *files,
        ],
    }
    path = tmp_path / "cjm.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _serve_feed(httpserver: HTTPServer) -> None:
    body = (HTTP / "finly_rss2.xml").read_bytes()

    def feed(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(body, content_type="application/rss+xml", headers={"ETag": '"v1"'})

    httpserver.expect_request("/rss.xml").respond_with_handler(feed)


def _state(warehouse: Path, source: str) -> tuple | None:
    found = rows(
        warehouse, "select cursor, updated_at from ops.source_state where source = ?", [source]
    )
    return found[0] if found else None


@pytest.mark.integration
def test_a_failing_crm_api_does_not_stop_the_other_sources(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    config = _config(tmp_path, httpserver.url_for("").rstrip("/"))
    warehouse = tmp_path / "warehouse.duckdb"

    # Run 1: everything healthy.
    _serve_feed(httpserver)
    for n in (1, 2, 3):
        httpserver.expect_request(
            "/api/v1/events", query_string={"per_page": "3", "page": str(n)}
        ).respond_with_json(json.loads((HTTP / f"crm_page_{n}.json").read_text(encoding="utf-8")))
    first = run_refresh(str(config), str(warehouse))
    assert "crm_live" not in first.failures and "news" not in first.failures, first.failures
    assert scalar(warehouse, "select count(*) from raw.crm_events where source = 'crm_live'") == 7
    assert scalar(warehouse, "select count(*) from raw.mentions where source = 'news'") == 3
    crm_state = _state(warehouse, "crm_live")
    assert crm_state is not None
    assert json.loads(crm_state[0])["since"] == "2026-09-06T10:00:00Z"

    # Run 2: the CRM API answers 500 to every try; the feed has not changed (304).
    httpserver.clear()
    _serve_feed(httpserver)
    httpserver.expect_request("/api/v1/events").respond_with_data("maintenance", status=500)
    second = run_refresh(str(config), str(warehouse))

    assert set(second.failures) == {"crm_live"}, second.failures
    assert "HTTP 500" in second.failures["crm_live"]
    assert "gave up after 2 tries" in second.failures["crm_live"]
    assert _state(warehouse, "crm_live") == crm_state  # the bookmark did not move
    for source, table, n in (
        ("news", "raw.mentions", 3),
        ("listening", "raw.mentions", 40),
        ("media", "raw.mentions", 20),
        ("crm", "raw.crm_events", 51),
        ("crm_live", "raw.crm_events", 7),  # what run 1 loaded is still there
    ):
        assert scalar(warehouse, f"select count(*) from {table} where source = ?", [source]) == n
    assert scalar(warehouse, "select count(*) from marts.cjm") > 0
    assert second.sources["news"]["extracted"] == 0  # one 304, nothing new
    statuses = [r.status_code for _, r in httpserver.log]
    assert statuses.count(304) == 1 and statuses.count(500) == 2
