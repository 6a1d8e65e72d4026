"""The demo server: real-format feeds, t.me pages and a CRM API from the bundled demo data.

Checked with plain HTTP and with the production extractors (rss, telegram,
crm_api) against the running server, and the demo config's counts against the
file-based demo's documented numbers (demo/README.md).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pyarrow.parquet as pq
import pytest
import requests

from cjm.core.config import load_config, parse_config
from cjm.demo.server import LISTENING_OTHER, DemoData, DemoServer, serve_demo
from cjm.extractors import get_extractor
from cjm.extractors.base import ExtractContext
from cjm.refresh import tasks

ROOT = Path(__file__).resolve().parent.parent
INBOX = ROOT / "demo" / "inbox"
TOKEN = "test-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with DemoServer(ROOT / "demo", token=TOKEN, workdir=tmp_path_factory.mktemp("demo")) as s:
        yield s


def listening_rows() -> list[dict[str, str]]:
    with (INBOX / "mentions_listening.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def extract(config: dict, cursor: str | None = None):  # type: ignore[no-untyped-def]
    cfg = parse_config(config)
    ctx = ExtractContext(cfg, cfg.sources[0], "test", datetime.now(UTC), cursor=cursor)
    return get_extractor(cfg.sources[0].type)(ctx)


def demo_brands() -> list[dict]:
    """The demo's brands for a config of one source: without the accounts, which name
    the market export's source."""
    brands = load_config(ROOT / "config" / "demo.yml").brands
    return [b.model_dump(exclude={"accounts"}) for b in brands]


# --------------------------------------------------------------------------- lifecycle


def test_serve_demo_binds_loopback_and_stops(tmp_path: Path) -> None:
    base_url, stop = serve_demo(workdir=tmp_path)
    try:
        assert base_url.startswith("http://127.0.0.1:")
        assert requests.get(f"{base_url}/media/rss.xml", timeout=5).status_code == 200
        assert (tmp_path / LISTENING_OTHER).exists()
    finally:
        stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base_url}/media/rss.xml", timeout=5)


def test_generated_pages_are_deterministic() -> None:
    a, b = DemoData.load(ROOT / "demo"), DemoData.load(ROOT / "demo")
    from cjm.demo.server import render_rss, render_telegram_page

    ch = "ru_money_chat_3"
    assert render_telegram_page(a.channels[ch]) == render_telegram_page(b.channels[ch])
    assert render_rss(a.articles, "x") == render_rss(b.articles, "x")


def test_unknown_paths_are_404(server: DemoServer) -> None:
    assert requests.get(f"{server.base_url}/nothing/here", timeout=5).status_code == 404


# --------------------------------------------------------------------------- feeds


@pytest.mark.parametrize("path", ["/media/rss.xml", "/media/atom.xml"])
def test_feeds_carry_every_article(server: DemoServer, path: str) -> None:
    r = requests.get(server.base_url + path, timeout=5)
    feed = feedparser.parse(r.content)
    assert not feed.bozo, feed.get("bozo_exception")
    with (INBOX / "mentions_media.jsonl").open(encoding="utf-8") as f:
        articles = {a["guid"]: a for a in map(json.loads, f)}
    assert len(feed.entries) == len(articles) == 300
    for e in feed.entries:
        a = articles[e.id]
        assert e.title == a["title"] and e.link == a["link"]
        assert e.get("summary") == a["summary"]
        published = datetime.fromisoformat(a["published"])
        assert datetime(*e.published_parsed[:6], tzinfo=UTC) == published.astimezone(UTC)
        assert e.author == a["outlet"]
    assert r.headers["ETag"]
    again = requests.get(
        server.base_url + path, headers={"If-None-Match": r.headers["ETag"]}, timeout=5
    )
    assert again.status_code == 304


def test_rss_keeps_each_articles_own_utc_offset(server: DemoServer) -> None:
    body = requests.get(f"{server.base_url}/media/rss.xml", timeout=5).text
    assert "+0300</pubDate>" in body and "+0000</pubDate>" in body


@pytest.mark.parametrize("path", ["/media/rss.xml", "/media/atom.xml"])
def test_rss_extractor_reads_both_formats(server: DemoServer, path: str) -> None:
    out = extract(
        {
            "brands": demo_brands(),
            "sources": [{"name": "media", "type": "rss", "url": server.base_url + path}],
        }
    )
    assert out.table.num_rows == 300 and out.rows_off_brand == 0
    again = extract(
        {
            "brands": demo_brands(),
            "sources": [{"name": "media", "type": "rss", "url": server.base_url + path}],
        },
        cursor=out.cursor,
    )
    assert again.table.num_rows == 0


# --------------------------------------------------------------------------- Telegram


def test_telegram_channels_hold_the_exports_telegram_rows(server: DemoServer) -> None:
    rows = [r for r in listening_rows() if r["platform"] == "telegram"]
    expected: dict[str, int] = {}
    for r in rows:
        ch = r["link"].split("/")[3]
        expected[ch] = expected.get(ch, 0) + 1
    assert set(server.data.channels) == set(expected)
    seen_total = 0
    for name, n in expected.items():
        out = extract(
            {
                "brands": demo_brands(),
                "sources": [
                    {"name": "tg", "type": "telegram", "channel": name, "base_url": server.base_url}
                ],
            }
        )
        assert out.rows_seen == n, name
        seen_total += out.rows_seen
        table = out.table.to_pylist()
        assert {r["channel"] for r in table} == {"telegram"}
        # ids grow with time, as on Telegram (the export's ids did not)
        by_id = sorted(table, key=lambda r: int(r["native_id"].rsplit("/", 1)[1]))
        assert [r["published_at"] for r in by_id] == sorted(r["published_at"] for r in by_id)
    assert seen_total == len(rows)


def test_telegram_pages_page_back_like_tme(server: DemoServer) -> None:
    ch = server.data.channels["ru_money_chat_1"]
    first = requests.get(f"{server.base_url}/s/ru_money_chat_1", timeout=5).text
    assert first.count('class="tgme_widget_message text_not_supported_wrap') == 20
    ids = [m.id for m in ch.messages]
    older = ids[-20]
    assert f'href="/s/ru_money_chat_1?before={older}" data-before="{older}"' in first
    second = requests.get(f"{server.base_url}/s/ru_money_chat_1?before={older}", timeout=5).text
    assert f'data-post="ru_money_chat_1/{ids[-21]}"' in second
    assert 'data-after="' in second  # the way back to newer messages, as on t.me


def test_unknown_channel_redirects_like_tme(server: DemoServer) -> None:
    r = requests.get(f"{server.base_url}/s/no_such_chan", timeout=5)
    assert r.history and r.history[0].status_code == 302
    assert r.url.endswith("/no_such_chan") and "tgme_page" in r.text


def test_listening_export_without_telegram_rows(server: DemoServer) -> None:
    assert server.workdir is not None
    text = (server.workdir / LISTENING_OTHER).read_text(encoding="utf-8")
    other = list(csv.DictReader(io.StringIO(text, newline="")))
    rows = listening_rows()
    assert other == [r for r in rows if r["platform"] != "telegram"]


# --------------------------------------------------------------------------- CRM


def crm_get(server: DemoServer, token: str | None = TOKEN, **params: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(
        f"{server.base_url}/crm/api/v1/events", params=params, headers=headers, timeout=10
    )


def test_crm_requires_the_bearer_token(server: DemoServer) -> None:
    assert crm_get(server, token=None).status_code == 401
    r = crm_get(server, token="wrong")
    assert r.status_code == 401 and "WWW-Authenticate" in r.headers


def test_crm_pages_with_cursors_and_filters_by_updated_since(server: DemoServer) -> None:
    table = pq.read_table(INBOX / "crm_events.parquet").to_pylist()
    since = "2026-10-14T07:00:00Z"
    expected = sorted(r["event_uid"] for r in table if r["created_at"] >= since)
    got: list[str] = []
    r = crm_get(server, updated_since=since, limit="500").json()
    pages = 1
    while True:
        got.extend(e["id"] for e in r["data"])
        if not r["next_cursor"]:
            break
        r = crm_get(server, cursor=r["next_cursor"], limit="500").json()
        pages += 1
    assert sorted(got) == expected and len(got) == len(set(got))
    assert pages == -(-len(expected) // 500)


@pytest.mark.parametrize(
    "params", [{"cursor": "not-a-cursor"}, {"updated_since": "yesterday"}, {"limit": "0"}]
)
def test_crm_bad_parameters_are_400(server: DemoServer, params: dict[str, str]) -> None:
    assert crm_get(server, **params).status_code == 400


def test_crm_api_extractor_reads_everything_then_nothing(
    server: DemoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CJM_DEMO_CRM_TOKEN", TOKEN)
    crm = next(
        s.model_dump(exclude_defaults=True)
        for s in load_config(ROOT / "config" / "demo.yml").sources
        if s.name == "crm"
    )
    crm["url"] = f"{server.base_url}/crm/api/v1/events"
    config = {"brands": demo_brands(), "sources": [crm]}
    out = extract(config)
    assert out.table.num_rows == 6346
    assert extract(config, cursor=out.cursor).table.num_rows == 0


def demo_source(name: str, server: DemoServer, path: str) -> dict:
    entry = next(
        s.model_dump(exclude_defaults=True)
        for s in load_config(ROOT / "config" / "demo.yml").sources
        if s.name == name
    )
    return {**entry, "enabled": True, "url": f"{server.base_url}{path}"}


def test_vk_style_api_through_the_rest_api_source(
    server: DemoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CJM_DEMO_VK_TOKEN", server.env()["CJM_DEMO_VK_TOKEN"])
    vk = demo_source("vk_demo", server, "/vk/method/newsfeed.search")
    vk["params"] = {**vk["params"], "count": 5}  # 12 posts in pages of 5, next_from
    config = {"brands": demo_brands(), "sources": [vk]}
    out = extract(config)
    rows = out.table.to_pylist()
    assert len(rows) == 12 and {r["channel"] for r in rows} == {"vk"}
    assert all(r["brand"] == "Finly" and r["url"].startswith("https://vk.com/wall") for r in rows)
    assert json.loads(rows[0]["attributes"])["engagement"] > 0
    assert extract(config, cursor=out.cursor).table.num_rows == 0
    vk["params"] = {**vk["params"], "access_token": "wrong"}
    with pytest.raises(Exception, match="API error 5") as err:
        extract(config)
    assert "access_token=***" in str(err.value)


def test_mastodon_style_api_through_the_rest_api_source(server: DemoServer) -> None:
    mastodon = demo_source("mastodon_demo", server, "/mastodon/api/v1/timelines/tag/{query}")
    config = {"brands": demo_brands(), "sources": [mastodon]}
    out = extract(config)
    rows = {r["native_id"]: r for r in out.table.to_pylist()}
    assert len(rows) == 10  # three pages of 4 by the Link header, then an empty one
    replies = {k: json.loads(r["attributes"]).get("reply_to") for k, r in rows.items()}
    assert sum(1 for v in replies.values() if v) == 3
    assert all(v in rows for v in replies.values() if v)  # each parent was read too
    assert all("<" not in r["text"] and "#finly" in r["text"] for r in rows.values())
    assert extract(config, cursor=out.cursor).table.num_rows == 0


# --------------------------------------------------------------------------- the demo config


def test_demo_config_on_the_server_keeps_the_file_demos_numbers(
    server: DemoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same mentions, quarantine and CRM events as the file-based demo (demo/README.md),
    plus the VK posts and Mastodon statuses of the rest_api sources."""
    for k, v in server.env().items():
        monkeypatch.setenv(k, v)
    config_path = str(ROOT / "config" / "demo.yml")
    warehouse = str(tmp_path / "warehouse.duckdb")
    config = load_config(config_path)
    assert {s.type for s in config.sources} == {"file", "rss", "telegram", "crm_api", "rest_api"}
    totals = {"mention": [0, 0, 0], "crm_event": [0, 0, 0]}
    for source in config.enabled_sources:
        tasks.extract(source.name, "demo-test", config_path, warehouse)
        m = tasks.validate(source.name, "demo-test", config_path, warehouse)
        t = totals[m["entity"]]
        t[0] += m["rows_passed"]
        t[1] += m["rows_quarantined"]
        t[2] += m["rows_duplicate"]
    # plus the market export (cjm/demo/market.py), every row of it clean
    market = json.loads((ROOT / "demo" / "truth" / "summary.json").read_text(encoding="utf-8"))
    social = 12 + 10  # demo/inbox/social_api.json through the rest_api sources
    assert totals["mention"] == [2492 + 300 + market["market"]["records"] + social, 7, 1]
    assert totals["crm_event"] == [6346, 0, 0]
