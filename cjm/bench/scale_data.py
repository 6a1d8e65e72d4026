"""Deterministic exports for `cjm bench scale`: N mentions and about N CRM events as Parquet.

What a user would drop into two `file` sources: a listening tool's mention export and a
CRM event export, written batch by batch so the generator's memory is set by the batch
size, not by N (the benchmark goes to 10^7 rows). The same (n, seed, batch_rows) gives
byte-identical files: every batch draws from its own generator seeded by (seed, batch).

Realism where the pipeline's cost depends on it: Russian and English texts with the
demo's vocabulary and word frequencies and the lengths of social posts and media
articles, the brand named in most but not all mentions (a listening query also returns
noise), timestamps over months with a daily rhythm, and re-exported rows: exact
duplicates and edited versions of earlier rows.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cjm.bench import journey_data

BRAND = journey_data.BRAND
BRAND_FORMS = {"ru": ["Акме", "акме", "#акме", "Acme"], "en": ["Acme", "acme", "#acme", "@acmeapp"]}
KEYWORDS = ["acme", "акме", "@acmeapp", "#acme", "#акме"]
START = datetime(2026, 1, 5, tzinfo=UTC)
DAYS = 180  # mentions span six months
SHARE_RU = 0.75
SHARE_BRAND = 0.88  # the rest mention neither brand form: the query's noise
SHARE_MEDIA = 0.1  # articles: long texts
SHARE_DUPLICATE = 0.02  # exact re-exports of an earlier row
SHARE_UPDATE = 0.01  # an earlier row again, edited (text and counters changed)
CHANNELS = np.array(["telegram", "vk", "forum", "review_site"])
EVENTS_PER_CUSTOMER = 2.2  # journey_data's mean: a visit, and some leads, orders, tickets
DEFAULT_BATCH_ROWS = 100_000

MENTION_COLUMNS = {  # the export's column → the contract field the bench config maps
    "id": "native_id",
    "body": "text",
    "date": "published_at",
    "author": "author",
    "platform": "channel",
    "link": "url",
    "lang": "language",
    "views": "reach",
    "likes": "engagement",
}
CRM_COLUMNS = {
    "event_uid": "native_id",
    "contact_email": "customer_key",
    "type": "event_type",
    "created_at": "occurred_at",
    "utm_source": "channel",
    "utm_campaign": "campaign",
    "touchpoint": "touchpoint",
    "amount": "amount",
}
MENTION_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("body", pa.string()),
        ("date", pa.timestamp("us", tz="UTC")),
        ("author", pa.string()),
        ("platform", pa.string()),
        ("link", pa.string()),
        ("lang", pa.string()),
        ("views", pa.int64()),
        ("likes", pa.int64()),
    ]
)
CRM_SCHEMA = pa.schema(
    [
        ("event_uid", pa.string()),
        ("contact_email", pa.string()),
        ("type", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("utm_source", pa.string()),
        ("utm_campaign", pa.string()),
        ("touchpoint", pa.string()),
        ("amount", pa.float64()),
    ]
)


@dataclass(frozen=True)
class Vocabulary:
    words: np.ndarray  # the demo texts' words ...
    p: np.ndarray  # ... and how often they occur there


@cache
def vocabulary(language: str) -> Vocabulary:
    """Word frequencies of the demo's hand-written mentions in one language."""
    from cjm.demo.texts import TEMPLATES

    counts: Counter[str] = Counter()
    for by_sentiment in TEMPLATES.values():
        for by_language in by_sentiment.values():
            for template in by_language.get(language, []):
                text = re.sub(r"\{[^}]*\}", " ", template.text)
                counts.update(w for w in re.findall(r"\w+", text) if not w.isdigit())
    words = sorted(counts)  # a fixed order: the draws do not depend on dict order
    freq = np.array([counts[w] for w in words], dtype=float)
    return Vocabulary(np.array(words, dtype=object), freq / freq.sum())


def _lengths(rng: np.random.Generator, n: int) -> np.ndarray:
    """Words per text: posts around 14 words, articles around 90 (lognormal tails)."""
    post = rng.lognormal(np.log(14), 0.7, n)
    article = rng.lognormal(np.log(90), 0.5, n)
    words = np.where(rng.random(n) < SHARE_MEDIA, article, post)
    return np.clip(np.rint(words), 3, 400).astype(np.int64)


def _texts(rng: np.random.Generator, languages: np.ndarray, branded: np.ndarray) -> list[str]:
    n = len(languages)
    lengths = _lengths(rng, n)
    out: list[str] = [""] * n
    for language in ("ru", "en"):
        rows = np.flatnonzero(languages == language)
        if not len(rows):
            continue
        vocab = vocabulary(language)
        drawn = rng.choice(len(vocab.words), size=int(lengths[rows].sum()), p=vocab.p)
        words = vocab.words[drawn]
        forms = BRAND_FORMS[language]
        form = rng.integers(0, len(forms), len(rows))
        where = rng.random(len(rows))
        at = 0
        for k, row in enumerate(rows):
            size = int(lengths[row])
            chunk = list(words[at : at + size])
            at += size
            if branded[row]:
                chunk[int(where[k] * size)] = forms[form[k]]
            out[row] = " ".join(chunk)
    return out


def _reexports(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows that repeat an earlier row of the batch: (which rows, the row they repeat)."""
    kind = rng.random(n)
    again = np.flatnonzero(kind < SHARE_DUPLICATE + SHARE_UPDATE)
    again = again[again > 0]
    earlier = (rng.random(len(again)) * again).astype(np.int64)
    return again, earlier


def mention_batch(
    start: int, n: int, seed: int, batch: int, day0: float = 0.0, days: int = DAYS
) -> pa.Table:
    """Rows start .. start+n of the mention export, over `days` days from START + day0."""
    rng = np.random.default_rng([seed, 1, batch])
    languages = np.where(rng.random(n) < SHARE_RU, "ru", "en")
    branded = rng.random(n) < SHARE_BRAND
    texts = _texts(rng, languages, branded)
    # a daily rhythm: most posts by day (Moscow), fewer at night
    day = rng.uniform(day0, day0 + days, n).astype(np.int64)
    hours = (rng.normal(14, 4, n) % 24) - 3  # UTC hours of a Moscow day
    seconds = day * 86400 + (hours * 3600).astype(np.int64) + rng.integers(0, 3600, n)
    seconds = np.maximum(seconds, 0)
    ids = np.arange(start, start + n)
    channel = CHANNELS[rng.integers(0, len(CHANNELS), n)]
    views = np.rint(rng.lognormal(5, 1.5, n)).astype(np.int64)
    likes = np.rint(views * rng.beta(1, 30, n)).astype(np.int64)
    native = np.array([f"m{i:09d}" for i in ids], dtype=object)
    authors = np.array([f"user{(i * 7919) % 50_021}" for i in ids], dtype=object)
    again, earlier = _reexports(rng, n)
    native[again] = native[earlier]
    authors[again] = authors[earlier]
    channel[again] = channel[earlier]
    languages[again] = languages[earlier]
    seconds[again] = seconds[earlier]
    edited = again[rng.random(len(again)) < SHARE_UPDATE / (SHARE_DUPLICATE + SHARE_UPDATE)]
    text_arr = np.array(texts, dtype=object)
    text_arr[again] = text_arr[earlier]
    views[again] = views[earlier]
    likes[again] = likes[earlier]
    for row in edited:  # the author edited the post; the counters grew meanwhile
        text_arr[row] = (
            f"{text_arr[row]} UPD: {'уже ответили' if languages[row] == 'ru' else 'fixed now'}"
        )
    views[edited] *= 2
    likes[edited] += 1
    url = np.array([f"https://{c}.example/p/{i}" for c, i in zip(channel, native, strict=True)])
    at = (
        np.datetime64(START.replace(tzinfo=None), "us") + seconds.astype("timedelta64[s]")
    ).astype("datetime64[us]")
    return pa.Table.from_arrays(
        [
            pa.array(native, pa.string()),
            pa.array(text_arr, pa.string()),
            pa.array(at, pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC")),
            pa.array(authors, pa.string()),
            pa.array(channel, pa.string()),
            pa.array(url, pa.string()),
            pa.array(languages, pa.string()),
            pa.array(views),
            pa.array(likes),
        ],
        schema=MENTION_SCHEMA,
    )


def crm_batch(
    first_customer: int,
    n_customers: int,
    seed: int,
    batch: int,
    day0: float = 0.0,
    days: int = DAYS,
) -> pa.Table:
    """The journeys of customers first_customer .. +n_customers, as the CRM exports them."""
    journeys = journey_data.generate(n_customers, days=days, seed=seed * 1_000_003 + batch)
    ev = journeys.events
    n = len(ev)
    rng = np.random.default_rng([seed, 2, batch])
    local = ev["customer_key"].str.slice(4).astype(np.int64).to_numpy() + first_customer
    email = np.array([f"customer{k:09d}@mail.example" for k in local], dtype=object)
    uid = np.array(
        [f"e{first_customer:09d}-{i:07d}" for i in range(n)], dtype=object
    )  # unique per batch: the batch's first customer prefixes it
    at = ev["occurred_at"].dt.tz_convert(None).to_numpy().astype("datetime64[us]") + np.timedelta64(
        int(day0 * 86400), "s"
    )
    amount = ev["amount"].to_numpy().copy()
    kind = ev["event_type"].to_numpy(dtype=object)
    again, earlier = _reexports(rng, n)
    order = np.arange(n)
    order[again] = earlier  # a re-exported row carries the earlier row's fields
    uid = uid[order]
    email = email[order]
    kind = kind[order]
    at = at[order]
    amount = amount[order]
    channel = ev["channel"].to_numpy(dtype=object)[order]
    campaign = ev["campaign"].to_numpy(dtype=object)[order]
    touchpoint = ev["touchpoint"].to_numpy(dtype=object)[order]
    edited = again[rng.random(len(again)) < SHARE_UPDATE / (SHARE_DUPLICATE + SHARE_UPDATE)]
    paid = edited[kind[edited] == "order_paid"]
    amount[paid] = amount[paid] + 10.0  # a corrected order sum
    return pa.Table.from_arrays(
        [
            pa.array(uid, pa.string()),
            pa.array(email, pa.string()),
            pa.array(kind, pa.string()),
            pa.array(at, pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC")),
            pa.array(channel, pa.string()),
            pa.array(campaign, pa.string()),
            pa.array(touchpoint, pa.string(), from_pandas=True),
            pa.array(amount, pa.float64(), from_pandas=True),
        ],
        schema=CRM_SCHEMA,
    )


def _spans(n: int, batch_rows: int) -> Iterator[tuple[int, int, int]]:
    for batch, start in enumerate(range(0, n, batch_rows)):
        yield batch, start, min(batch_rows, n - start)


@dataclass(frozen=True)
class Written:
    mentions: list[Path]
    crm_events: list[Path]
    mention_rows: int
    crm_rows: int


def write_exports(
    out: Path,
    n: int,
    seed: int = 15,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    part: str = "full",
    offset: int = 0,
    day0: float = 0.0,
    days: int = DAYS,
) -> Written:
    """Write N mentions to out/mentions/ and about N CRM events to out/crm/, batch by batch.

    `part`, `offset`, `day0` and `days` make a later export (the 1% increment): other
    file names, ids after the full export's, and a week of dates after its end.
    """
    (out / "mentions").mkdir(parents=True, exist_ok=True)
    (out / "crm").mkdir(parents=True, exist_ok=True)
    mentions: list[Path] = []
    crm: list[Path] = []
    m_rows = c_rows = 0
    customers_per_batch = max(1, round(batch_rows / EVENTS_PER_CUSTOMER))
    n_customers = max(1, round(n / EVENTS_PER_CUSTOMER))
    seed_part = seed if part == "full" else seed * 31 + offset
    for batch, start, size in _spans(n, batch_rows):
        table = mention_batch(offset + start, size, seed_part, batch, day0, days)
        path = out / "mentions" / f"mentions-{part}-{batch:05d}.parquet"
        pq.write_table(table, path)
        mentions.append(path)
        m_rows += table.num_rows
    first_customer = round(offset / EVENTS_PER_CUSTOMER)
    for batch, start, size in _spans(n_customers, customers_per_batch):
        table = crm_batch(first_customer + start, size, seed_part, batch, day0, days)
        path = out / "crm" / f"crm-{part}-{batch:05d}.parquet"
        pq.write_table(table, path)
        crm.append(path)
        c_rows += table.num_rows
    return Written(mentions, crm, m_rows, c_rows)


def source_config(exports: Path) -> dict[str, Any]:
    """The bench warehouse's config: the journey brand, its stages, the two file sources."""
    base = journey_data.journey_config().model_dump(mode="json", exclude_unset=True)
    base["brands"] = [{"name": BRAND, "keywords": KEYWORDS, "languages": ["ru", "en"]}]
    base["sources"] = [
        {
            "name": "listening",
            "type": "file",
            "entity": "mention",
            "path": str(exports / "mentions" / "*.parquet"),
            "columns": {field: column for column, field in MENTION_COLUMNS.items()},
        },
        {
            "name": "crm",
            "type": "file",
            "entity": "crm_event",
            "path": str(exports / "crm" / "*.parquet"),
            "columns": {field: column for column, field in CRM_COLUMNS.items()},
        },
    ]
    return base
