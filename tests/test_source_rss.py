"""The `rss` source against recorded feeds served on 127.0.0.1 (tests/fixtures/http)."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from cjm.core.config import parse_config
from cjm.core.contracts import stable_id
from cjm.extractors import ExtractContext, Extracted, ExtractError, get_extractor

HTTP = Path(__file__).parent / "fixtures" / "http"
BRANDS = [
    {"name": "Finly", "keywords": ["finly", "финли", "@finlyapp"], "exclude": ["finly cafe"]},
    {"name": "Rivalbank", "keywords": ["rivalbank"]},
]
RSS = "application/rss+xml; charset=utf-8"
FAST = {"max_tries": 3, "backoff_seconds": 0.01, "timeout_read": 2}


def fixture(name: str) -> bytes:
    return (HTTP / name).read_bytes()


def run(url: str, cursor: str | None = None, **source) -> Extracted:
    src = {"name": "news", "type": "rss", "url": url, **FAST, **source}
    config = parse_config({"brands": BRANDS, "sources": [src]})
    ctx = ExtractContext(
        config, config.sources[0], "run-1", datetime(2026, 11, 1, tzinfo=UTC), cursor
    )
    return get_extractor("rss")(ctx)


def rows(result: Extracted) -> dict[str, dict]:
    return {r["native_id"]: r for r in result.table.to_pylist()}


def serve(httpserver: HTTPServer, path: str, name: str, content_type: str = RSS) -> str:
    httpserver.expect_request(path).respond_with_data(fixture(name), content_type=content_type)
    return httpserver.url_for(path)


def test_rss2_with_cdata_html(httpserver: HTTPServer) -> None:
    out = run(serve(httpserver, "/rss.xml", "finly_rss2.xml"))
    got = rows(out)
    assert out.entity == "mention"
    assert out.rows_seen == 4 and out.rows_off_brand == 1  # the key-rate story names no brand
    assert set(got) == {
        "finvesti.example:9001",
        "finvesti.example:9004",
        "https://finvesti.example/news/2026/09/08/9006",  # no guid: the link is the id
    }
    first = got["finvesti.example:9001"]
    assert first["text"] == (
        "Финли начал крупную рекламную кампанию: ролики на ТВ, в метро и у блогеров."
    )
    assert first["title"] == "Финли запустил рекламную кампанию с енотом"
    assert first["author"] == "Мария Орлова"
    assert first["url"] == "https://finvesti.example/news/2026/09/07/9001"
    assert first["published_at"] == datetime(2026, 9, 7, 5, 15, tzinfo=UTC)
    assert first["language"] == "ru" and first["channel"] == "media"
    assert first["brand"] == "Finly" and first["source_type"] == "rss"
    assert first["mention_id"] == stable_id("news", "finvesti.example:9001")
    assert json.loads(first["attributes"])["tags"] == ["Финтех"]
    # content:encoded wins over the description; tags, entities and scripts are gone
    body = got["finvesti.example:9004"]["text"]
    assert "«завис»" in body and "компенсацию & кешбэк" in body
    assert "<" not in body and "&laquo;" not in body and "track(" not in body
    assert body.splitlines()[1] == "Сбой затронул SBP-переводы"
    # double-escaped HTML in a plain description
    charts = got["https://finvesti.example/news/2026/09/08/9006"]
    assert (
        charts["text"]
        == "Finly climbed to No. 1 in the finance category — a first for the raccoon app."
    )
    assert charts["author"] == "ФинВести — новости финтеха"  # no author: the outlet
    assert all(r["_errors"] is None for r in got.values())


def test_atom_feed(httpserver: HTTPServer) -> None:
    got = rows(run(serve(httpserver, "/atom.xml", "finly_atom.xml", "application/atom+xml")))
    assert set(got) == {
        "tag:fintechweekly.example,2026:9003",
        "tag:fintechweekly.example,2026:9007",
    }
    ad = got["tag:fintechweekly.example,2026:9003"]
    assert ad["published_at"] == datetime(2026, 9, 7, 7, 30, tzinfo=UTC)
    assert ad["author"] == "Jane Doe" and ad["language"] == "en"
    assert ad["text"].startswith("The fintech app Finly launched")
    outage = got["tag:fintechweekly.example,2026:9007"]
    # no <published>: the <updated> date stands in, and says so
    assert outage["published_at"] == datetime(2026, 9, 8, 8, 45, tzinfo=UTC)
    assert json.loads(outage["attributes"])["date_source"] == "updated"
    assert outage["text"] == "Users of Finly waited hours for answers."  # xhtml content


def test_rss1_rdf_feed(httpserver: HTTPServer) -> None:
    got = rows(run(serve(httpserver, "/rdf", "finly_rdf.xml", "application/rdf+xml")))
    assert len(got) == 2
    story = got["https://dengi-daily.example/news/2026/09/07/9002"]
    assert story["published_at"] == datetime(2026, 9, 7, 6, 40, tzinfo=UTC)  # dc:date
    assert story["author"] == "Редакция" and story["language"] == "ru"


def test_rss091_feed(httpserver: HTTPServer) -> None:
    feed = b"""<?xml version="1.0"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
  "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel><title>Old Wire</title><link>https://wire.example/</link>
<description>since 1999</description><language>en-us</language>
<item><title>Finly opens in Riga</title><link>https://wire.example/1</link>
<description>The Finly app is now available in Latvia.</description></item>
</channel></rss>"""
    httpserver.expect_request("/091").respond_with_data(feed, content_type="text/xml")
    got = rows(run(httpserver.url_for("/091")))
    item = got["https://wire.example/1"]
    # RSS 0.91 items have no date: taken, and validation quarantines them as undated
    assert item["published_at"] is None and item["language"] == "en"


def test_broken_dates_fall_back_or_are_flagged(httpserver: HTTPServer) -> None:
    got = rows(run(serve(httpserver, "/reviews", "finly_broken_date.xml")))
    assert len(got) == 3
    broken = got["https://banki-obzor.example/reviews/501"]
    assert broken["published_at"] is None
    assert "вчера в 14:30" in broken["_errors"] and "published_at" in broken["_errors"]
    fallback = got["https://banki-obzor.example/reviews/502"]
    assert fallback["published_at"] == datetime(2026, 9, 8, 10, 0, tzinfo=UTC)
    assert fallback["_errors"] is None
    assert json.loads(fallback["attributes"])["published_raw"] == "32 Sep 2026 25:61:00 +0300"


def test_malformed_xml_is_logged_and_entries_still_taken(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="cjm.rss"):
        out = run(serve(httpserver, "/blog", "finly_malformed.xml", "application/xml"))
    got = rows(out)
    assert set(got) == {"fin-blog.example:77", "fin-blog.example:78"}
    assert got["fin-blog.example:77"]["text"] == (
        "В Finly можно выгрузить справку для налоговой за пару минут\nбез звонков."
    )
    assert "not well-formed" in caplog.text and "SAXParseException" in caplog.text
    assert any("not well-formed" in n for n in out.notes)


def test_truncated_body_keeps_the_complete_entries(httpserver: HTTPServer) -> None:
    out = run(serve(httpserver, "/cut", "finly_truncated.xml"))
    assert set(rows(out)) == {"finvesti.example:9001", "finvesti.example:9004"}
    assert any("empty entry skipped" in n for n in out.notes)
    # ... but none of them is remembered as read: the next run fetches them again
    assert out.degraded and "SAXParseException" in out.degraded
    assert json.loads(out.cursor)["seen"] == []
    again = run(httpserver.url_for("/cut"), cursor=out.cursor)
    assert set(rows(again)) == set(rows(out))


def test_a_declared_encoding_overridden_by_http_is_not_degraded(httpserver: HTTPServer) -> None:
    out = run(serve(httpserver, "/cp1251", "finly_cp1251.xml", "text/xml; charset=utf-8"))
    assert out.degraded is None and len(json.loads(out.cursor)["seen"]) == 2


@pytest.mark.parametrize(
    "content_type",
    [
        "application/rss+xml",  # the XML declaration names windows-1251
        "text/xml; charset=windows-1251",
        "text/xml; charset=utf-8",  # a server that lies about the encoding
    ],
)
def test_windows_1251_feed(httpserver: HTTPServer, content_type: str) -> None:
    got = rows(run(serve(httpserver, "/cp1251", "finly_cp1251.xml", content_type)))
    story = got["https://region-news.example/2026/09/08/301.html"]
    assert story["title"] == "Финли открыл офис поддержки в Казани"
    assert "«ёмкость» колл-центра" in story["text"]
    assert story["author"] == "Ольга Ёлкина"  # "news@... (Name)": the name, not the e-mail
    assert len(got) == 1  # the weather story is off-brand


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><body><h1>Maintenance</h1></body></html>", "text/html"),
        (b'{"error": "use the JSON API"}', "application/json"),
        (b"", "application/rss+xml"),
    ],
)
def test_a_body_that_is_no_feed_is_fatal(
    httpserver: HTTPServer, body: bytes, content_type: str
) -> None:
    httpserver.expect_request("/feed").respond_with_data(body, content_type=content_type)
    with pytest.raises(ExtractError, match=r"'news'.*not an RSS or Atom feed"):
        run(httpserver.url_for("/feed"))


def test_unchanged_feed_costs_one_304(httpserver: HTTPServer) -> None:
    etag = '"finvesti-42"'
    body = fixture("finly_rss2.xml")

    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(body, content_type=RSS, headers={"ETag": etag})

    httpserver.expect_request("/rss.xml").respond_with_handler(handler)
    first = run(httpserver.url_for("/rss.xml"))
    assert first.table.num_rows == 3
    assert json.loads(first.cursor)["feeds"] == {"": {"etag": etag}}
    second = run(httpserver.url_for("/rss.xml"), cursor=first.cursor)
    assert second.table.num_rows == 0 and second.rows_seen == 0
    assert second.cursor == first.cursor  # the loader skips an empty batch with an unmoved cursor
    assert [r.status_code for _, r in httpserver.log] == [200, 304]
    assert any("not modified" in n for n in second.notes)


def test_last_modified_is_used_when_there_is_no_etag(httpserver: HTTPServer) -> None:
    modified = "Tue, 08 Sep 2026 12:05:00 GMT"

    def handler(request: Request) -> Response:
        if request.headers.get("If-Modified-Since") == modified:
            return Response(status=304)
        return Response(fixture("finly_atom.xml"), headers={"Last-Modified": modified})

    httpserver.expect_request("/atom").respond_with_handler(handler)
    first = run(httpserver.url_for("/atom"))
    second = run(httpserver.url_for("/atom"), cursor=first.cursor)
    assert second.table.num_rows == 0 and second.cursor == first.cursor
    assert httpserver.log[1][0].headers["If-Modified-Since"] == modified


def test_rerun_without_conditional_get_extracts_only_new_entries(httpserver: HTTPServer) -> None:
    feed = fixture("finly_rss2.xml").decode()
    httpserver.expect_oneshot_request("/rss.xml").respond_with_data(feed, content_type=RSS)
    first = run(httpserver.url_for("/rss.xml"))
    # The next fetch: the same feed (no ETag support) plus one new story at the top.
    newer = feed.replace(
        "<item>",
        """<item>
      <title>Finly adds Apple Pay</title>
      <link>https://finvesti.example/news/2026/09/09/9011</link>
      <guid isPermaLink="false">finvesti.example:9011</guid>
      <pubDate>Wed, 09 Sep 2026 09:00:00 +0300</pubDate>
      <description>Finly cards now work with Apple Pay.</description>
    </item>
    <item>""",
        1,
    )
    httpserver.expect_oneshot_request("/rss.xml").respond_with_data(newer, content_type=RSS)
    httpserver.expect_request("/rss.xml").respond_with_data(newer, content_type=RSS)
    second = run(httpserver.url_for("/rss.xml"), cursor=first.cursor)
    assert list(rows(second)) == ["finvesti.example:9011"]
    assert second.rows_seen == 1
    third = run(httpserver.url_for("/rss.xml"), cursor=second.cursor)
    assert third.rows_seen == 0 and third.cursor == second.cursor


def test_seen_ids_are_bounded_and_old_entries_stay_read(httpserver: HTTPServer) -> None:
    items = "".join(
        f"<item><title>Finly news {i}</title><guid>n-{i}</guid>"
        f"<pubDate>Mon, 07 Sep 2026 {i % 24:02d}:{i % 60:02d}:00 +0000</pubDate>"
        f"<description>Finly update number {i}</description></item>"
        for i in range(60)
    )
    feed = f'<rss version="2.0"><channel><title>Wire</title>{items}</channel></rss>'
    httpserver.expect_request("/wire").respond_with_data(feed, content_type=RSS)
    first = run(httpserver.url_for("/wire"), seen_max=20)
    assert first.table.num_rows == 60
    state = json.loads(first.cursor)
    assert len(state["seen"]) == 20 and state["floor"] is not None
    again = run(httpserver.url_for("/wire"), cursor=first.cursor, seen_max=20)
    assert again.rows_seen == 0  # forgotten ids are older than the floor


def test_keyword_search_one_request_per_keyword(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/search").respond_with_data(
        fixture("finly_rss2.xml"), content_type=RSS
    )
    out = run(httpserver.url_for("/search") + "?q={query}&hl=ru", brand="Finly")
    queries = [parse_qs(r.query_string.decode())["q"][0] for r, _ in httpserver.log]
    assert queries == ["finly", "финли", "@finlyapp"]  # Rivalbank is not this source's brand
    raw = [r.query_string.decode() for r, _ in httpserver.log]
    assert raw[1].startswith("q=%D1%84%D0%B8%D0%BD%D0%BB%D0%B8&") and raw[2].startswith("q=%40")
    # the same story from three searches is one mention, tagged with the first query
    assert out.table.num_rows == 3
    assert {json.loads(a)["query"] for a in out.table.column("attributes").to_pylist()} == {"finly"}
    cursor = json.loads(out.cursor)
    assert set(cursor["feeds"]) == set()  # the server sends no validators


def test_keyword_search_or_joined_per_brand(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/search").respond_with_data(
        fixture("finly_atom.xml"), content_type="application/atom+xml"
    )
    run(httpserver.url_for("/search") + "?q={query}", query_join=" OR ")
    queries = [parse_qs(r.query_string.decode())["q"][0] for r, _ in httpserver.log]
    assert queries == ["finly OR финли OR @finlyapp", "rivalbank"]


def test_feed_500_then_success_is_retried(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/rss.xml").respond_with_data("oops", status=500)
    url = serve(httpserver, "/rss.xml", "finly_rss2.xml")
    assert run(url).table.num_rows == 3
    assert len(httpserver.log) == 2


def test_feed_429_honours_retry_after(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/rss.xml").respond_with_data(
        "", status=429, headers={"Retry-After": "1"}
    )
    url = serve(httpserver, "/rss.xml", "finly_rss2.xml")
    started = time.perf_counter()
    assert run(url).table.num_rows == 3
    assert 0.95 <= time.perf_counter() - started < 10


def test_feed_404_is_fatal_with_a_clear_message(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gone.xml").respond_with_data("Not Found", status=404)
    with pytest.raises(ExtractError) as exc:
        run(httpserver.url_for("/gone.xml"))
    assert "'news'" in str(exc.value) and "HTTP 404" in str(exc.value)
    assert "/gone.xml" in str(exc.value) and len(httpserver.log) == 1


def test_a_cursor_from_another_source_type_is_a_clear_error(httpserver: HTTPServer) -> None:
    url = serve(httpserver, "/rss.xml", "finly_rss2.xml")
    with pytest.raises(ExtractError, match="not an rss cursor"):
        run(url, cursor="2026-09-01")


def test_bench_sources_runs_on_small_inputs() -> None:
    from cjm.bench.sources import bench_sources

    figures = bench_sources(feed_entries=30, crm_pages=3, crm_page_size=20)
    assert figures["rss"]["records"] == 30 and figures["crm_api"]["records"] == 60
    assert figures["rss"]["records_per_s"] > 0 and figures["crm_api"]["requests"] == 4
