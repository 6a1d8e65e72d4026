"""What the personal-data policy costs, for `cjm bench`.

The policy runs inside record shaping (`finish_crm_events`), once per CRM record, so
its price is a share of the extract step. Both are timed on the same generated
records in one run: the whole shaping step (policy included) and the policy alone
(keyed hashes, field drops, e-mail/phone redaction of kept values and the message).
Records carry what real CRM exports carry: a plan and region to keep, an e-mail and
phone to hash, a free-text note with a contact inside, and fields to drop.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from cjm.core.config import parse_config
from cjm.core.pii import PiiPolicy
from cjm.extractors.base import ExtractContext
from cjm.extractors.records import finish_crm_events

KEEP = ["plan", "region", "note"]
HASH = ["email", "phone"]
COLUMNS = ["native_id", "customer_key", "event_type", "occurred_at"]
_START = datetime(2026, 9, 1, tzinfo=UTC)


def crm_drafts(n: int) -> list[dict[str, Any]]:
    """CRM records as a source hands them to `finish_crm_events`."""
    return [
        {
            "native_id": f"e{i}",
            "customer_key": f"c{i % 50_000}",
            "event_type": "card_activated" if i % 3 else "signup",
            "channel": "app",
            "occurred_at": _START + timedelta(seconds=i),
            "message": f"Клиент просил перезвонить на +7 999 {i % 1000:03d}-45-67"
            if i % 4 == 0
            else "Оформил карту",
            "attributes": {
                "plan": "premium" if i % 2 else "basic",
                "region": "Москва",
                "email": f"client{i}@example.ru",
                "phone": f"+7 (916) {i % 1000:03d}-12-34",
                "note": f"write to client{i}@mail.example" if i % 5 == 0 else "ok",
                "full_name": "Иван Петров",
                "passport": "4510 123456",
            },
        }
        for i in range(n)
    ]


def bench_pii(n: int) -> dict[str, Any]:
    """Seconds per 10^6 CRM records: record shaping with the policy, and the policy alone."""
    os.environ.setdefault("CJM_CUSTOMER_KEY_SECRET", "bench-only")
    config = parse_config(
        {
            "brands": [{"name": "Finly", "keywords": ["finly"]}],
            "sources": [
                {
                    "name": "crm",
                    "type": "file",
                    "entity": "crm_event",
                    "path": "x",
                    "columns": {k: k for k in COLUMNS},
                }
            ],
            "pii": {"keep": KEEP, "hash": HASH},
        }
    )
    drafts = crm_drafts(n)
    ctx = ExtractContext(config, config.sources[0], "bench", datetime.now(UTC), None)
    started = time.perf_counter()
    out = finish_crm_events((dict(d) for d in drafts), ctx)
    out.table  # noqa: B018 (records are shaped as their batches are gathered)
    t_shape = time.perf_counter() - started

    policy = PiiPolicy(keep=KEEP, hash=HASH, secret=b"bench-only")
    started = time.perf_counter()
    for d in drafts:
        policy.text(d["message"])
        policy.crm_attributes(d["attributes"])
    t_policy = time.perf_counter() - started
    per_million = 1_000_000 / n
    return {
        "records": n,
        "shaping_s": round(t_shape, 3),
        "policy_s": round(t_policy, 3),
        "policy_share_of_shaping": round(t_policy / t_shape, 2),
        "policy_s_per_million": round(t_policy * per_million, 1),
        "shaping_s_per_million": round(t_shape * per_million, 1),
        "policy_records_per_s": round(n / t_policy),
        "touched": dict(policy.counts),
        "rows_out": out.table.num_rows,
    }
