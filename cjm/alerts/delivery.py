"""Deliver a rendered alert through Airflow's provider hooks, one function per target type.

The hooks read the URL, token or SMTP login from the Airflow connection named in
`NotifyTarget.airflow_conn` (metadata DB, a secrets backend, or `AIRFLOW_CONN_<ID>`
env vars, so `cjm run` works without an Airflow installation running). Retrying is
done here, uniformly for every type (`deliver_with_retries`), so the hooks' own
retry loops are switched off where they have one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from cjm.alerts.messages import Message
from cjm.core.config import NotifyTarget
from cjm.core.http import RetryPolicy

log = logging.getLogger("cjm.alerts")

TELEGRAM_API = "https://api.telegram.org/bot"


class DeliveryError(RuntimeError):
    """A target refused or could not be reached; the message says which and why."""


def _slack(target: NotifyTarget, message: Message, alert_id: str) -> None:
    from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

    hook = SlackWebhookHook(slack_webhook_conn_id=target.airflow_conn, timeout=10)
    # send() raises AirflowException on any non-200 answer (check_webhook_response)
    hook.send(text=message.text, blocks=message.slack_blocks, unfurl_links=False)


def _telegram_hook_class() -> type:
    from airflow.providers.telegram.hooks.telegram import TelegramHook

    class ConfigurableTelegramHook(TelegramHook):
        """TelegramHook with a configurable Bot API base URL (a local server in tests, a
        self-hosted Bot API server in production). The connection's host holds the URL when
        it starts with http(s)://, else (as in the stock hook) the chat id; extra
        `base_url` works too."""

        def __init__(self, telegram_conn_id: str, chat_id: str | None) -> None:
            conn = self.get_connection(telegram_conn_id)
            host = (conn.host or "").strip()
            extra = conn.extra_dejson
            if host.startswith(("http://", "https://")):
                base = host
                chat_id = chat_id or extra.get("chat_id")
            else:
                base = extra.get("base_url") or TELEGRAM_API
                chat_id = chat_id or extra.get("chat_id") or host or None
            if "{token}" not in base and not base.rstrip("/").endswith("/bot"):
                base = base.rstrip("/") + "/bot"
            self._cjm_base_url = base
            super().__init__(telegram_conn_id=telegram_conn_id, chat_id=chat_id)

        def get_conn(self) -> Any:
            import telegram

            return telegram.Bot(self.token, base_url=self._cjm_base_url)

    return ConfigurableTelegramHook


def _telegram(target: NotifyTarget, message: Message, alert_id: str) -> None:
    import tenacity

    hook_cls = _telegram_hook_class()
    hook = hook_cls(target.airflow_conn, target.to[0] if target.to else None)
    if not hook.chat_id:
        raise DeliveryError(
            f"{target.key}: no chat id (give `to: [<chat id>]` in the config or the "
            "connection's host / extra chat_id)"
        )
    # The stock send_message retries 5 times itself; one try here, the retries are ours.
    once = type(hook).send_message.retry_with(stop=tenacity.stop_after_attempt(1))
    once(hook, {"text": message.html, "parse_mode": "HTML", "disable_web_page_preview": True})


def _email(target: NotifyTarget, message: Message, alert_id: str) -> None:
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    with SmtpHook(smtp_conn_id=target.airflow_conn) as hook:
        hook.send_email_smtp(
            to=target.to,
            subject=message.subject,
            html_content=message.html.replace("\n", "<br>\n"),
            from_email=hook.from_email or hook.smtp_user or "cjm-alerts@localhost",
            custom_headers={"X-CJM-Alert-Id": alert_id},
        )


def _webhook(target: NotifyTarget, message: Message, alert_id: str) -> None:
    from airflow.providers.http.hooks.http import HttpHook

    hook = HttpHook(method="POST", http_conn_id=target.airflow_conn)
    # Receivers can drop repeats by this key should a crash ever make us send twice.
    hook.run(
        endpoint=target.endpoint or None,
        json={**message.body, "alert_id": alert_id},
        headers={"Idempotency-Key": alert_id, "Content-Type": "application/json"},
        extra_options={"timeout": 10, "check_response": True},
    )


SENDERS: dict[str, Callable[[NotifyTarget, Message, str], None]] = {
    "slack": _slack,
    "telegram": _telegram,
    "email": _email,
    "webhook": _webhook,
}


def deliver_with_retries(
    target: NotifyTarget,
    message: Message,
    alert_id: str,
    attempts: int,
    backoff_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[bool, int, str | None]:
    """Try up to `attempts` times with exponential backoff; (ok, tries, last error).

    The pauses follow the sources' retry policy (cjm/core/http.py: doubling from
    `backoff_seconds` with jitter, each capped), so every retry in the product behaves
    alike. Never raises: the caller records the outcome in ops.alerts either way, so a
    failed delivery is visible there instead of lost in a stack trace.
    """
    policy = RetryPolicy(max_tries=attempts, backoff=backoff_seconds)
    error: str | None = None
    for attempt in range(1, attempts + 1):
        try:
            SENDERS[target.type](target, message, alert_id)
            return True, attempt, None
        except Exception as exc:  # any failure of any provider counts as a failed try
            error = _scrub(target, f"{type(exc).__name__}: {exc}")[:1000]
            log.warning("alert %s to %s: try %d failed: %s", alert_id, target.key, attempt, error)
            if attempt < attempts:
                sleep(policy.delay(attempt, None))
    return False, attempts, error


def _scrub(target: NotifyTarget, text: str) -> str:
    """Remove the connection's secret from an error before it is logged or stored: a
    Slack webhook URL or a bot token is part of the URL a failing request reports."""
    try:
        from airflow.sdk import BaseHook

        password = BaseHook.get_connection(target.airflow_conn).password
    except Exception:
        return text
    if password:
        for secret in {password, password.strip("/")}:
            if len(secret) >= 4:
                text = text.replace(secret, "***")
    return text
