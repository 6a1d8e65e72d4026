"""Extraction throughput of the HTTP sources, for `cjm bench`.

Serves a large RSS feed, a paged CRM API and a VK-style newsfeed.search (the
`rest_api` source as config/recipes/vk.yml declares it) from memory on 127.0.0.1
and runs the real extractors against them (HTTP client, parsing, brand matching,
hashing, Arrow table), so the figure is what a refresh pays per record, minus the
network. Pages are generated in the same shapes as tests/fixtures/http and
tests/fixtures/rest_api.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cjm.core.config import parse_config
from cjm.extractors.base import ExtractContext, Extracted

BRANDS = [{"name": "Finly", "keywords": ["finly", "финли", "@finlyapp"]}]
_START = datetime(2026, 9, 1, tzinfo=UTC)


def rss_feed(n: int) -> bytes:
    """An RSS 2.0 feed of ``n`` entries with CDATA HTML bodies, as news sites write them."""
    items = []
    for i in range(n):
        when = format_datetime(_START + timedelta(minutes=i), usegmt=True)
        lang = i % 3
        body = (
            f"<p><b>Финли</b> запустил новую функцию №{i}: переводы по&nbsp;номеру телефона "
            "без комиссии.</p><p>Пользователи &laquo;Финли&raquo; отмечают скорость.</p>"
            if lang
            else f"<p>The <a href='https://finly.example'>Finly</a> app shipped update {i}; "
            "users praise the raccoon &amp; the new cashback.</p>"
        )
        items.append(
            f"<item><title>Finly news {i}</title>"
            f"<link>https://news.example/{i}</link>"
            f'<guid isPermaLink="false">news.example:{i}</guid>'
            f"<pubDate>{when}</pubDate><dc:creator>Author {i % 50}</dc:creator>"
            f"<description><![CDATA[{body}]]></description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        "<title>Bench News</title><link>https://news.example/</link>"
        "<description>bench</description><language>ru</language>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def crm_page(page: int, size: int, pages: int) -> bytes:
    """Page ``page`` (1-based) of a Laravel-style CRM event list."""
    types = ["site_visit", "lead", "order_paid", "support_ticket", "renewal"]
    data = []
    if page <= pages:
        for j in range(size):
            i = (page - 1) * size + j
            data.append(
                {
                    "id": f"ev-{i}",
                    "type": types[i % 5],
                    "created_at": (_START + timedelta(seconds=i * 37)).isoformat(),
                    "contact": {"id": i % 4000, "email": f"user{i % 4000}@example.com"},
                    "utm": {"source": ["google", "vk", "telegram"][i % 3], "campaign": "bench"},
                    "amount": "1 490,00" if i % 5 == 2 else None,
                    "pipeline": "retail",
                }
            )
    meta = {"current_page": page, "per_page": size, "last_page": pages}
    return json.dumps({"data": data, "meta": meta}).encode()


def vk_page(start: int, size: int, total: int) -> bytes:
    """newsfeed.search (API 5.199) items ``start``.. of ``total``, newest first, with the
    ``next_from`` cursor while more remain."""
    items = []
    for i in range(start, min(start + size, total)):
        text = (
            f"Финли запустил перевод №{i} без комиссии, @finlyapp молодцы"
            if i % 2
            else f"Finly card #{i}: cashback arrived, the app is fast"
        )
        items.append(
            {
                "inner_type": "wall_wallpost",
                "id": i,
                "owner_id": 1000 + i % 700,
                "from_id": 1000 + i % 700,
                "date": int((_START - timedelta(seconds=i * 40)).timestamp()),
                "post_type": "post",
                "text": text,
                "comments": {"count": i % 5},
                "likes": {"count": i % 17},
                "reposts": {"count": i % 3},
                "views": {"count": 100 + i},
            }
        )
    response: dict[str, Any] = {"items": items, "count": len(items), "total_count": total}
    if start + size < total:
        response["next_from"] = str(start + size)
    return json.dumps({"response": response}, ensure_ascii=False).encode()


VK_SOURCE = {
    "type": "rest_api",
    "params": {"q": "finly", "count": 200, "v": "5.199"},
    "records": "response.items",
    "pagination": {"type": "cursor", "param": "start_from", "next": "response.next_from"},
    "newest_first": True,
    "body_errors": {"path": "error", "retry_codes": [6, 9, 10]},
    "channel": "vk",
    "columns": {
        "native_id": "{owner_id}_{id}",
        "url": "https://vk.com/wall{owner_id}_{id}",
        "author": "{from_id}",
        "text": "text",
        "published_at": "date",
        "reach": "views.count",
        "engagement": "likes.count + reposts.count + comments.count",
    },
}


@contextmanager
def _serve(routes: dict[str, Callable[[dict[str, list[str]]], tuple[bytes, str]]]) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            body, ctype = routes[parts.path](parse_qs(parts.query))
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _run(source: dict[str, Any]) -> tuple[float, Extracted]:
    """Best of three runs: the first pays one-off imports (feedparser, brand matching)."""
    from cjm.extractors import get_extractor

    config = parse_config({"brands": BRANDS, "sources": [source]})
    extract = get_extractor(source["type"])
    best: tuple[float, Extracted] | None = None
    for _ in range(3):
        ctx = ExtractContext(config, config.sources[0], "bench", datetime.now(UTC), None)
        started = time.perf_counter()
        out = extract(ctx)
        seconds = time.perf_counter() - started
        if best is None or seconds < best[0]:
            best = (seconds, out)
    assert best is not None
    return best


def bench_sources(
    feed_entries: int = 5000,
    crm_pages: int = 20,
    crm_page_size: int = 500,
    rest_items: int = 10_000,
    rest_page_size: int = 200,
) -> dict[str, dict[str, float]]:
    """Records per second for `rss`, `crm_api` and `rest_api` against local servers.

    Returns ``{"rss": {...}, "crm_api": {...}, "rest_api": {...}}`` with ``records``,
    ``seconds``, ``records_per_s`` and ``requests``; the CRM figure includes hashing
    customer ids, the rest_api one the templates, sums and brand matching of the VK recipe.
    """
    feed = rss_feed(feed_entries)
    routes = {
        "/rss.xml": lambda q: (feed, "application/rss+xml; charset=utf-8"),
        "/api/events": lambda q: (
            crm_page(int(q["page"][0]), int(q["per_page"][0]), crm_pages),
            "application/json",
        ),
        "/method/newsfeed.search": lambda q: (
            vk_page(int(q.get("start_from", ["0"])[0]), rest_page_size, rest_items),
            "application/json; charset=utf-8",
        ),
    }
    secret_was = os.environ.get("CJM_CUSTOMER_KEY_SECRET")
    if not secret_was:
        os.environ["CJM_CUSTOMER_KEY_SECRET"] = "bench-only-secret"
    try:
        with _serve(routes) as base:
            rss_s, rss = _run({"name": "bench_rss", "type": "rss", "url": f"{base}/rss.xml"})
            crm_s, crm = _run(
                {
                    "name": "bench_crm",
                    "type": "crm_api",
                    "url": f"{base}/api/events",
                    "pagination": {"type": "page", "size_param": "per_page", "size": crm_page_size},
                    "columns": {
                        "native_id": "id",
                        "customer_key": "contact.email",
                        "event_type": "type",
                        "occurred_at": "created_at",
                        "channel": "utm.source",
                        "campaign": "utm.campaign",
                        "amount": "amount",
                    },
                }
            )
            rest_s, rest = _run(
                {
                    **VK_SOURCE,
                    "name": "bench_rest",
                    "url": f"{base}/method/newsfeed.search",
                    "params": {**VK_SOURCE["params"], "count": rest_page_size},
                }
            )
    finally:
        if not secret_was:
            os.environ.pop("CJM_CUSTOMER_KEY_SECRET", None)

    def figures(seconds: float, out: Extracted, requests: int) -> dict[str, float]:
        n = out.table.num_rows
        return {
            "records": n,
            "seconds": round(seconds, 3),
            "records_per_s": round(n / seconds) if seconds else 0,
            "requests": requests,
        }

    return {
        "rss": figures(rss_s, rss, 1),
        # pages of `size` records, then the short (empty) page that ends the listing
        "crm_api": figures(crm_s, crm, crm_pages + 1),
        "rest_api": figures(rest_s, rest, -(-rest_items // rest_page_size)),
    }


if __name__ == "__main__":
    print(json.dumps(bench_sources(), indent=2))
