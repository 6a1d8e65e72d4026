"""The telegram source against t.me/s pages served by a real HTTP server on 127.0.0.1.

The pages (tests/fixtures/telegram/) are in t.me's web-preview markup: a newest
page and two older ones reached through the "before" links, plus two layout
changes. Nothing in the extractor or snscrape is patched: the scraper really
fetches, retries and parses.
"""

from __future__ import annotations

import json
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from cjm.core.config import ConfigError, parse_config
from cjm.extractors import get_extractor
from cjm.extractors.base import ExtractContext, Extracted, ExtractError
from cjm.extractors.scraping import import_snscrape

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "telegram"
CHANNEL = "finly_news"
NEWEST_ID = 154  # the newest message on finly_news.html
BEFORE = (132, 108)  # the older pages' "before" values, newest first
MESSAGES = 45  # real messages on the three pages (plus one "Channel created")
PHOTO_ONLY = 1  # a photo without caption: no text, kept for validation to judge
OFF_BRAND = 6  # "Курс доллара" posts name no brand

BRANDS = [
    {
        "name": "Finly",
        "keywords": ["finly", "финли", "#финли", "@finlyapp"],
        "exclude": ["кафе финли"],
    }
]


def page(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def html(body: str, status: int = 200) -> Response:
    return Response(body, status=status, content_type="text/html; charset=utf-8")


def serve_channel(server: HTTPServer, newest: str = "finly_news.html") -> None:
    server.expect_request(f"/s/{CHANNEL}", query_string="").respond_with_response(
        html(page(newest))
    )
    for before in BEFORE:
        server.expect_request(
            f"/s/{CHANNEL}", query_string=f"before={before}"
        ).respond_with_response(html(page(f"finly_news_before_{before}.html")))


def base_url(server: HTTPServer) -> str:
    return server.url_for("/").rstrip("/")


def run(
    base: str, cursor: str | None = None, channel: str = CHANNEL, **options: object
) -> Extracted:
    source = {"name": "tg", "type": "telegram", "channel": channel, "base_url": base, **options}
    config = parse_config({"brands": BRANDS, "sources": [source]})
    ctx = ExtractContext(
        config=config,
        source=config.sources[0],
        run_id="test",
        fetched_at=datetime(2026, 11, 1, tzinfo=UTC),
        cursor=cursor,
    )
    return get_extractor("telegram")(ctx)


def requested(server: HTTPServer) -> list[str]:
    return [req.full_path.rstrip("?") for req, _ in server.log]


# --------------------------------------------------------------------------- happy path


def test_first_run_reads_every_page_back_and_shapes_records(httpserver: HTTPServer) -> None:
    serve_channel(httpserver)
    out = run(base_url(httpserver))

    assert requested(httpserver) == [
        f"/s/{CHANNEL}",
        f"/s/{CHANNEL}?before=132",
        f"/s/{CHANNEL}?before=108",
    ]
    assert out.entity == "mention"
    assert out.rows_seen == MESSAGES  # the service message is not a message
    assert out.rows_off_brand == OFF_BRAND
    assert out.table.num_rows == MESSAGES - OFF_BRAND
    assert out.cursor == str(NEWEST_ID)

    rows = {r["native_id"]: r for r in out.table.to_pylist()}
    newest = rows[f"{CHANNEL}/{NEWEST_ID}"]
    assert newest["url"] == f"https://t.me/{CHANNEL}/{NEWEST_ID}"  # the public link
    assert newest["channel"] == "telegram"
    assert newest["author"] == CHANNEL
    assert newest["source_type"] == "telegram"
    assert newest["brand"] == "Finly"
    assert newest["published_at"] == datetime(2026, 10, 10, 10, 0, tzinfo=UTC)
    attrs = json.loads(newest["attributes"])
    assert attrs["views"] == 1_200_000  # as the page prints it: "1.2M"
    assert newest["_row"].endswith(f"/s/{CHANNEL} message {NEWEST_ID}")


def test_text_keeps_line_breaks_links_and_ignores_reply_quotes(httpserver: HTTPServer) -> None:
    serve_channel(httpserver)
    rows = run(base_url(httpserver)).table.to_pylist()
    by_text = {r["text"]: r for r in rows if r["text"]}

    multi = next(t for t in by_text if t.startswith("Почему переводы"))
    assert "объясняем\nhttps://finly.app/blog/transfers" in multi  # <br/> is a newline
    assert "https://finly.app/blog/transfers" in json.loads(by_text[multi]["attributes"])["links"]

    reply = next(r for r in rows if r["text"] and r["text"].startswith("Нет, это не мы"))
    assert "Кафе" not in reply["text"]  # the quoted message is not this message's text
    assert json.loads(reply["attributes"])["reply_to"].startswith(f"https://t.me/{CHANNEL}/")

    tagged = next(r for r in rows if r["text"] and "#опрос" in r["text"])
    links = json.loads(tagged["attributes"])["links"]
    assert not any("?q=" in u for u in links)  # hashtag search links are not outlinks


def test_forwards_media_and_edits_are_kept_in_attributes(httpserver: HTTPServer) -> None:
    serve_channel(httpserver)
    rows = run(base_url(httpserver)).table.to_pylist()
    attrs = [json.loads(r["attributes"]) for r in rows]

    forwarded = [a for a in attrs if "forwarded_from" in a]
    assert [(a["forwarded_from"], a["forwarded_from_url"]) for a in forwarded] == [
        ("Финвести", "https://t.me/finvesti/4521")
    ]
    assert sum(a["has_photo"] for a in attrs) == 2
    assert any(a.get("link_preview") == "https://finly.app/tariffs" for a in attrs)
    assert any(a["edited"] for a in attrs) and not all(a["edited"] for a in attrs)
    assert all(isinstance(a["views"], int) for a in attrs)

    # The captionless photo reaches validation (which quarantines it: no text), not a void.
    no_text = [r for r in rows if r["text"] is None]
    assert len(no_text) == PHOTO_ONLY and json.loads(no_text[0]["attributes"])["has_photo"]


# --------------------------------------------------------------------------- incremental


def test_pages_back_only_to_the_cursor(httpserver: HTTPServer) -> None:
    serve_channel(httpserver)
    cursor = 120  # on the second page (108..130); the newest page holds 132..154
    out = run(base_url(httpserver), cursor=str(cursor))

    assert requested(httpserver) == [f"/s/{CHANNEL}", f"/s/{CHANNEL}?before=132"]
    ids = [int(r["native_id"].rsplit("/", 1)[1]) for r in out.table.to_pylist()]
    assert ids and min(ids) > cursor
    assert out.rows_seen == 20 + 9  # the newest page, then 121..130 (125 was deleted)
    assert out.cursor == str(NEWEST_ID)


def test_a_rerun_extracts_nothing_new(httpserver: HTTPServer) -> None:
    serve_channel(httpserver)
    first = run(base_url(httpserver))
    httpserver.clear_log()
    again = run(base_url(httpserver), cursor=first.cursor)

    assert again.table.num_rows == 0 and again.rows_seen == 0
    assert again.cursor == first.cursor
    assert requested(httpserver) == [f"/s/{CHANNEL}"]  # one page, then the cursor stops it


def test_max_pages_bounds_a_run_and_reports_the_gap(httpserver: HTTPServer) -> None:
    serve_channel(httpserver)
    out = run(base_url(httpserver), cursor="101", max_pages=1)

    assert requested(httpserver) == [f"/s/{CHANNEL}"]
    assert out.cursor == str(NEWEST_ID)
    assert any("max_pages=1" in n and "were not read" in n for n in out.notes)

    httpserver.clear_log()
    first_run = run(base_url(httpserver), max_pages=2)  # a first run: bounded backfill
    assert len(requested(httpserver)) == 2
    assert first_run.rows_seen == 40


# --------------------------------------------------------------------------- failures


def test_layout_change_is_a_clear_error_not_an_empty_success(httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"/s/{CHANNEL}").respond_with_response(
        html(page("layout_changed.html"))
    )
    with pytest.raises(ExtractError) as err:
        run(base_url(httpserver))
    msg = str(err.value)
    assert CHANNEL in msg and f"{base_url(httpserver)}/s/{CHANNEL}" in msg
    assert "layout may have changed" in msg


def test_layout_change_inside_a_message_is_a_clear_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"/s/{CHANNEL}").respond_with_response(
        html(page("layout_no_footer.html"))
    )
    with pytest.raises(ExtractError, match=r"finly_news.*/s/finly_news.*layout may have changed"):
        run(base_url(httpserver))


def test_a_later_page_without_messages_is_a_layout_change(httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"/s/{CHANNEL}", query_string="").respond_with_response(
        html(page("finly_news.html"))
    )
    httpserver.expect_request(f"/s/{CHANNEL}", query_string="before=132").respond_with_response(
        html("<html><body><main>Please wait…</main></body></html>")
    )
    with pytest.raises(ExtractError, match=r"before=132.*no div.tgme_widget_message"):
        run(base_url(httpserver))


def test_a_500_is_retried_then_succeeds(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request(f"/s/{CHANNEL}").respond_with_response(
        Response("upstream hiccup", status=500)
    )
    serve_channel(httpserver)
    out = run(base_url(httpserver), retries=1)
    assert out.table.num_rows == MESSAGES - OFF_BRAND
    assert requested(httpserver)[:2] == [f"/s/{CHANNEL}", f"/s/{CHANNEL}"]


def test_persistent_5xx_fails_after_the_retries(httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"/s/{CHANNEL}").respond_with_response(Response("down", status=503))
    with pytest.raises(ExtractError, match=r"finly_news.*HTTP 503"):
        run(base_url(httpserver), retries=1)
    assert len(httpserver.log) == 2


def test_connection_refused_names_the_channel_url_and_cause() -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ExtractError) as err:
        run(f"http://127.0.0.1:{port}", retries=0)
    msg = str(err.value)
    assert CHANNEL in msg and f"127.0.0.1:{port}/s/{CHANNEL}" in msg
    assert "Connection refused" in msg


def test_a_channel_without_public_preview_is_a_clear_error(httpserver: HTTPServer) -> None:
    # t.me redirects /s/<name> to /<name> for private or unknown channels.
    httpserver.expect_request("/s/private_chan").respond_with_response(
        Response(status=302, headers={"Location": "/private_chan"})
    )
    httpserver.expect_request("/private_chan").respond_with_response(
        html("<html><body><div class='tgme_page'>Contact @private_chan</div></body></html>")
    )
    with pytest.raises(ExtractError, match=r"private_chan.*no public web preview"):
        run(base_url(httpserver), channel="private_chan")


def test_a_foreign_cursor_is_refused(httpserver: HTTPServer) -> None:
    with pytest.raises(ExtractError, match="not a Telegram message id"):
        run(base_url(httpserver), cursor='{"files": {}}')


def test_unset_placeholder_in_base_url_fails_by_name() -> None:
    with pytest.raises(ExtractError, match="environment variable"):
        run("${CJM_TEST_UNSET_URL}")


# --------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("finly_news", "finly_news"),
        ("@finly_news", "finly_news"),
        ("https://t.me/s/finly_news/", "finly_news"),
    ],
)
def test_channel_forms_normalise_to_the_username(given: str, expected: str) -> None:
    config = parse_config(
        {"brands": BRANDS, "sources": [{"name": "tg", "type": "telegram", "channel": given}]}
    )
    assert config.sources[0].channel == expected
    assert config.sources[0].base_url == "https://t.me"
    assert config.sources[0].max_pages == 50


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("channel", "+AbCdEf123", "not a public channel username"),
        ("base_url", "ftp://t.me", "not an http"),
        ("base_url", "https://mirror.example/tme", "site root"),
        ("max_pages", 0, "greater than 0"),
    ],
)
def test_bad_telegram_config_names_the_field(field: str, value: object, error: str) -> None:
    source = {"name": "tg", "type": "telegram", "channel": "finly_news", field: value}
    with pytest.raises(ConfigError) as err:
        parse_config({"brands": BRANDS, "sources": [source]})
    assert any(e.startswith(f"sources[0].{field}:") and error in e for e in err.value.errors)


def test_newer_pythons_get_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "version_info", (3, 12, 1, "final", 0))
    with pytest.raises(ExtractError) as err:
        import_snscrape("telegram")
    assert "Python 3.12" in str(err.value) and "\n" not in str(err.value)
