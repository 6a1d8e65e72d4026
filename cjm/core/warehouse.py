"""The warehouse's own tables (raw, ops, config) and how to open it.

dbt owns everything downstream (staging, intermediate, marts); this module owns
what the loader writes. DDL is idempotent so every entry point can call
`ensure_schema` without a separate migration step.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb

from cjm.core.config import DEFAULT_WAREHOUSE, ConfigError
from cjm.core.paths import bi_dir_for

log = logging.getLogger("cjm.warehouse")

# How long a step waits for another process (a BI tool or an ad-hoc query holding the
# file, a writer finishing) to let go of the warehouse before giving up with one line.
LOCK_WAIT_ENV = "CJM_WAREHOUSE_LOCK_WAIT"
DEFAULT_LOCK_WAIT_SECONDS = 120.0
# DuckDB's IOException when another process has the file: "... Conflicting lock is held
# in /usr/bin/python3.11 (PID 4242) ..."
_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")

DDL = """
create schema if not exists raw;
create schema if not exists ops;
create schema if not exists config;

create table if not exists raw.mentions (
    mention_id       varchar primary key,
    source           varchar not null,
    source_type      varchar not null,
    channel          varchar,
    native_id        varchar not null,
    url              varchar,
    author           varchar,
    title            varchar,
    text             varchar,
    published_at     timestamptz not null,
    fetched_at       timestamptz,
    language         varchar,
    brand            varchar,
    matched_keywords varchar[],
    attributes       json,
    run_id           varchar,
    loaded_at        timestamptz not null,
    updated_at       timestamptz not null
);

create table if not exists raw.crm_events (
    event_id     varchar primary key,
    source       varchar not null,
    native_id    varchar not null,
    customer_key varchar not null,
    brand        varchar,
    event_type   varchar not null,
    channel      varchar,
    touchpoint   varchar,
    campaign     varchar,
    message      varchar,
    occurred_at  timestamptz not null,
    amount       double,
    attributes   json,
    run_id       varchar,
    loaded_at    timestamptz not null,
    updated_at   timestamptz not null
);

create table if not exists ops.quarantine (
    -- hash of entity, source and the record: quarantining the same record again is a no-op
    quarantine_id  varchar primary key,
    entity         varchar not null,
    source         varchar not null,
    run_id         varchar not null,
    reason         varchar not null,
    row_ref        varchar,               -- file:line or url#entry where the record came from
    record         json not null,
    quarantined_at timestamptz not null
);

create table if not exists ops.validation_runs (
    run_id           varchar not null,
    entity           varchar not null,
    source           varchar not null,
    rows_extracted   bigint not null,     -- = rows_in + rows_duplicate
    rows_duplicate   bigint not null,     -- repeated ids inside the batch (last one kept)
    rows_in          bigint not null,     -- = rows_passed + rows_quarantined
    rows_passed      bigint not null,
    rows_quarantined bigint not null,
    rows_inserted    bigint,
    rows_updated     bigint,
    rows_unchanged   bigint,
    success          boolean not null,
    failed_expectations json,
    validation_seconds double,
    validated_at     timestamptz not null,
    loaded_at        timestamptz,
    primary key (run_id, source)
);
-- What the extractor read before the brand filter and how many of those named no
-- configured brand, so a batch reconciles where users look:
-- rows_seen = rows_extracted + rows_off_brand.
alter table ops.validation_runs add column if not exists rows_seen bigint;
alter table ops.validation_runs add column if not exists rows_off_brand bigint;
-- Why the batch may be incomplete (a feed that was not well-formed: its entries are
-- fetched again next run); null when the source read whole.
alter table ops.validation_runs add column if not exists degraded varchar;

-- One row per successful `dbt build` of every model (cjm/refresh/inputs.py): what it
-- read, fingerprinted; a refresh whose inputs equal the last row's skips dbt.
create table if not exists ops.dbt_builds (
    run_id     varchar not null,
    inputs     varchar not null,
    built_at   timestamptz not null,
    seconds    double
);

create table if not exists ops.source_state (
    source     varchar primary key,
    cursor     varchar,
    updated_at timestamptz not null
);

-- One row per incident x notify target x kind (the first alert, then at most one
-- update): alert_id is a hash of those, so a retried task, a re-run or a backfill can
-- only find the row it already wrote. The row is written (status pending/sending)
-- before a message goes out and marked sent/failed after (cjm/alerts/state.py).
create table if not exists ops.alerts (
    alert_id     varchar primary key,
    brand        varchar not null,
    bucket_start timestamptz not null,    -- the incident's first spike bucket
    sent_to      varchar,                 -- the notify target's key (type:airflow_conn or name)
    sent_at      timestamptz,
    status       varchar,                 -- pending | sending | sent | failed | unknown
    payload      json
);
alter table ops.alerts add column if not exists source varchar default 'all';
alter table ops.alerts add column if not exists kind varchar default 'incident';
alter table ops.alerts add column if not exists incident_end timestamptz;
alter table ops.alerts add column if not exists target_type varchar;
alter table ops.alerts add column if not exists language varchar;
alter table ops.alerts add column if not exists negative_mentions bigint;
alter table ops.alerts add column if not exists baseline double;
alter table ops.alerts add column if not exists threshold double;
alter table ops.alerts add column if not exists attempts integer default 0;
alter table ops.alerts add column if not exists rounds integer default 0;
alter table ops.alerts add column if not exists last_error varchar;
alter table ops.alerts add column if not exists created_at timestamptz;
alter table ops.alerts add column if not exists updated_at timestamptz;

create table if not exists config.brands (
    brand      varchar primary key,
    keywords   varchar[],
    exclude    varchar[],
    languages  varchar[]
);

-- How relevance is judged per brand (cjm.config.Brand context / off_topic /
-- relevance.min_score); a table of its own so config.brands keeps its four columns.
create table if not exists config.brand_relevance (
    brand      varchar primary key,
    context    varchar[],
    off_topic  varchar[],
    min_score  double
);

-- The language each brand's marts are shown in (cjm.config.Brand.display_language),
-- a table of its own for the same reason.
create table if not exists config.brand_display (
    brand      varchar primary key,
    language   varchar not null
);

-- Own brand or competitor, and the market it is compared within (cjm.config.Brand role
-- / market; marts.share_of_voice, marts.keyword_map).
create table if not exists config.brand_markets (
    brand      varchar primary key,
    role       varchar not null,
    market     varchar not null
);

-- The brand's own accounts per source (cjm.config.Brand.accounts): their posts are the
-- brand's replies (marts.response_times), matched on lower(author).
create table if not exists config.brand_accounts (
    brand      varchar not null,
    source     varchar not null,
    author     varchar not null
);

-- The key media and their weights (cjm.config.KeyMedium; marts.media_citations).
create table if not exists config.key_media (
    medium     varchar primary key,
    sources    varchar[],
    outlets    varchar[],
    domains    varchar[],
    weight     double not null
);

create table if not exists config.stages (
    stage       varchar primary key,
    stage_order integer not null,
    label       varchar not null
);

create table if not exists config.event_stages (
    event_type varchar primary key,
    stage      varchar not null
);

create table if not exists config.settings (
    key   varchar primary key,
    value varchar not null
);
"""


def warehouse_path(path: str | Path | None = None) -> Path:
    return Path(path or os.environ.get("CJM_WAREHOUSE") or DEFAULT_WAREHOUSE)


class WarehouseBusy(RuntimeError):
    """Another process kept the warehouse file for longer than this step would wait."""


def env_seconds(name: str, default: float) -> float:
    """A wait in seconds from the environment variable `name`, else `default`; a value
    that is not a number is one clear error, not a traceback from float()."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also NaN
        raise ConfigError(name, [f"{raw!r} is not a number of seconds (environment variable)"])
    return value


def lock_wait() -> float:
    return env_seconds(LOCK_WAIT_ENV, DEFAULT_LOCK_WAIT_SECONDS)


def lock_holder(exc: BaseException) -> str | None:
    """Who holds the file, from DuckDB's lock error ("python3.11 (pid 4242)"); None when
    `exc` is not a lock conflict."""
    m = _HOLDER.search(str(exc))
    return f"{Path(m['program']).name} (pid {m['pid']})" if m else None


def connect(
    path: str | Path | None = None,
    read_only: bool = False,
    wait_seconds: float | None = None,
    poll_seconds: float = 0.5,
    memory_limit: str | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, waiting up to `wait_seconds` (default `CJM_WAREHOUSE_LOCK_WAIT`
    or 120) while another process holds it: a BI tool's read-only connection would
    otherwise crash a refresh at its first write. Says once whom it waits for; gives up
    with WarehouseBusy, one line that points readers at the published copy.
    `memory_limit` (config `warehouse.memory_limit`) bounds DuckDB, which spills past it."""
    p = warehouse_path(path)
    if not read_only:
        p.parent.mkdir(parents=True, exist_ok=True)
    wait = lock_wait() if wait_seconds is None else wait_seconds
    deadline = time.monotonic() + wait
    announced = False
    while True:
        try:
            con = duckdb.connect(str(p), read_only=read_only)
        except duckdb.IOException as exc:
            holder = lock_holder(exc)
            if holder is None:
                raise
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"{p}: {holder} still holds the warehouse after {wait:.0f} s of waiting; "
                    f"point BI tools and ad-hoc queries at the published copy in "
                    f"{bi_dir_for(p)} (marts.duckdb, parquet/), not the working warehouse"
                ) from None
            if not announced:
                log.warning(
                    "%s is held by %s; waiting up to %.0f s for it to let go", p, holder, wait
                )
                announced = True
            time.sleep(poll_seconds)
            continue
        if memory_limit:
            limit_memory(con, memory_limit)
        return con


def limit_memory(con: duckdb.DuckDBPyConnection, memory_limit: str) -> None:
    """DuckDB's memory limit for this database instance (a validated size, "1GB")."""
    con.execute(f"set memory_limit = '{memory_limit.replace(chr(39), '')}'")


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


@contextmanager
def open_warehouse(
    path: str | Path | None = None, memory_limit: str | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open, make sure the tables exist, and always close.

    DuckDB allows one writer process; holding the file open longer than a step
    would block dbt and the BI publisher, so every step opens and closes it.
    """
    con = connect(path, memory_limit=memory_limit)
    try:
        ensure_schema(con)
        yield con
    finally:
        con.close()


def replace_mention_counts(
    con: duckdb.DuckDBPyConnection,
    brands: Sequence[str],
    buckets: Sequence[datetime],
    mentions: Sequence[int],
    negatives: Sequence[int],
) -> None:
    """Write `intermediate.int_mention_counts_bucketed` (the spike detector's input)
    directly, one row per brand × hour with mentions (source 'all'): the detector
    benchmark and the real-volume evaluation judge the production detector SQL on
    counts without pushing millions of mention rows through enrichment."""
    import pyarrow as pa

    counts = pa.table(
        {
            "brand": list(brands),
            "source": ["all"] * len(brands),
            "bucket_at": pa.array(buckets, pa.timestamp("us")),
            "mentions": pa.array(mentions, pa.int64()),
            "negative_mentions": pa.array(negatives, pa.int64()),
        }
    )
    con.execute("create schema if not exists intermediate")
    con.register("counts_arrow", counts)
    con.execute(
        "create or replace table intermediate.int_mention_counts_bucketed as "
        "select * from counts_arrow"
    )
    con.unregister("counts_arrow")
