"""Test-wide settings: no network, a customer-key secret, quiet libraries."""

from __future__ import annotations

import logging
import os

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


@pytest.fixture(autouse=True)
def _customer_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "CJM_CUSTOMER_KEY_SECRET", os.environ.get("CJM_CUSTOMER_KEY_SECRET", "test-secret")
    )
    monkeypatch.delenv("CJM_LANDING", raising=False)
    monkeypatch.delenv("CJM_CONFIG", raising=False)
    monkeypatch.delenv("CJM_WAREHOUSE", raising=False)


logging.getLogger("great_expectations").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server on 127.0.0.1 for the session (tests/pg_server.py); a
    server that cannot start fails the tests that need it, with the reason."""
    from tests.pg_server import start_server

    server = start_server()
    try:
        yield server
    finally:
        server.stop()
