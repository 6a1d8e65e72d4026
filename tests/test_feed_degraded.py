"""A truncated feed is not stored for good (issue 12, case 8), through the whole refresh.

Run 1 is served the feed cut inside item 4's description: item 4 loads with its title
only, is not remembered as read, and the run reports the feed as degraded (CLI line,
report, ops.validation_runs). Run 2 is served the whole feed: item 4's full text
replaces the title-only row (raw and marts), and nothing is duplicated.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from cjm.core.contracts import stable_id
from cjm.extractors.rss import _entry_key
from cjm.refresh.pipeline import run_refresh
from tests.pipeline_helpers import FIXTURES, rows, scalar

FEED = (FIXTURES / "http" / "finly_rss2.xml").read_text(encoding="utf-8")
ITEM_4 = "https://finvesti.example/news/2026/09/08/9006"  # no guid: the link is the id
FULL_TEXT = "Finly climbed to No. 1 in the finance category — a first for the raccoon app."
# The body as a dropped connection leaves it: cut inside item 4's description.
CUT = FEED[: FEED.index("Finly climbed to") + len("Finly climbed to")]


def _config(tmp_path: Path, url: str) -> Path:
    fixture = yaml.safe_load((FIXTURES / "config.yml").read_text(encoding="utf-8"))
    source = {"name": "news", "type": "rss", "url": url, "max_tries": 1, "timeout_read": 5}
    # the fixture's brands without their accounts: those name the fixture's own sources
    brands = [{k: v for k, v in b.items() if k != "accounts"} for b in fixture["brands"]]
    config = {
        **{k: v for k, v in fixture.items() if k not in ("sources", "brands")},
        "brands": brands,
        "sources": [source],
    }
    path = tmp_path / "cjm.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.integration
def test_a_truncated_item_is_fetched_again_and_completed(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    bodies = [CUT, FEED]

    def feed(request: Request) -> Response:
        # An ETag on the damaged copy too: the next run must not send it back and get a 304.
        return Response(bodies[0], content_type="application/rss+xml", headers={"ETag": '"v"'})

    httpserver.expect_request("/rss.xml").respond_with_handler(feed)
    config = _config(tmp_path, httpserver.url_for("/rss.xml"))
    warehouse = tmp_path / "warehouse.duckdb"
    said: list[str] = []

    first = run_refresh(
        config, str(warehouse), on_step=lambda s, m: said.append(f"[{s}] {m}"), alert_step=None
    )
    assert first.ok, first.failures
    assert "SAXParseException" in first.degraded["news"]
    assert any(line.startswith("[extract] news: DEGRADED: ") for line in said), said
    item_4 = stable_id("news", ITEM_4)
    assert scalar(warehouse, "select text from raw.mentions where mention_id = ?", [item_4]) == (
        "Finly tops the app charts"  # the title stands in for the text that was cut
    )
    cursor = json.loads(scalar(warehouse, "select cursor from ops.source_state"))
    assert {k for k, _ in cursor["seen"]} == set()  # no entry of the damaged copy counts as read
    assert cursor["feeds"] == {}  # nor its ETag
    ((degraded,),) = rows(warehouse, "select degraded from ops.validation_runs")
    assert "not well-formed" in degraded and "fetched again next run" in degraded

    bodies.pop(0)
    second = run_refresh(config, str(warehouse), alert_step=None)
    assert second.ok and second.degraded == {}
    assert httpserver.log[-1][0].headers.get("If-None-Match") is None
    stored = dict(rows(warehouse, "select native_id, text from raw.mentions"))
    assert set(stored) == {"finvesti.example:9001", "finvesti.example:9004", ITEM_4}
    assert stored[ITEM_4] == FULL_TEXT
    assert scalar(warehouse, "select text from marts.mentions where mention_id = ?", [item_4]) == (
        FULL_TEXT
    )
    assert scalar(warehouse, "select count(*) from marts.mentions") == 3
    loads = rows(
        warehouse,
        "select rows_inserted, rows_updated, rows_unchanged, degraded from ops.validation_runs "
        "where run_id = ?",
        [second.run_id],
    )
    assert loads == [(0, 1, 2, None)]  # item 4 updated in place, the other two unchanged
    cursor = json.loads(scalar(warehouse, "select cursor from ops.source_state"))
    assert _entry_key(ITEM_4) in {k for k, _ in cursor["seen"]}
    assert cursor["feeds"] == {"": {"etag": '"v"'}}
