"""The `crm_api` source against recorded CRM pages served on 127.0.0.1 (tests/fixtures/http)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from cjm.core.config import parse_config
from cjm.core.contracts import hash_customer_id
from cjm.extractors import ExtractContext, Extracted, ExtractError, get_extractor

HTTP = Path(__file__).parent / "fixtures" / "http"
BRANDS = [{"name": "Finly", "keywords": ["finly", "финли"]}]
COLUMNS = {
    "native_id": "id",
    "customer_key": "contact.email",
    "event_type": "type",
    "occurred_at": "created_at",
    "channel": "utm.source",
    "campaign": "utm.campaign",
    "touchpoint": "touchpoint",
    "message": "note",
    "amount": "amount",
}
FAST = {"max_tries": 2, "backoff_seconds": 0.01, "timeout_read": 2}
ALL_IDS = [f"crm-{i}" for i in range(1001, 1008)]


def page(name: str) -> object:
    return json.loads((HTTP / name).read_text(encoding="utf-8"))


def run(url: str, cursor: str | None = None, pii: dict | None = None, **source) -> Extracted:
    src = {"name": "crm_live", "type": "crm_api", "url": url, "columns": COLUMNS, **FAST}
    src.update(source)
    config = parse_config({"brands": BRANDS, "sources": [src], "pii": pii or {}})
    ctx = ExtractContext(
        config, config.sources[0], "run-1", datetime(2026, 11, 1, tzinfo=UTC), cursor
    )
    return get_extractor("crm_api")(ctx)


def ids(result: Extracted) -> list[str]:
    return result.table.column("native_id").to_pylist()


def queries(httpserver: HTTPServer) -> list[dict[str, str]]:
    return [dict(r.args) for r, _ in httpserver.log]


def test_cursor_pagination_and_record_shaping(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/crm/v3/events", query_string="limit=3").respond_with_json(
        page("crm_cursor_1.json")
    )
    for n, after in ((2, "MTAwMw"), (3, "MTAwNg")):
        httpserver.expect_request(
            "/crm/v3/events", query_string=f"limit=3&after={after}"
        ).respond_with_json(page(f"crm_cursor_{n}.json"))
    out = run(
        httpserver.url_for("/crm/v3/events"),
        records="results",
        params={"limit": 3},
        pagination={"type": "cursor", "param": "after", "next": "paging.next.after"},
    )
    assert ids(out) == ALL_IDS
    assert out.entity == "crm_event" and out.rows_seen == 7
    got = {r["native_id"]: r for r in out.table.to_pylist()}
    paid = got["crm-1003"]
    assert paid["amount"] == 1490.0  # "1 490,00"
    assert paid["occurred_at"] == datetime(2026, 9, 2, 9, 0, tzinfo=UTC)  # +03:00
    assert got["crm-1005"]["occurred_at"] == datetime(2026, 9, 4, 12, 0, tzinfo=UTC)  # epoch ms
    assert got["crm-1007"]["amount"] == 990.0
    first = got["crm-1001"]
    assert first["event_type"] == "site_visit" and first["channel"] == "google"
    assert first["campaign"] == "gg_search_brand" and first["touchpoint"] == "landing_page"
    assert first["message"] == "Finly — бесплатная карта за 5 минут"
    assert first["brand"] == "Finly"
    # customer ids are keyed hashes; the contact object (e-mail, phone) is stored nowhere
    assert first["customer_key"] == hash_customer_id("anna.smirnova@example.com", b"test-secret")
    row_text = json.dumps(out.table.to_pylist(), default=str)
    assert "@example.com" not in row_text and "+7 900" not in row_text
    assert first["attributes"] is None  # unmapped CRM fields are dropped by default
    assert all(r["_errors"] is None for r in got.values())
    assert "personal data: fields dropped" in " ".join(out.notes)
    assert json.loads(out.cursor) == {"since": "2026-09-06T10:00:00Z", "ids": ["crm-1007"]}


def first_updated() -> str:
    return page("crm_cursor_1.json")["results"][0]["updated_at"]


def test_cursor_next_as_a_url(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/crm/v3/objects/events", query_string="after=MTAwMw"
    ).respond_with_json(page("crm_cursor_2.json"))
    httpserver.expect_request(
        "/crm/v3/objects/events", query_string="after=MTAwNg"
    ).respond_with_json(page("crm_cursor_3.json"))
    httpserver.expect_request("/crm/v3/objects/events").respond_with_json(page("crm_cursor_1.json"))
    out = run(
        httpserver.url_for("/crm/v3/objects/events"),
        records="results",
        pagination={"type": "cursor", "next": "paging.next.link"},
    )
    assert ids(out) == ALL_IDS


def test_page_pagination_stops_on_a_short_page(httpserver: HTTPServer) -> None:
    for n in (1, 2, 3):
        httpserver.expect_request(
            "/api/v1/events", query_string=f"per_page=3&page={n}"
        ).respond_with_json(page(f"crm_page_{n}.json"))
    out = run(
        httpserver.url_for("/api/v1/events"),
        pagination={"type": "page", "param": "page", "size_param": "per_page", "size": 3},
    )
    assert ids(out) == ALL_IDS
    assert [q["page"] for q in queries(httpserver)] == ["1", "2", "3"]  # no 4th request


def test_page_pagination_without_size_stops_on_an_empty_page(httpserver: HTTPServer) -> None:
    for n in (1, 2, 3):
        httpserver.expect_request("/api/v1/events", query_string=f"page={n}").respond_with_json(
            page(f"crm_page_{n}.json")
        )
    httpserver.expect_request("/api/v1/events", query_string="page=4").respond_with_json(
        {"data": [], "meta": {"current_page": 4}}
    )
    out = run(httpserver.url_for("/api/v1/events"), pagination={"type": "page"})
    assert ids(out) == ALL_IDS and len(httpserver.log) == 4


def test_offset_pagination_with_a_dotted_records_path(httpserver: HTTPServer) -> None:
    for start in (0, 3, 6):
        httpserver.expect_request(
            "/rest/crm.item.list", query_string=f"entityTypeId=1036&start={start}"
        ).respond_with_json(page(f"crm_offset_{start}.json"))
    out = run(
        httpserver.url_for("/rest/crm.item.list"),
        records="result.items",
        params={"entityTypeId": 1036},
        pagination={"type": "offset", "param": "start", "size": 3},
    )
    assert ids(out) == ALL_IDS and len(httpserver.log) == 3


def test_link_header_pagination(httpserver: HTTPServer) -> None:
    base = httpserver.url_for("/events")
    for n in (1, 2, 3):
        headers = {}
        if n < 3:
            headers["Link"] = (
                f'<{base}?per_page=3&page={n + 1}>; rel="next", '
                f'<{base}?per_page=3&page=3>; rel="last"'
            )
        query = "per_page=3" if n == 1 else f"per_page=3&page={n}"
        httpserver.expect_request("/events", query_string=query).respond_with_json(
            page(f"crm_link_{n}.json"), headers=headers
        )
    out = run(base, records="$", params={"per_page": 3}, pagination={"type": "link"})
    assert ids(out) == ALL_IDS and len(httpserver.log) == 3


def test_incremental_since_param_and_rerun(httpserver: HTTPServer) -> None:
    url = httpserver.url_for("/api/v1/events")
    source = {
        "since_param": "updated_since",
        "pagination": {"type": "page", "size_param": "per_page", "size": 3},
    }
    for n in (1, 2, 3):
        httpserver.expect_request(
            "/api/v1/events", query_string=f"per_page=3&page={n}"
        ).respond_with_json(page(f"crm_page_{n}.json"))
    first = run(url, **source)
    assert ids(first) == ALL_IDS
    assert "updated_since" not in queries(httpserver)[0]  # the first run reads everything

    httpserver.clear()
    # An inclusive `since` filter: the API returns crm-1007 again, plus two new events.
    httpserver.expect_request(
        "/api/v1/events",
        query_string={"updated_since": "2026-09-06T10:00:00Z", "per_page": "3", "page": "1"},
    ).respond_with_json(page("crm_since.json"))
    httpserver.expect_request(
        "/api/v1/events",
        query_string={"updated_since": "2026-09-06T10:00:00Z", "per_page": "3", "page": "2"},
    ).respond_with_json({"data": [], "meta": {"current_page": 2}})
    second = run(url, cursor=first.cursor, **source)
    assert ids(second) == ["crm-1008", "crm-1009"]
    assert json.loads(second.cursor) == {"since": "2026-09-07T07:05:00Z", "ids": ["crm-1009"]}

    httpserver.clear()
    last = page("crm_since.json")
    last["data"] = last["data"][2:]  # only crm-1009 is at or after the cursor
    httpserver.expect_request(
        "/api/v1/events",
        query_string={"updated_since": "2026-09-07T07:05:00Z", "per_page": "3", "page": "1"},
    ).respond_with_json(last)
    third = run(url, cursor=second.cursor, **source)
    assert third.table.num_rows == 0 and third.rows_seen == 0
    assert third.cursor == second.cursor


def test_since_as_epoch_and_cursor_field(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/events", query_string="modified_after=1788688800"
    ).respond_with_json(page("crm_since.json"))
    cursor = json.dumps({"since": "2026-09-06T10:00:00Z", "ids": ["crm-1007"]})
    out = run(
        httpserver.url_for("/events"),
        cursor=cursor,
        since_param="modified_after",
        since_format="epoch",
        cursor_field="updated_at",
    )
    assert ids(out) == ["crm-1008", "crm-1009"]


def test_newest_first_pages_until_the_stored_cursor(httpserver: HTTPServer) -> None:
    records = [r for n in (1, 2, 3) for r in page(f"crm_page_{n}.json")["data"]][::-1]
    for n in (1, 2, 3):
        httpserver.expect_request("/feed", query_string=f"page={n}").respond_with_json(
            {"data": records[(n - 1) * 3 : n * 3]}
        )
    # An earlier run read everything up to crm-1005 (2026-09-04 12:00 UTC).
    cursor = json.dumps({"since": "2026-09-04T12:00:00Z", "ids": ["crm-1005"]})
    out = run(
        httpserver.url_for("/feed"),
        cursor=cursor,
        newest_first=True,
        pagination={"type": "page"},
    )
    assert ids(out) == ["crm-1007", "crm-1006"]
    assert [q["page"] for q in queries(httpserver)] == ["1", "2"]  # page 3 never asked for
    assert any("nothing newer than the cursor" in n for n in out.notes)
    assert json.loads(out.cursor)["since"] == "2026-09-06T10:00:00Z"


def test_missing_records_path_is_a_clear_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/events").respond_with_json(page("crm_cursor_1.json"))
    with pytest.raises(ExtractError) as exc:
        run(httpserver.url_for("/events"), records="data.items")
    message = str(exc.value)
    assert "'crm_live'" in message and "`data.items`" in message
    assert "['paging', 'results']" in message


def test_records_path_that_is_not_a_list(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/events").respond_with_json(page("crm_offset_0.json"))
    with pytest.raises(ExtractError, match=r"`result` .* is a JSON dict, not a list"):
        run(httpserver.url_for("/events"), records="result")


def test_a_body_that_is_not_json_is_fatal(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/events").respond_with_data("<html>login</html>")
    with pytest.raises(ExtractError, match="not JSON: <html>login</html>"):
        run(httpserver.url_for("/events"))


def test_bearer_token_is_sent_and_401_is_fatal(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_TOKEN", "finly-crm-token-1")

    def handler(request: Request) -> Response:
        if request.headers.get("Authorization") == "Bearer finly-crm-token-1":
            return Response(json.dumps({"data": []}), content_type="application/json")
        return Response('{"message": "Unauthorized"}', status=401)

    httpserver.expect_request("/events").respond_with_handler(handler)
    assert run(httpserver.url_for("/events"), auth={"bearer_env": "CRM_TOKEN"}).rows_seen == 0
    monkeypatch.setenv("CRM_TOKEN", "expired-token-2")
    with pytest.raises(ExtractError) as exc:
        run(httpserver.url_for("/events"), auth={"bearer_env": "CRM_TOKEN"})
    message = str(exc.value)
    assert "HTTP 401" in message and "Unauthorized" in message and "/events" in message
    assert "expired-token-2" not in message


def test_500_forever_fails_after_bounded_tries(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/events").respond_with_data("maintenance", status=500)
    with pytest.raises(ExtractError, match=r"gave up after 2 tries.*HTTP 500"):
        run(httpserver.url_for("/events"))
    assert len(httpserver.log) == 2


def test_500_mid_paging_is_retried(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api", query_string="page=1").respond_with_json(
        page("crm_page_1.json")
    )
    httpserver.expect_oneshot_request("/api", query_string="page=2").respond_with_data(
        "", status=502
    )
    for n in (2, 3):
        httpserver.expect_request("/api", query_string=f"page={n}").respond_with_json(
            page(f"crm_page_{n}.json")
        )
    httpserver.expect_request("/api", query_string="page=4").respond_with_json({"data": []})
    out = run(httpserver.url_for("/api"), pagination={"type": "page"})
    assert ids(out) == ALL_IDS


def test_an_api_that_ignores_the_page_parameter_is_caught(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/events").respond_with_json(page("crm_page_1.json"))
    with pytest.raises(ExtractError, match="repeats the previous page"):
        run(httpserver.url_for("/events"), pagination={"type": "page"})


def test_unparseable_values_go_to_errors_not_away(httpserver: HTTPServer) -> None:
    body = page("crm_page_3.json")
    body["data"][0].update(created_at="06/09/2026 10:00", amount="ten")
    body["data"].append("not an object")
    httpserver.expect_request("/events").respond_with_json(body)
    got = run(httpserver.url_for("/events")).table.to_pylist()
    assert len(got) == 2
    assert "occurred_at: '06/09/2026 10:00' does not match ISO-8601" in got[0]["_errors"]
    assert "amount: 'ten' is not a number" in got[0]["_errors"]
    assert "not an object" in got[1]["_errors"] and got[1]["_row"] == "crm_live page 1 record 2"


def test_required_mapping_is_checked(httpserver: HTTPServer) -> None:
    with pytest.raises(
        ExtractError, match=r"map the required crm_event field\(s\) \['customer_key', 'event_type'"
    ):
        run(httpserver.url_for("/events"), columns={"native_id": "id"}, constants={})


def test_pii_keep_and_hash_named_fields(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/crm/v3/events").respond_with_json(page("crm_cursor_3.json"))
    out = run(
        httpserver.url_for("/crm/v3/events"),
        records="results",
        pii={"keep": ["updated_at"], "hash": ["pipeline"]},
    )
    (row,) = out.table.to_pylist()
    attrs = json.loads(row["attributes"])
    assert set(attrs) == {"updated_at", "pipeline"}  # `note` and `utm` dropped
    assert attrs["updated_at"] == "2026-09-06T10:00:00Z"
    assert len(attrs["pipeline"]) == 32 and attrs["pipeline"] != "retail"  # keyed hash
