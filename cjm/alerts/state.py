"""ops.alerts: the ledger that makes each alert go out once.

A row is keyed by a hash of brand × source × incident start × target × kind, so
whatever re-runs (a task retry, a DAG re-run, a backfill, `cjm run` after the DAG)
finds the row it wrote before. The life of a row:

    pending ──► sending ──► sent
                   │
                   └──► failed (tries exhausted; the next run tries again until
                               max_delivery_rounds, then it stays failed)

`sending` is written and committed *before* the message goes out and `sent` after.
A row still `sending` at the start of a run means a crash while sending: whether the
message arrived is unknown, so it becomes `unknown` and is not sent again
(never twice beats maybe twice); it stays visible in ops.alerts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb


def alert_id(brand: str, source: str, start: datetime, target_key: str, kind: str) -> str:
    blob = json.dumps(
        [brand, source, start.astimezone(UTC).isoformat(), target_key, kind], ensure_ascii=False
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class AlertRow:
    alert_id: str
    brand: str
    bucket_start: datetime
    incident_end: datetime | None
    sent_to: str
    kind: str
    status: str
    negative_mentions: int | None
    attempts: int
    rounds: int


_COLUMNS = (
    "alert_id, brand, bucket_start, incident_end, sent_to, kind, status, negative_mentions, "
    "attempts, rounds"
)


def _rows(con: duckdb.DuckDBPyConnection, where: str, params: list[Any]) -> list[AlertRow]:
    return [
        AlertRow(*r)
        for r in con.execute(f"select {_COLUMNS} from ops.alerts where {where}", params).fetchall()
    ]


def find_incident_row(
    con: duckdb.DuckDBPyConnection,
    brand: str,
    target_key: str,
    start: datetime,
    last_spike: datetime,
    cooldown: timedelta,
) -> AlertRow | None:
    """The first-alert row of this incident for this target, if one exists.

    Matched by overlap, not only by start: late mentions can add a spike just before
    an incident that was already alerted and move its start; that is still the same
    incident and must not be alerted again.
    """
    rows = _rows(
        con,
        "brand = ? and sent_to = ? and source = 'all' and kind = 'incident' "
        "and bucket_start <= ? and coalesce(incident_end, bucket_start) + ? >= ? "
        "order by bucket_start",
        [brand, target_key, last_spike + cooldown, cooldown, start],
    )
    exact = [r for r in rows if r.bucket_start == start]
    return (exact or rows or [None])[0]


def get(con: duckdb.DuckDBPyConnection, alert_id_: str) -> AlertRow | None:
    rows = _rows(con, "alert_id = ?", [alert_id_])
    return rows[0] if rows else None


def record_intent(
    con: duckdb.DuckDBPyConnection,
    *,
    alert_id_: str,
    brand: str,
    start: datetime,
    incident_end: datetime,
    target_key: str,
    target_type: str,
    language: str,
    kind: str,
    negative_mentions: int,
    baseline: float,
    threshold: float,
    payload: dict[str, Any],
) -> bool:
    """Insert the pending row; False when it already exists (someone got here first)."""
    now = datetime.now(UTC)
    inserted = con.execute(
        """
        insert into ops.alerts (
            alert_id, brand, bucket_start, sent_to, sent_at, status, payload, source, kind,
            incident_end, target_type, language, negative_mentions, baseline, threshold,
            attempts, rounds, last_error, created_at, updated_at)
        values (?, ?, ?, ?, null, 'pending', ?, 'all', ?, ?, ?, ?, ?, ?, ?, 0, 0, null, ?, ?)
        on conflict (alert_id) do nothing
        returning alert_id
        """,
        [
            alert_id_,
            brand,
            start,
            target_key,
            json.dumps(payload, ensure_ascii=False, default=str),
            kind,
            incident_end,
            target_type,
            language,
            negative_mentions,
            baseline,
            threshold,
            now,
            now,
        ],
    ).fetchall()
    return bool(inserted)


def mark_sending(
    con: duckdb.DuckDBPyConnection,
    alert_id_: str,
    payload: dict[str, Any],
    incident_end: datetime,
    negative_mentions: int,
) -> bool:
    """Claim the row for sending (from pending or failed); False if another run has it."""
    claimed = con.execute(
        """
        update ops.alerts
        set status = 'sending', payload = ?, incident_end = ?, negative_mentions = ?,
            updated_at = ?
        where alert_id = ? and status in ('pending', 'failed')
        returning alert_id
        """,
        [
            json.dumps(payload, ensure_ascii=False, default=str),
            incident_end,
            negative_mentions,
            datetime.now(UTC),
            alert_id_,
        ],
    ).fetchall()
    return bool(claimed)


def mark_result(
    con: duckdb.DuckDBPyConnection, alert_id_: str, ok: bool, tries: int, error: str | None
) -> None:
    now = datetime.now(UTC)
    con.execute(
        """
        update ops.alerts
        set status = ?, sent_at = ?, attempts = attempts + ?, rounds = rounds + 1,
            last_error = ?, updated_at = ?
        where alert_id = ?
        """,
        ["sent" if ok else "failed", now if ok else None, tries, error, now, alert_id_],
    )


def resolve_interrupted(con: duckdb.DuckDBPyConnection) -> int:
    """Rows left `sending` by a crashed run become `unknown` (see the module docstring)."""
    rows = con.execute(
        """
        update ops.alerts
        set status = 'unknown', updated_at = ?,
            last_error = coalesce(last_error || '; ', '') ||
                'interrupted while sending: delivery unknown, not resent'
        where status = 'sending'
        returning alert_id
        """,
        [datetime.now(UTC)],
    ).fetchall()
    return len(rows)
