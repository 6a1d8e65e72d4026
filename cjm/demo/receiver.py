"""A tiny local webhook receiver for `cjm demo`: every POST becomes one JSON line.

The demo has no Slack or Telegram to talk to, so it sends its alert through the
ordinary webhook target (Airflow's HttpHook) to this server on 127.0.0.1 and the
user can read what arrived in data/demo_alerts.jsonl next to ops.alerts.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DEMO_CONN_ID = "cjm_demo_webhook"


def _handler(out: Path, lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                parsed: Any = json.loads(body or b"null")
            except ValueError:
                parsed = body.decode("utf-8", "replace")
            record = {
                "received_at": datetime.now(UTC).isoformat(),
                "path": self.path,
                "idempotency_key": self.headers.get("Idempotency-Key"),
                "body": parsed,
            }
            with lock, out.open("a", encoding="utf-8") as f:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": true}')

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the demo prints
            pass

    return Handler


@contextmanager
def demo_receiver(out: str | Path, port: int = 0) -> Iterator[str]:
    """Serve on 127.0.0.1 (a free port by default) and yield its base URL.

    While it runs, AIRFLOW_CONN_CJM_DEMO_WEBHOOK points at it, so a notify target
    `{type: webhook, airflow_conn: cjm_demo_webhook}` delivers here.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(out, threading.Lock()))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    env_key = f"AIRFLOW_CONN_{DEMO_CONN_ID.upper()}"
    previous = os.environ.get(env_key)
    os.environ[env_key] = json.dumps({"conn_type": "http", "host": url})
    try:
        yield url
    finally:
        if previous is None:
            os.environ.pop(env_key, None)
        else:
            os.environ[env_key] = previous
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def run_demo_alerts(
    config: Any, warehouse: str | Path | None, out: str | Path = "data/demo_alerts.jsonl"
) -> Any:
    """`cjm demo`'s alert step: the receiver up, `run_alerts`, the receiver down."""
    from cjm.alerts.run import run_alerts

    with demo_receiver(out):
        return run_alerts(config, warehouse)
