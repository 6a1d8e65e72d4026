"""Record contracts: the shape every extractor hands over, and the stable ids.

The contract is an Arrow schema so landing files, validation and the DuckDB load
all agree on column names and types without a translation layer.
"""

from __future__ import annotations

import hashlib
import hmac
import os

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")

MENTION_SCHEMA = pa.schema(
    [
        ("mention_id", pa.string()),
        ("source", pa.string()),
        ("source_type", pa.string()),
        ("channel", pa.string()),
        ("native_id", pa.string()),
        ("url", pa.string()),
        ("author", pa.string()),
        ("title", pa.string()),
        ("text", pa.string()),
        ("published_at", TS),
        ("fetched_at", TS),
        ("language", pa.string()),
        ("brand", pa.string()),
        ("matched_keywords", pa.list_(pa.string())),
        ("attributes", pa.string()),  # JSON: source-specific extras (views, forwards, ...)
        ("run_id", pa.string()),
    ]
)

CRM_EVENT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("source", pa.string()),
        ("native_id", pa.string()),
        ("customer_key", pa.string()),
        ("brand", pa.string()),
        ("event_type", pa.string()),
        ("channel", pa.string()),
        ("touchpoint", pa.string()),
        ("campaign", pa.string()),
        ("message", pa.string()),
        ("occurred_at", TS),
        ("amount", pa.float64()),
        ("attributes", pa.string()),  # JSON
        ("run_id", pa.string()),
    ]
)

# Extra columns an extractor may add to a landing file; they never reach raw.*.
# `_row` names where the record came from (file:line) so errors can point at it;
# `_errors` carries problems found while parsing (e.g. a timestamp that does not
# match the configured format) for the validation step to quarantine.
ROW_COLUMN = "_row"
ERRORS_COLUMN = "_errors"
META_COLUMNS = (ROW_COLUMN, ERRORS_COLUMN)

ENTITIES = {
    "mention": {
        "schema": MENTION_SCHEMA,
        "id": "mention_id",
        "table": "raw.mentions",
        "ts": "published_at",
    },
    "crm_event": {
        "schema": CRM_EVENT_SCHEMA,
        "id": "event_id",
        "table": "raw.crm_events",
        "ts": "occurred_at",
    },
}


def landing_schema(entity: str) -> pa.Schema:
    schema = ENTITIES[entity]["schema"]
    return schema.append(pa.field(ROW_COLUMN, pa.string())).append(
        pa.field(ERRORS_COLUMN, pa.string())
    )


def stable_id(source: str, native_id: str) -> str:
    """Same (source, native id) → same id on every run, on every machine.

    A content hash would change when a record is edited upstream; the id must not,
    so an edit becomes an update of the same row rather than a second row.
    """
    return hashlib.sha256(f"{source}\x1f{native_id}".encode()).hexdigest()[:32]


class MissingSecretError(RuntimeError):
    pass


def customer_key_secret() -> bytes:
    """The key for hashing CRM customer ids: env first, then the Airflow variable."""
    value = os.environ.get("CJM_CUSTOMER_KEY_SECRET")
    if not value:
        try:  # inside Airflow the variable store is the natural place for it
            from airflow.sdk import Variable

            value = Variable.get("CJM_CUSTOMER_KEY_SECRET", default=None)
        except Exception:
            value = None
    if not value:
        raise MissingSecretError(
            "CJM_CUSTOMER_KEY_SECRET is not set: CRM customer ids are hashed with it before "
            "they are stored; set the env var or the Airflow variable of that name"
        )
    return value.encode()


def hash_customer_id(raw_id: str, secret: bytes) -> str:
    """Keyed hash (HMAC-SHA256) so ids are joinable but not reversible without the key."""
    return hmac.new(secret, raw_id.strip().lower().encode(), hashlib.sha256).hexdigest()[:32]
