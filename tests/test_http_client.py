"""The shared HTTP client against a real server on 127.0.0.1: retries, waits, fatal errors."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from cjm.core.config import SecretRef
from cjm.core.http import (
    USER_AGENT,
    Conditional,
    HttpClient,
    RetryPolicy,
    Timeouts,
    auth_headers,
    parse_retry_after,
    safe_url,
)
from cjm.extractors.base import ExtractError

FAST = RetryPolicy(max_tries=3, backoff=0.01, max_wait=5.0, max_total_wait=10.0)


def client(**kw) -> HttpClient:
    kw.setdefault("retry", FAST)
    kw.setdefault("timeouts", Timeouts(connect=1.0, read=2.0))
    return HttpClient(source="crm_live", **kw)


def test_user_agent_names_the_project(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/ua").respond_with_data("ok")
    with client() as c:
        assert c.get(httpserver.url_for("/ua")).text == "ok"
    request, _ = httpserver.log[0]
    assert request.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("cjm-warehouse/0.")


def test_500_then_success_is_retried(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/events").respond_with_data("boom", status=500)
    httpserver.expect_oneshot_request("/events").respond_with_data("down", status=503)
    httpserver.expect_request("/events").respond_with_json({"data": []})
    with client() as c:
        response = c.get(httpserver.url_for("/events"))
    assert response.json() == {"data": []}
    assert len(httpserver.log) == 3
    assert c.requests_made == 3


def test_429_waits_for_retry_after_seconds(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/rl").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_request("/rl").respond_with_data("ok")
    started = time.perf_counter()
    with client() as c:
        assert c.get(httpserver.url_for("/rl")).text == "ok"
    elapsed = time.perf_counter() - started
    # Retry-After says 1 s; the backoff alone would have waited ~0.01 s.
    # Upper bounds are loose on purpose: they catch 'waited the hour', not slowness.
    assert 0.95 <= elapsed < 10, elapsed
    assert c.total_waited == pytest.approx(1.0)


def test_retry_after_is_capped(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/rl").respond_with_data(
        "", status=429, headers={"Retry-After": "3600"}
    )
    httpserver.expect_request("/rl").respond_with_data("ok")
    started = time.perf_counter()
    with client(retry=RetryPolicy(max_tries=3, backoff=0.01, max_wait=0.2)) as c:
        assert c.get(httpserver.url_for("/rl")).text == "ok"
    assert 0.18 <= time.perf_counter() - started < 10
    assert c.total_waited == pytest.approx(0.2)


def test_retry_after_as_http_date(httpserver: HTTPServer) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    httpserver.expect_oneshot_request("/rl").respond_with_data(
        "", status=503, headers={"Retry-After": when}
    )
    httpserver.expect_request("/rl").respond_with_data("ok")
    started = time.perf_counter()
    with client() as c:
        assert c.get(httpserver.url_for("/rl")).text == "ok"
    # The date has whole seconds: the wait is between 1 and 2 s.
    assert 0.9 <= time.perf_counter() - started < 10


def test_parse_retry_after() -> None:
    now = datetime(2026, 9, 8, 10, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after("Tue, 08 Sep 2026 10:00:30 GMT", now) == 30
    assert parse_retry_after("Tue, 08 Sep 2026 09:00:00 GMT", now) == 0  # in the past
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_500_forever_gives_up_after_bounded_tries(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/events").respond_with_data("<h1>Internal error</h1>", status=500)
    with client() as c, pytest.raises(ExtractError) as exc:
        c.get(httpserver.url_for("/events"), params={"page": 2})
    message = str(exc.value)
    assert "crm_live" in message and "gave up after 3 tries" in message
    assert "HTTP 500" in message and "page=2" in message
    assert len(httpserver.log) == 3


def test_total_wait_is_bounded(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/events").respond_with_data("", status=502)
    policy = RetryPolicy(max_tries=50, backoff=0.1, max_wait=0.1, max_total_wait=0.35, jitter=0)
    started = time.perf_counter()
    with client(retry=policy) as c, pytest.raises(ExtractError, match="gave up after 4 tries"):
        c.get(httpserver.url_for("/events"))
    assert time.perf_counter() - started < 10
    assert c.total_waited == pytest.approx(0.3)


def test_backoff_grows_exponentially_with_jitter() -> None:
    policy = RetryPolicy(backoff=1.0, max_wait=100.0, jitter=0.5)
    for attempt, base in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0)):
        waits = {policy.delay(attempt, None) for _ in range(20)}
        assert all(base <= w <= base * 1.5 for w in waits)
        assert len(waits) > 1  # jittered
    assert RetryPolicy(max_wait=5.0).delay(10, None) == 5.0


def test_read_timeout_is_retried_then_fatal(httpserver: HTTPServer) -> None:
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(0.6)
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    started = time.perf_counter()
    try:
        with (
            client(retry=RetryPolicy(max_tries=2, backoff=0.01), timeouts=Timeouts(1.0, 0.15)) as c,
            pytest.raises(ExtractError, match="read timeout"),
        ):
            c.get(httpserver.url_for("/slow"))
        assert time.perf_counter() - started < 1.5
        assert c.requests_made == 2
    finally:
        release.set()
        time.sleep(0.2)  # let the server finish the abandoned requests before the next test


def test_connection_refused_is_retried_then_fatal() -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with client() as c, pytest.raises(ExtractError) as exc:
        c.get(f"http://127.0.0.1:{port}/events")
    assert "Connection refused" in str(exc.value)
    assert "gave up after 3 tries" in str(exc.value)
    assert c.requests_made == 3


@pytest.mark.parametrize(
    ("status", "hint"), [(401, "check the credentials"), (403, "lack access"), (404, "check `url`")]
)
def test_other_4xx_are_fatal_at_once(httpserver: HTTPServer, status: int, hint: str) -> None:
    httpserver.expect_request("/events").respond_with_json(
        {"error": "invalid_token", "detail": "token sk-live-ABCDEFGH is not valid"}, status=status
    )
    auth = {"Authorization": "Bearer sk-live-ABCDEFGH"}
    with client(auth=auth) as c, pytest.raises(ExtractError) as exc:
        c.get(httpserver.url_for("/events"), params={"api_key": "k-123456", "page": 1})
    message = str(exc.value)
    assert len(httpserver.log) == 1  # not retried
    assert f"HTTP {status}" in message and hint in message
    assert "crm_live" in message and "invalid_token" in message  # body snippet
    assert "api_key=***" in message and "k-123456" not in message
    assert "sk-live-ABCDEFGH" not in message  # the echoed token is masked


def test_error_snippet_is_short(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big").respond_with_data("x" * 10_000, status=400)
    with client() as c, pytest.raises(ExtractError) as exc:
        c.get(httpserver.url_for("/big"))
    assert len(str(exc.value)) < 400


def test_conditional_get_sends_validators_and_returns_304(httpserver: HTTPServer) -> None:
    etag, modified = '"v42"', "Tue, 08 Sep 2026 10:00:00 GMT"

    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304)
        return Response("<rss/>", headers={"ETag": etag, "Last-Modified": modified})

    httpserver.expect_request("/feed").respond_with_handler(handler)
    with client() as c:
        first = c.get(httpserver.url_for("/feed"))
        validators = Conditional.from_response(first)
        assert validators.as_dict() == {"etag": etag, "last_modified": modified}
        second = c.get(httpserver.url_for("/feed"), conditional=validators)
    assert second.status_code == 304
    request, _ = httpserver.log[1]
    assert request.headers["If-None-Match"] == etag
    assert request.headers["If-Modified-Since"] == modified


def test_auth_from_env(monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer) -> None:
    monkeypatch.setenv("CRM_TOKEN", "tok-123456")
    monkeypatch.setenv("CRM_KEY", "key-654321")
    assert auth_headers("s", SecretRef(bearer_env="CRM_TOKEN")) == {
        "Authorization": "Bearer tok-123456"
    }
    ref = SecretRef(header="X-Api-Key", header_env="CRM_KEY")
    httpserver.expect_request("/a", headers={"X-Api-Key": "key-654321"}).respond_with_data("ok")
    with client(auth=auth_headers("s", ref)) as c:
        assert c.get(httpserver.url_for("/a")).text == "ok"
        assert "key-654321" not in repr(c)


def test_missing_env_var_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRM_TOKEN", raising=False)
    with pytest.raises(ExtractError, match=r"crm_live.*CRM_TOKEN.*auth\.bearer_env"):
        auth_headers("crm_live", SecretRef(bearer_env="CRM_TOKEN"))


def test_auth_from_airflow_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    # Airflow reads AIRFLOW_CONN_<ID> through its environment secrets backend.
    monkeypatch.setenv(
        "AIRFLOW_CONN_CRM_DEFAULT",
        '{"conn_type": "http", "host": "crm.example.org", "password": "pw-secret-1"}',
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_CRM_TOKEN",
        '{"conn_type": "http", "password": "pw", "extra": {"token": "tok-from-extra"}}',
    )
    assert auth_headers("s", SecretRef(airflow_conn="crm_default")) == {
        "Authorization": "Bearer pw-secret-1"
    }
    ref = SecretRef(airflow_conn="crm_token", header="X-Api-Key")
    assert auth_headers("s", ref) == {"X-Api-Key": "tok-from-extra"}
    with pytest.raises(ExtractError, match="Airflow connection 'nope'"):
        auth_headers("s", SecretRef(airflow_conn="nope"))


def test_safe_url_hides_credentials() -> None:
    url = "https://user:pw@crm.example.org/api?access_token=abc&page=2&signature=zz"
    shown = safe_url(url)
    assert "pw" not in shown.replace("api", "") and "abc" not in shown and "zz" not in shown
    assert "page=2" in shown and "crm.example.org" in shown


def test_api_key_header_is_not_sent_to_another_host(httpserver: HTTPServer) -> None:
    # The test server answers on "localhost"; 127.0.0.1 is another host to requests.
    elsewhere = httpserver.url_for("/landing").replace("localhost", "127.0.0.1")
    httpserver.expect_request("/moved").respond_with_data(
        "", status=302, headers={"Location": elsewhere}
    )
    httpserver.expect_request("/landing").respond_with_data("ok")
    with client(auth={"X-Api-Key": "key-654321"}) as c:
        assert c.get(httpserver.url_for("/moved")).text == "ok"
    first, second = (r for r, _ in httpserver.log)
    assert first.headers.get("X-Api-Key") == "key-654321"
    assert second.host.startswith("127.0.0.1") and "X-Api-Key" not in second.headers
