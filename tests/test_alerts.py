"""Alert delivery against real local receivers: an SMTP server (aiosmtpd) and an HTTP
server (pytest-httpserver) standing in for Slack, Telegram and a webhook.

The Airflow connections come from AIRFLOW_CONN_* env vars, as they can in production;
no Airflow metadata DB is involved.
"""

from __future__ import annotations

import json
import socket
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer

from cjm.alerts import run_alerts
from cjm.core.config import parse_config
from tests.alerts_helpers import T0, alert_rows, write_marts

SLACK_PATH = "/services/T000/B000/XXXX"
TG_TOKEN = "123456:TESTTOKEN"


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_inbox() -> Any:
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    inbox.port = controller.port  # type: ignore[attr-defined]
    yield inbox
    controller.stop()


@pytest.fixture
def receivers(
    httpserver: HTTPServer, smtp_inbox: _Inbox, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    httpserver.expect_request(SLACK_PATH, method="POST").respond_with_data("ok")
    httpserver.expect_request(f"/bot{TG_TOKEN}/sendMessage", method="POST").respond_with_json(
        {
            "ok": True,
            "result": {
                "message_id": 1,
                "date": 1767225600,
                "chat": {"id": -100123, "type": "channel"},
                "text": "x",
            },
        }
    )
    httpserver.expect_request("/hook", method="POST").respond_with_json({"ok": True})
    base = httpserver.url_for("/").rstrip("/")
    conns = {
        "SLACK_TEST": {"conn_type": "slackwebhook", "password": base + SLACK_PATH},
        "TG_TEST": {"conn_type": "telegram", "host": base, "password": TG_TOKEN},
        "SMTP_TEST": {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": smtp_inbox.port,  # type: ignore[attr-defined]
            "extra": {
                "disable_ssl": True,
                "disable_tls": True,
                "from_email": "cjm@example.org",
                "retry_limit": 0,
                "timeout": 5,
            },
        },
        "HOOK_TEST": {"conn_type": "http", "host": base},
    }
    for conn_id, conn in conns.items():
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id}", json.dumps(conn))
    return {"http": httpserver, "smtp": smtp_inbox}


def _config(notify: list[dict[str, Any]], **alerts: Any) -> Any:
    return parse_config(
        {
            # English by default for targets without a language of their own
            "brands": [{"name": "Acme", "keywords": ["acme"], "language": "en"}],
            "sources": [{"name": "x", "type": "rss", "url": "http://127.0.0.1/rss"}],
            "alerts": {
                "spike": {"cooldown_hours": 3},
                "report_base_url": "https://bi.example.org/cjm/",
                "retry_backoff_seconds": 0,
                "notify": notify,
                **alerts,
            },
        }
    )


ALL_TARGETS = [
    {"type": "slack", "airflow_conn": "slack_test"},
    {"type": "telegram", "airflow_conn": "tg_test", "to": ["-100123"], "language": "ru"},
    {"type": "email", "airflow_conn": "smtp_test", "to": ["pr@example.org"]},
    {"type": "webhook", "airflow_conn": "hook_test", "endpoint": "hook"},
]


def _requests(httpserver: HTTPServer, path: str) -> list[Any]:
    return [req for req, _ in httpserver.log if req.path == path]


def _telegram_text(req: Any) -> str:
    raw = req.get_data(as_text=True)
    try:
        return json.loads(raw)["text"]
    except ValueError:
        return parse_qs(raw)["text"][0]


def test_each_target_gets_one_message_with_the_incident(
    tmp_path: Path, receivers: dict[str, Any]
) -> None:
    wh = tmp_path / "wh.duckdb"
    write_marts(wh, spike_hours=[30, 31], last_hour=40)
    summary = run_alerts(_config(ALL_TARGETS), wh, sleep=lambda s: None)
    assert (summary.incidents, summary.sent, summary.failed) == (1, 4, 0)
    http: HTTPServer = receivers["http"]

    (slack,) = _requests(http, SLACK_PATH)
    body = slack.get_json()
    assert "Acme: 40 negative mentions in 2 h from 2026-03-02 06:00 UTC" in body["text"]
    assert "App reliability (40), Support quality (20)" in body["text"]  # labels, not codes
    assert "Where: example.org (40)" in body["text"]  # the site, not the source name
    assert "(listening)" not in body["text"]
    assert "https://bi.example.org/cjm/Acme.html" in body["text"]
    assert body["blocks"][0]["type"] == "section"
    # three examples, each with its link
    assert body["text"].count("https://example.org/") == 3

    (tg,) = _requests(http, f"/bot{TG_TOKEN}/sendMessage")
    text = _telegram_text(tg)
    assert "Acme: 40 негативных упоминаний за 2 ч" in text  # language ru
    assert "Главные темы негатива: Работа приложения (40), Качество поддержки (20)" in text
    assert "&lt;b&gt;" in text  # mention text escaped for parse_mode HTML
    assert '<a href="https://example.org/' in text

    (mail,) = receivers["smtp"].messages
    assert mail["To"] == "pr@example.org"
    subject = str(make_header(decode_header(mail["Subject"])))
    assert subject.startswith("Negative spike: Acme, 40 negative mentions")
    assert mail["X-CJM-Alert-Id"]

    (hook,) = _requests(http, "/hook")
    payload = hook.get_json()
    assert payload["event"] == "negative_spike"
    assert payload["incident"]["negative_mentions"] == 40
    assert payload["incident"]["start"] == "2026-03-02T06:00:00+00:00"
    assert len(payload["incident"]["examples"]) == 3
    assert hook.headers["Idempotency-Key"] == payload["alert_id"]

    rows = alert_rows(wh)
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("email:smtp_test", "incident", "sent", 1),
        ("slack:slack_test", "incident", "sent", 1),
        ("telegram:tg_test", "incident", "sent", 1),
        ("webhook:hook_test", "incident", "sent", 1),
    ]


def test_rerun_and_backfill_send_nothing_twice(tmp_path: Path, receivers: dict[str, Any]) -> None:
    wh = tmp_path / "wh.duckdb"
    write_marts(wh, spike_hours=[30, 31], last_hour=33)
    config = _config(ALL_TARGETS)
    run_alerts(config, wh, sleep=lambda s: None)
    again = run_alerts(config, wh, sleep=lambda s: None)
    assert (again.sent, again.already_sent) == (0, 4)
    # a backfill rebuilds the marts with the same incident: still nothing new
    write_marts(wh, spike_hours=[30, 31], last_hour=33)
    assert run_alerts(config, wh, sleep=lambda s: None).sent == 0
    http: HTTPServer = receivers["http"]
    assert len(_requests(http, SLACK_PATH)) == 1
    assert len(_requests(http, f"/bot{TG_TOKEN}/sendMessage")) == 1
    assert len(_requests(http, "/hook")) == 1
    assert len(receivers["smtp"].messages) == 1


def test_a_growing_incident_gets_one_update_when_it_is_over(
    tmp_path: Path, receivers: dict[str, Any]
) -> None:
    wh = tmp_path / "wh.duckdb"
    config = _config([{"type": "webhook", "airflow_conn": "hook_test", "endpoint": "hook"}])
    write_marts(wh, spike_hours=[30], last_hour=30)  # first refresh: one spike hour
    assert run_alerts(config, wh, sleep=lambda s: None).sent == 1
    write_marts(wh, spike_hours=[30, 31, 32], last_hour=32)  # still going: no flood
    assert run_alerts(config, wh, sleep=lambda s: None).sent == 0
    write_marts(wh, spike_hours=[30, 31, 32], last_hour=40)  # over (cooldown 3 h)
    assert run_alerts(config, wh, sleep=lambda s: None).sent == 1
    assert run_alerts(config, wh, sleep=lambda s: None).sent == 0
    first, update = (r.get_json() for r in _requests(receivers["http"], "/hook"))
    assert first["incident"]["negative_mentions"] == 20
    assert update["event"] == "negative_spike.update"
    assert update["incident"]["negative_mentions"] == 60
    assert "the first alert counted 20" in update["text"]
    assert [r[1] for r in alert_rows(wh)] == ["incident", "update"]


def test_a_spike_added_before_an_alerted_incident_is_the_same_incident(
    tmp_path: Path, receivers: dict[str, Any]
) -> None:
    """Late mentions can move an incident's start earlier; that must not re-alert it."""
    wh = tmp_path / "wh.duckdb"
    config = _config([{"type": "webhook", "airflow_conn": "hook_test", "endpoint": "hook"}])
    write_marts(wh, spike_hours=[30, 31], last_hour=31)
    run_alerts(config, wh, sleep=lambda s: None)
    write_marts(wh, spike_hours=[29, 30, 31], last_hour=31)
    assert run_alerts(config, wh, sleep=lambda s: None).sent == 0
    assert len(_requests(receivers["http"], "/hook")) == 1


def test_failed_delivery_is_retried_then_recorded_as_failed(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("down", status=503)
    monkeypatch.setenv(
        "AIRFLOW_CONN_HOOK_TEST",
        json.dumps({"conn_type": "http", "host": httpserver.url_for("/").rstrip("/")}),
    )
    wh = tmp_path / "wh.duckdb"
    write_marts(wh, spike_hours=[30], last_hour=31)
    config = _config(
        [{"type": "webhook", "airflow_conn": "hook_test", "endpoint": "hook"}],
        delivery_attempts=3,
        max_delivery_rounds=2,
    )
    waits: list[float] = []
    summary = run_alerts(config, wh, sleep=waits.append)
    assert (summary.sent, summary.failed) == (0, 1)
    assert len(httpserver.log) == 3  # bounded retries
    assert waits == [0.0, 0.0]
    (row,) = alert_rows(wh)
    assert row[2:5] == ("failed", 3, 1)
    with __import__("duckdb").connect(str(wh)) as con:
        (error,) = con.execute("select last_error from ops.alerts").fetchone()
    assert "503" in error

    run_alerts(config, wh, sleep=lambda s: None)  # the next run tries once more...
    assert len(httpserver.log) == 6
    assert alert_rows(wh)[0][2:5] == ("failed", 6, 2)
    run_alerts(config, wh, sleep=lambda s: None)  # ...then it stays failed
    assert len(httpserver.log) == 6


def test_recovered_target_gets_the_failed_alert_on_the_next_run(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_HOOK_TEST",
        json.dumps({"conn_type": "http", "host": httpserver.url_for("/").rstrip("/")}),
    )
    wh = tmp_path / "wh.duckdb"
    write_marts(wh, spike_hours=[30], last_hour=31)
    config = _config(
        [{"type": "webhook", "airflow_conn": "hook_test", "endpoint": "hook"}],
        delivery_attempts=1,
    )
    httpserver.expect_oneshot_request("/hook").respond_with_data("down", status=500)
    assert run_alerts(config, wh, sleep=lambda s: None).failed == 1
    httpserver.expect_request("/hook").respond_with_json({"ok": True})
    assert run_alerts(config, wh, sleep=lambda s: None).sent == 1
    assert alert_rows(wh)[0][2] == "sent"


def test_interrupted_send_is_marked_unknown_and_not_resent(
    tmp_path: Path, receivers: dict[str, Any]
) -> None:
    """A crash between 'sending' and 'sent': the message may have gone out, so it is
    not sent again; the row says so."""
    wh = tmp_path / "wh.duckdb"
    write_marts(wh, spike_hours=[30], last_hour=31)
    config = _config([{"type": "webhook", "airflow_conn": "hook_test", "endpoint": "hook"}])
    run_alerts(config, wh, sleep=lambda s: None)
    with __import__("duckdb").connect(str(wh)) as con:
        con.execute("update ops.alerts set status = 'sending'")
    summary = run_alerts(config, wh, sleep=lambda s: None)
    assert (summary.unknown, summary.sent) == (1, 0)
    assert alert_rows(wh)[0][2] == "unknown"
    assert len(_requests(receivers["http"], "/hook")) == 1


def test_secret_is_not_stored_in_the_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = _free_port()  # nothing listens there
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_TEST",
        json.dumps(
            {"conn_type": "slackwebhook", "password": f"http://127.0.0.1:{port}/T0/B0/SECRET9"}
        ),
    )
    wh = tmp_path / "wh.duckdb"
    write_marts(wh, spike_hours=[30], last_hour=31)
    config = _config([{"type": "slack", "airflow_conn": "slack_test"}], delivery_attempts=1)
    assert run_alerts(config, wh, sleep=lambda s: None).failed == 1
    with __import__("duckdb").connect(str(wh)) as con:
        (error,) = con.execute("select last_error from ops.alerts").fetchone()
    assert error and "SECRET9" not in error


def test_old_incidents_outside_the_lookback_are_not_sent(
    tmp_path: Path, receivers: dict[str, Any]
) -> None:
    wh = tmp_path / "wh.duckdb"
    write_marts(wh, spike_hours=[5], last_hour=5 + 24 * 10)
    config = _config([{"type": "webhook", "airflow_conn": "hook_test", "endpoint": "hook"}])
    assert run_alerts(config, wh, sleep=lambda s: None).incidents == 0
    assert T0  # the data starts at T0; the spike is 10 days before its end


def test_no_marts_yet_is_not_an_error(tmp_path: Path) -> None:
    summary = run_alerts(_config(ALL_TARGETS), tmp_path / "empty.duckdb")
    assert summary.incidents == 0


def test_competitors_spikes_are_sent_only_when_asked(
    tmp_path: Path, receivers: dict[str, Any]
) -> None:
    """A rival's spike is in the marts but pages nobody unless alerts.competitors."""
    wh = tmp_path / "wh.duckdb"
    write_marts(wh, spike_hours=[30, 31], last_hour=40)
    hook = [{"type": "webhook", "airflow_conn": "hook_test", "endpoint": "hook"}]
    for competitors, sent in ((False, 0), (True, 1)):
        config = parse_config(
            {
                "brands": [
                    {"name": "Own", "keywords": ["own"]},
                    {"name": "Acme", "keywords": ["acme"], "role": "competitor"},
                ],
                "sources": [{"name": "x", "type": "rss", "url": "http://127.0.0.1/rss"}],
                "alerts": {"notify": hook, "competitors": competitors},
            }
        )
        summary = run_alerts(config, wh, sleep=lambda s: None)
        assert (summary.incidents, summary.sent) == (sent, sent), competitors
    assert len(_requests(receivers["http"], "/hook")) == 1
