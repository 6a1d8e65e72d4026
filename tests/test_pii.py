"""Personal data is stored nowhere (cjm/core/pii.py): planted e-mails and phone numbers
in CRM exports — unmapped columns, a free-text note, a broken line — are traced through
a real `cjm run` (landing files, every warehouse table, the BI copy, the run's output)
and found in none."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from cjm.core.pii import redact

EMAIL = "olga.petrova@example.ru"
PHONES = ["+7 (999) 123-45-67", "8 999 765 43 21", "+1-202-555-0143"]
PLANTED = [EMAIL, "olga.petrova", *PHONES, "9991234567", "999) 123-45-67"]


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("write to olga.petrova@example.ru today", "write to <email> today"),
        ("звоните +7 (999) 123-45-67 или 8 999 765 43 21", "звоните <phone> или <phone>"),
        ("US: +1-202-555-0143.", "US: <phone>."),
        ("order 12345 on 2026-09-01 for 1 490,00", "order 12345 on 2026-09-01 for 1 490,00"),
    ],
)
def test_redact(text: str, clean: str) -> None:
    assert redact(text)[0] == clean


def _everything(path: Path) -> str:
    """Every value of every table of a DuckDB file, as text."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = []
        for schema, table in con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall():
            out.append(repr(con.execute(f'select * from "{schema}"."{table}"').fetchall()))
        return "\n".join(out)
    finally:
        con.close()


def test_planted_contacts_are_stored_nowhere(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "crm.csv").write_text(
        "id,contact,type,at,email,phone,note,plan\n"
        f"1,c-1,lead,2026-09-01T10:00:00Z,{EMAIL},{PHONES[0]},call me on {PHONES[1]},gold\n"
        f"2,c-2,order_paid,2026-09-02T10:00:00Z,{EMAIL},{PHONES[2]},,silver\n"
        f"3,c-3,lead,2026-09-03T10:00:00Z,{EMAIL},broken line,{PHONES[0]}\n",
        encoding="utf-8",
    )
    (inbox / "mentions.csv").write_text(
        "id,body,date\n"
        "m1,Acme support answered fast,2026-09-01T10:00:00Z\n"
        f"m2,Acme: call {PHONES[1]} or mail {EMAIL},2026-09-01T11:00:00Z,extra\n",
        encoding="utf-8",
    )
    config = {
        "brands": [{"name": "Acme", "keywords": ["acme"]}],
        "stages": {"event_stages": {"lead": "consideration", "order_paid": "purchase"}},
        "pii": {"keep": ["plan"]},
        "sources": [
            {
                "name": "crm_export",
                "type": "file",
                "entity": "crm_event",
                "path": "inbox/crm.csv",
                "columns": {
                    "native_id": "id", "customer_key": "contact", "event_type": "type",
                    "occurred_at": "at", "message": "note",
                },
            },
            {
                "name": "social",
                "type": "file",
                "entity": "mention",
                "path": "inbox/mentions.csv",
                "columns": {"native_id": "id", "text": "body", "published_at": "date"},
            },
        ],
    }  # fmt: skip
    config_path = tmp_path / "cjm.yml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    cli = Path(sys.executable).with_name("cjm")
    result = subprocess.run(
        [str(cli), "-v", "run", "--config", str(config_path), "--warehouse", str(warehouse)],
        capture_output=True, text=True, check=False, cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr[-3000:]
    assert "personal data:" in result.stdout + result.stderr  # the run counts what it touched

    stored = [result.stdout, result.stderr, _everything(warehouse)]
    stored += [_everything(p) for p in (tmp_path / "data" / "bi").glob("*.duckdb")]
    con = duckdb.connect()
    for parquet in (tmp_path / "data").rglob("*.parquet"):
        stored.append(repr(con.execute(f"select * from read_parquet('{parquet}')").fetchall()))
    con.close()
    for log in (tmp_path / "data").rglob("*.log"):
        stored.append(log.read_text(encoding="utf-8", errors="replace"))
    text = "\n".join(stored)
    found = [p for p in PLANTED if p in text]
    assert not found, found
    # what is kept is still there, and the broken lines still reached quarantine
    assert "gold" in text and "<phone>" in text
    assert "line has" in _everything(warehouse)


def test_the_bench_measures_the_policy_on_records_it_really_touches() -> None:
    """`cjm bench` prices the policy on records with contacts in them: the counts prove
    the policy did its work on every record, and nothing planted left the shaping step."""
    from cjm.bench.pii import bench_pii, crm_drafts

    n = 2_000
    result = bench_pii(n)
    assert result["touched"]["fields_hashed"] == 2 * n  # e-mail and phone of every record
    assert result["touched"]["fields_dropped"] == 2 * n  # full name and passport
    assert result["touched"]["values_redacted"] > n / 4  # contacts inside notes and messages
    assert result["policy_s"] > 0 and result["shaping_s"] > 0
    assert result["rows_out"] == n
    assert "@" in crm_drafts(1)[0]["attributes"]["email"]  # the planted data is what it says
