"""The `rest_api` source and its recipes (config/recipes/) against recorded responses.

Each network's responses (tests/fixtures/rest_api/<network>/) are written in the format
of its public API reference and served on 127.0.0.1 by handlers that behave as the API
does where it matters: the token checked, the paging parameter followed, the `since`
filter applied (inclusively, as most APIs do). The recipes are loaded as shipped; only
the scheme and host of their `url` point at the local server.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import duckdb
import pytest
import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from cjm.core.config import ConfigError, expand_env, parse_config
from cjm.core.secrets import literal_secret_errors
from cjm.extractors import ExtractContext, Extracted, ExtractError, get_extractor
from cjm.extractors.rest import MISSING, value_at
from cjm.refresh import tasks
from cjm.refresh.settings import environment_problems

ROOT = Path(__file__).parents[1]
RECIPES = ROOT / "config" / "recipes"
FIX = Path(__file__).parent / "fixtures" / "rest_api"
BRANDS = [{"name": "Finly", "keywords": ["finly", "финли"]}]
FAST = {"max_tries": 3, "backoff_seconds": 0.01, "timeout_read": 5}
TOKENS = {
    "VK_SERVICE_TOKEN": "vk-service-token-0123456789",
    "MASTODON_TOKEN": "mastodon-user-token-42",
    "REDDIT_TOKEN": "reddit-oauth-token-77",
    "YOUTUBE_API_KEY": "AIzaSy-test-key-000111",
    "LISTENING_API_KEY": "listening-key-5150",
}
YT_CHANNEL = "UCfinly0000000000000000"


def fixture(path: str) -> Any:
    return json.loads((FIX / path).read_text(encoding="utf-8"))


def recipe(file: str, name: str | None = None) -> dict[str, Any]:
    entries = yaml.safe_load((RECIPES / file).read_text(encoding="utf-8"))
    assert isinstance(entries, list) and entries
    return dict(next(e for e in entries if name in (None, e["name"])))


def local(entry: dict[str, Any], server: HTTPServer, **changes: Any) -> dict[str, Any]:
    """The recipe as shipped, its URL's scheme and host moved to the local server."""
    parts = urlsplit(entry["url"])
    base = urlsplit(server.url_for("/"))
    url = urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))
    return {**entry, "url": url, "enabled": True, **FAST, **changes}


def context(entry: dict[str, Any], cursor: str | None = None) -> ExtractContext:
    raw = {"brands": BRANDS, "sources": [entry]}
    assert literal_secret_errors(raw) == []  # recipes hold references, never secrets
    config = parse_config(expand_env(raw))
    return ExtractContext(
        config, config.sources[0], "run-1", datetime(2026, 12, 1, tzinfo=UTC), cursor
    )


def run(entry: dict[str, Any], cursor: str | None = None) -> Extracted:
    return get_extractor("rest_api")(context(entry, cursor))


def ids(out: Extracted) -> list[str]:
    return out.table.column("native_id").to_pylist()


def attrs(out: Extracted) -> dict[str, dict[str, Any]]:
    return {
        r["native_id"]: json.loads(r["attributes"]) if r["attributes"] else {}
        for r in out.table.to_pylist()
    }


def args(server: HTTPServer) -> list[dict[str, str]]:
    return [dict(r.args) for r, _ in server.log]


@pytest.fixture
def tokens(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for var, value in TOKENS.items():
        monkeypatch.setenv(var, value)
    monkeypatch.setenv("YOUTUBE_CHANNEL_ID", YT_CHANNEL)
    return TOKENS


def as_json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False),
        status=status,
        headers=headers,
        content_type="application/json; charset=utf-8",
    )


# --- the recorded APIs ----------------------------------------------------------------------


class Vk:
    """newsfeed.search, API 5.199: the token in `access_token`, errors in a 200 body."""

    PAGES: ClassVar[dict[str, dict[str | None, str]]] = {
        "finly": {None: "search_finly_1.json", "3/4410_12": "search_finly_2.json"},
        "финли": {None: "search_finli_1.json"},
    }

    def __init__(self) -> None:
        self.new_posts: list[dict[str, Any]] = []  # published after the recording
        self.errors: list[str] = []  # fixture files answered (once each) before the pages

    def __call__(self, request: Request) -> Response:
        a = request.args
        if a.get("access_token") != TOKENS["VK_SERVICE_TOKEN"]:
            return as_json(fixture("vk/error_5.json"))
        assert a["v"] == "5.199" and a["count"] == "200"
        if self.errors:
            return as_json(fixture(f"vk/{self.errors.pop(0)}"))
        page = self.PAGES.get(a["q"], {}).get(a.get("start_from"))
        body = fixture(f"vk/{page}") if page else {"response": {"items": [], "count": 0}}
        if a["q"] == "finly" and a.get("start_from") is None:
            body["response"]["items"][:0] = self.new_posts
        if "start_time" in a:  # inclusive, as VK's is
            items = body["response"]["items"]
            body["response"]["items"] = [i for i in items if i["date"] >= int(a["start_time"])]
        return as_json(body)


def serve_vk(server: HTTPServer) -> Vk:
    vk = Vk()
    server.expect_request("/method/newsfeed.search").respond_with_handler(vk)
    return vk


def serve_mastodon(server: HTTPServer) -> None:
    path = "/api/v1/timelines/tag/finly"
    pages = {None: 1, "113500000000000103": 2, "113500000000000101": 3}

    def tag(request: Request) -> Response:
        assert request.headers.get("Authorization") is None  # open instance: no token
        n = pages[request.args.get("max_id")]
        statuses = fixture(f"mastodon/tag_finly_{n}.json")
        headers = {}
        if statuses:
            base = server.url_for(path)
            headers["Link"] = (
                f'<{base}?limit=40&max_id={statuses[-1]["id"]}>; rel="next", '
                f'<{base}?limit=40&min_id={statuses[0]["id"]}>; rel="prev"'
            )
        return as_json(statuses, headers=headers)

    def search(request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {TOKENS['MASTODON_TOKEN']}":
            return as_json({"error": "The access token is invalid"}, status=401)
        assert request.args["type"] == "statuses" and request.args["q"] in ("finly", "финли")
        if request.args["q"] == "finly" and request.args.get("offset") == "0":
            return as_json(fixture("mastodon/search_finly_1.json"))
        return as_json({"accounts": [], "statuses": [], "hashtags": []})

    server.expect_request(path).respond_with_handler(tag)
    server.expect_request("/api/v2/search").respond_with_handler(search)


REDDIT_PAGES = {None: 1, "t3_1h5c0zz": 2}


def reddit_search(request: Request) -> Response:
    if request.headers.get("Authorization") != f"Bearer {TOKENS['REDDIT_TOKEN']}":
        return as_json({"message": "Unauthorized", "error": 401}, status=401)
    if request.args["q"] != "finly":
        return as_json({"kind": "Listing", "data": {"after": None, "children": []}})
    return as_json(fixture(f"reddit/search_finly_{REDDIT_PAGES[request.args.get('after')]}.json"))


def serve_reddit(server: HTTPServer) -> None:
    server.expect_request("/search.json").respond_with_handler(reddit_search)


def serve_youtube(server: HTTPServer) -> None:
    pages = {None: 1, "QURTSl9pMlQ": 2}

    def threads(request: Request) -> Response:
        if request.args.get("key") != TOKENS["YOUTUBE_API_KEY"]:
            return as_json(
                {
                    "error": {
                        "code": 400,
                        "message": "API key not valid. Please pass a valid API key.",
                    }
                },
                status=400,
            )
        assert request.args["allThreadsRelatedToChannelId"] == YT_CHANNEL
        assert request.args["part"] == "snippet,replies"
        return as_json(fixture(f"youtube/threads_{pages[request.args.get('pageToken')]}.json"))

    server.expect_request("/youtube/v3/commentThreads").respond_with_handler(threads)


def serve_listening(server: HTTPServer) -> None:
    def mentions(request: Request) -> Response:
        if request.headers.get("X-Api-Key") != TOKENS["LISTENING_API_KEY"]:
            return as_json({"error": "invalid api key"}, status=401)
        body = fixture("listening/mentions_1.json")
        if request.args["page"] != "1":
            body["data"] = []
        if "from" in request.args:  # inclusive
            since = datetime.fromisoformat(request.args["from"].replace("Z", "+00:00"))
            body["data"] = [
                r for r in body["data"] if datetime.fromisoformat(r["published_at"]) >= since
            ]
        return as_json(body)

    server.expect_request("/v2/mentions").respond_with_handler(mentions)


VK_IDS = ["-20001_501", "3301_77", "4410_12", "5120_900", "6001_3", "7007_45"]
MASTODON_IDS = [f"1135000000000001{n:02d}" for n in (5, 4, 3, 2, 1)]
REDDIT_IDS = ["t3_1h5e9k2", "t3_1h5d1a7", "t3_1h5c0zz", "t3_1h5b3qq", "t3_1h5a8mm"]
A = "UgzA1finlyComment4AaABAg"
YOUTUBE_IDS = [A, f"{A}.A1x9reply0001", f"{A}.A1x9reply0002", "UgzB2finlyComment4AaABAg"]
YOUTUBE_IDS.append("UgzC3finlyComment4AaABAg")
LISTENING_IDS = ["m-1001", "m-1002", "m-1003", "m-1004"]

CASES = {
    # recipe file, entry, serve, ids in order, requests of a full first run
    "vk": ("vk.yml", "vk_search", serve_vk, VK_IDS, 3),
    "mastodon_tag": ("mastodon.yml", "mastodon_tag", serve_mastodon, MASTODON_IDS, 3),
    "mastodon_search": ("mastodon.yml", "mastodon_search", serve_mastodon, MASTODON_IDS[1:3], 2),
    "reddit": ("reddit.yml", "reddit_search", serve_reddit, REDDIT_IDS, 3),
    "youtube": ("youtube.yml", "youtube_comments", serve_youtube, YOUTUBE_IDS, 2),
    "listening": ("listening_platform.yml", "listening_api", serve_listening, LISTENING_IDS, 1),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_recipe_pages_to_the_end_and_a_rerun_reads_nothing_new(
    case: str, httpserver: HTTPServer, tokens: dict[str, str]
) -> None:
    file, name, serve, expected, requests = CASES[case]
    serve(httpserver)
    entry = local(recipe(file, name), httpserver)
    first = run(entry)
    assert ids(first) == expected
    assert len(httpserver.log) == requests
    rows = first.table.to_pylist()
    assert all(r["source_type"] == "rest_api" and r["brand"] == "Finly" for r in rows)
    assert all(r["published_at"] is not None and r["url"] for r in rows)
    channels = {r["channel"] for r in rows}
    assert channels == (
        {"vk", "forum", "telegram"} if case == "listening" else {case.split("_")[0]}
    )
    for secret in tokens.values():
        assert secret not in json.dumps(rows, default=str)

    httpserver.clear_log()
    again = run(entry, cursor=first.cursor)
    assert again.table.num_rows == 0 and again.rows_seen == 0
    assert again.cursor == first.cursor
    # resumed at the cursor: a since filter sent, or a newest-first listing stopped early
    sent = args(httpserver)
    if entry.get("since_param"):
        assert all(entry["since_param"] in q for q in sent)
    elif entry.get("newest_first"):
        assert len(sent) < requests or requests == 1
        assert any("nothing newer than the cursor" in n for n in again.notes)


def test_vk_maps_its_fields_and_asks_once_per_keyword(
    httpserver: HTTPServer, tokens: dict[str, str]
) -> None:
    serve_vk(httpserver)
    out = run(local(recipe("vk.yml"), httpserver))
    assert [q["q"] for q in args(httpserver)] == ["finly", "finly", "финли"]
    assert all(q["access_token"] == tokens["VK_SERVICE_TOKEN"] for q in args(httpserver))
    got = {r["native_id"]: r for r in out.table.to_pylist()}
    post = got["-20001_501"]
    assert post["url"] == "https://vk.com/wall-20001_501"
    assert post["author"] == "-20001"
    assert post["published_at"] == datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    a = attrs(out)
    assert a["-20001_501"]["reach"] == 1500 and a["-20001_501"]["engagement"] == 48
    assert "reach" not in a["6001_3"]  # no views counter on that post: no reach, not 0
    assert a["7007_45"]["query"] == "финли"
    assert a["3301_77"]["query"] == "finly"  # found by both queries, kept once
    cursor = json.loads(out.cursor)["series"]
    assert cursor["finly"]["since"] == "2026-11-29T12:00:00Z"
    assert cursor["финли"] == {"since": "2026-11-29T09:30:00Z", "ids": ["3301_77"]}


def test_vk_resumes_at_the_cursor_with_start_time(
    httpserver: HTTPServer, tokens: dict[str, str]
) -> None:
    vk = serve_vk(httpserver)
    entry = local(recipe("vk.yml"), httpserver)
    first = run(entry)
    newer = fixture("vk/search_finly_1.json")["response"]["items"][0]
    vk.new_posts.append(
        {**newer, "id": 502, "date": newer["date"] + 3600, "text": "Finly: новый тариф"}
    )
    httpserver.clear_log()
    second = run(entry, cursor=first.cursor)
    assert ids(second) == ["-20001_502"]
    start_times = {q["q"]: int(q["start_time"]) for q in args(httpserver)}
    assert start_times == {
        "finly": int(datetime(2026, 11, 29, 12, 0, tzinfo=UTC).timestamp()),
        "финли": int(datetime(2026, 11, 29, 9, 30, tzinfo=UTC).timestamp()),
    }
    assert json.loads(second.cursor)["series"]["finly"]["since"] == "2026-11-29T13:00:00Z"


def test_a_429_with_retry_after_is_honoured(httpserver: HTTPServer, tokens: dict[str, str]) -> None:
    limited = {"left": 1}

    def search(request: Request) -> Response:
        if request.args.get("after") == "t3_1h5c0zz" and limited["left"]:
            limited["left"] -= 1
            return as_json(
                {"message": "Too Many Requests", "error": 429},
                status=429,
                headers={"Retry-After": "1", "X-Ratelimit-Remaining": "0"},
            )
        return reddit_search(request)

    httpserver.expect_request("/search.json").respond_with_handler(search)
    started = time.monotonic()
    out = run(local(recipe("reddit.yml"), httpserver))
    assert time.monotonic() - started >= 1.0  # waited as the server asked
    assert ids(out) == REDDIT_IDS
    asked = [(r.args["q"], r.args.get("after")) for r, _ in httpserver.log]
    page_2 = ("finly", "t3_1h5c0zz")
    assert asked == [("finly", None), page_2, page_2, ("финли", None)]


def test_a_rate_limit_error_in_a_200_body_is_retried(
    httpserver: HTTPServer, tokens: dict[str, str]
) -> None:
    vk = serve_vk(httpserver)
    vk.errors = ["error_6.json", "error_6.json"]
    entry = local(recipe("vk.yml"), httpserver)
    entry["body_errors"] = {**entry["body_errors"], "retry_seconds": 0.01}
    out = run(entry)
    assert ids(out) == VK_IDS
    assert len(httpserver.log) == 3 + 2


def test_a_quota_error_in_a_200_body_stops_with_one_line_and_loses_nothing(
    httpserver: HTTPServer, tokens: dict[str, str]
) -> None:
    vk = serve_vk(httpserver)
    entry = local(recipe("vk.yml"), httpserver)
    first = run(entry)
    new = fixture("vk/search_finly_1.json")["response"]["items"][0]
    vk.new_posts.append({**new, "id": 503, "date": new["date"] + 60, "text": "Finly снова"})
    vk.errors = ["error_29.json"]  # the daily quota is spent
    with pytest.raises(ExtractError) as err:
        run(entry, cursor=first.cursor)
    message = str(err.value)
    assert "\n" not in message and message.startswith("source 'vk_search': GET ")
    assert "API error 29 (Rate limit reached)" in message and "cursor is unchanged" in message
    assert tokens["VK_SERVICE_TOKEN"] not in message and "access_token=***" in message
    # the next run, with the cursor the failed one left alone, gets the post
    assert ids(run(entry, cursor=first.cursor)) == ["-20001_503"]


def test_a_rate_limit_that_does_not_lift_gives_up_in_bounded_tries(
    httpserver: HTTPServer, tokens: dict[str, str]
) -> None:
    vk = serve_vk(httpserver)
    vk.errors = ["error_6.json"] * 10
    entry = local(recipe("vk.yml"), httpserver)
    entry["body_errors"] = {**entry["body_errors"], "retry_seconds": 0.01}
    with pytest.raises(ExtractError, match=r"API error 6 \(Too many requests per second\) after 3"):
        run(entry)
    assert len(httpserver.log) == 3


@pytest.mark.parametrize(
    ("file", "var", "key"),
    [
        ("vk.yml", "VK_SERVICE_TOKEN", "query_env"),
        ("reddit.yml", "REDDIT_TOKEN", "bearer_env"),
        ("youtube.yml", "YOUTUBE_API_KEY", "query_env"),
        ("listening_platform.yml", "LISTENING_API_KEY", "header_env"),
    ],
)
def test_a_missing_token_is_one_line_at_check_config_and_at_run_time(
    file: str,
    var: str,
    key: str,
    httpserver: HTTPServer,
    tokens: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(var)
    entry = local(recipe(file), httpserver)
    ctx = context(entry)
    errors, _ = environment_problems(ctx.config)
    assert errors == [
        f"sources[0].auth.{key}: {var} is not set; source {entry['name']!r} (rest_api) "
        "does not run without its token"
    ]
    with pytest.raises(ExtractError) as err:
        get_extractor("rest_api")(ctx)
    assert str(err.value) == (
        f"source {entry['name']!r}: environment variable {var} (auth.{key}) is not set or empty"
    )
    assert httpserver.log == []  # no request went out without it


def test_a_wrong_token_is_fatal_and_never_shown(
    httpserver: HTTPServer, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_vk(httpserver)
    monkeypatch.setenv("VK_SERVICE_TOKEN", "revoked-token-999")
    with pytest.raises(ExtractError) as err:
        run(local(recipe("vk.yml"), httpserver))
    message = str(err.value)
    assert "API error 5 (User authorization failed" in message
    assert "revoked-token-999" not in message and len(httpserver.log) == 1  # not retried


def test_youtube_over_quota_is_one_line(httpserver: HTTPServer, tokens: dict[str, str]) -> None:
    httpserver.expect_request("/youtube/v3/commentThreads").respond_with_json(
        fixture("youtube/quota_exceeded.json"), status=403
    )
    with pytest.raises(ExtractError) as err:
        run(local(recipe("youtube.yml"), httpserver))
    message = str(err.value)
    assert "HTTP 403" in message and "exceeded your" in message and "\n" not in message
    assert tokens["YOUTUBE_API_KEY"] not in message


def test_a_required_field_missing_goes_to_quarantine_named(
    httpserver: HTTPServer, tokens: dict[str, str]
) -> None:
    serve_listening(httpserver)
    got = {
        r["native_id"]: r
        for r in run(local(recipe("listening_platform.yml"), httpserver)).table.to_pylist()
    }
    assert got["m-1003"]["_errors"] == "text: missing (columns.text = 'text')"
    assert got["m-1003"]["title"] == "Обзор Finly"
    assert got["m-1003"]["_row"] == "listening_api page 1 record 3"
    assert all(got[i]["_errors"] is None for i in ("m-1001", "m-1002", "m-1004"))


def test_replies_are_linked_to_their_parents(
    httpserver: HTTPServer, tokens: dict[str, str]
) -> None:
    serve_mastodon(httpserver)
    serve_youtube(httpserver)
    serve_listening(httpserver)
    toots = attrs(run(local(recipe("mastodon.yml", "mastodon_tag"), httpserver)))
    assert toots["113500000000000105"]["reply_to"] == "113500000000000103"
    assert "reply_to" not in toots["113500000000000104"]
    comments = attrs(run(local(recipe("youtube.yml"), httpserver)))
    assert comments[f"{A}.A1x9reply0001"]["reply_to"] == A
    assert comments[f"{A}.A1x9reply0002"]["reply_to"] == A
    assert "reply_to" not in comments[A]
    assert comments[A]["engagement"] == 14 + 2  # likes + replies
    exported = attrs(run(local(recipe("listening_platform.yml"), httpserver)))
    assert exported["m-1002"]["reply_to"] == "m-1001"


def test_mastodon_html_is_stored_as_text(httpserver: HTTPServer, tokens: dict[str, str]) -> None:
    serve_mastodon(httpserver)
    out = run(local(recipe("mastodon.yml", "mastodon_tag"), httpserver))
    got = {r["native_id"]: r for r in out.table.to_pylist()}
    assert (
        got["113500000000000104"]["text"]
        == "Switched my salary card to Finly & the app is fast. #finly"
    )
    assert got["113500000000000103"]["text"].startswith("Перевод через Finly висит второй день")
    assert (
        got["113500000000000104"]["author"] == "anna"
        and got["113500000000000104"]["language"] == "en"
    )
    a = attrs(out)["113500000000000104"]
    assert (a["reach"], a["engagement"]) == (210, 1 + 3 + 12)


def test_reddit_link_posts_take_their_title_as_text(
    httpserver: HTTPServer, tokens: dict[str, str]
) -> None:
    serve_reddit(httpserver)
    out = run(local(recipe("reddit.yml"), httpserver))
    got = {r["native_id"]: r for r in out.table.to_pylist()}
    assert got["t3_1h5b3qq"]["text"] == "Finly raises new round"
    assert got["t3_1h5e9k2"]["url"] == (
        "https://www.reddit.com/r/personalfinance/comments/1h5e9k2/finly/"
    )
    assert attrs(out)["t3_1h5e9k2"]["subreddit"] == "r/personalfinance"


def test_the_listening_recipe_through_extract_validate_load(
    httpserver: HTTPServer, tokens: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_listening(httpserver)
    raw = {"brands": BRANDS, "sources": [local(recipe("listening_platform.yml"), httpserver)]}
    config = parse_config(expand_env(raw), base_dir=tmp_path)
    warehouse = str(tmp_path / "warehouse.duckdb")
    monkeypatch.setenv("CJM_LANDING", str(tmp_path / "landing"))
    extracted = tasks.extract("listening_api", "run-1", config, warehouse)
    assert extracted["source_type"] == "rest_api" and extracted["rows_extracted"] == 4
    validated = tasks.validate("listening_api", "run-1", config, warehouse)
    assert (validated["rows_passed"], validated["rows_quarantined"]) == (3, 1)
    assert tasks.load("run-1", config, warehouse)["failed"] == {}
    con = duckdb.connect(warehouse, read_only=True)
    try:
        stored = con.execute(
            "select native_id, channel, attributes->>'platform_sentiment', "
            "attributes->>'reply_to' from raw.mentions order by native_id"
        ).fetchall()
        (reason,) = con.execute("select reason from ops.quarantine").fetchone()
        (cursor,) = con.execute(
            "select cursor from ops.source_state where source = 'listening_api'"
        ).fetchone()
    finally:
        con.close()
    assert stored == [
        ("m-1001", "vk", "negative", None),
        ("m-1002", "vk", "neutral", "m-1001"),
        ("m-1004", "telegram", "positive", None),
    ]
    assert "text: missing" in reason
    assert json.loads(cursor)["series"][""]["since"] == "2026-11-29T05:30:00Z"
    httpserver.clear_log()
    again = tasks.extract("listening_api", "run-2", config, warehouse)
    assert again["rows_extracted"] == 0
    assert args(httpserver)[0]["from"] == "2026-11-29T05:30:00Z"


# --- the declaration ------------------------------------------------------------------------


def test_values_paths_templates_sums_and_alternatives() -> None:
    record = {"id": 7, "owner_id": -1, "likes": {"count": 2}, "reposts": {"count": 3}, "t": ""}
    assert value_at(record, "likes.count") == 2
    assert value_at(record, "https://vk.com/wall{owner_id}_{id}") == "https://vk.com/wall-1_7"
    assert value_at(record, "wall{owner_id}_{missing}") is MISSING
    assert value_at(record, "likes.count + reposts.count + comments.count") == 5
    assert value_at(record, "views.count + comments.count") is MISSING
    assert value_at(record, "t | id") == 7 and value_at(record, "t | nope") is MISSING


def test_config_errors_name_the_key() -> None:
    base = {"name": "api", "type": "rest_api", "url": "https://api.example/x"}
    with pytest.raises(ConfigError) as err:
        parse_config({"brands": BRANDS, "sources": [{**base, "columns": {"native_id": "id"}}]})
    assert err.value.errors == [
        "sources[0]: columns: map the required mention field(s) ['text', 'published_at']"
    ]
    full = {**base, "columns": {"native_id": "id", "text": "t", "published_at": "d"}}
    with pytest.raises(ConfigError) as err:
        parse_config({"brands": BRANDS, "sources": [{**full, "auth": {"query_env": "VK_TOKEN"}}]})
    assert "query_env needs query_param" in err.value.errors[0]
    with pytest.raises(ConfigError) as err:
        parse_config(
            {"brands": BRANDS, "sources": [{**full, "columns": {**full["columns"], "likes": "x"}}]}
        )
    assert "unknown mention field(s) ['likes']" in err.value.errors[0]


def test_every_recipe_is_a_valid_source_and_holds_no_secret() -> None:
    files = sorted(RECIPES.glob("*.yml"))
    assert {f.stem for f in files} == {"vk", "mastodon", "reddit", "youtube", "listening_platform"}
    for f in files:
        entries = yaml.safe_load(f.read_text(encoding="utf-8"))
        raw = {"brands": BRANDS, "sources": entries}
        assert literal_secret_errors(raw) == [], f
        config = parse_config(raw)
        assert all(s.type == "rest_api" for s in config.sources)
        text = f.read_text(encoding="utf-8")
        for word in ("Token:", "Quotas:", "Terms:", "Public:", "Maps"):
            assert word in text, f"{f.name} does not document {word}"
