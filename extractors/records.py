"""Turn source-shaped drafts into contract records (shared by every extractor).

Extractors differ in how they read; they must not differ in how ids are made,
brands matched, customer ids hashed or problems reported. A draft is a plain
dict of contract fields (timestamps already parsed, or None with the reason in
``_errors``); this module does the rest and returns an Arrow table in the
landing schema.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from cjm.core.brand_match import BrandMatcher
from cjm.core.columns import hash_customer_ids, stable_ids
from cjm.core.config import MENTION_ATTRIBUTE_FIELDS
from cjm.core.contracts import (
    ERRORS_COLUMN,
    ROW_COLUMN,
    customer_key_secret,
    landing_schema,
)
from cjm.core.pii import PiiPolicy
from cjm.core.text import normalize
from cjm.extractors.base import ExtractContext, Extracted

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)


def guess_language(text: str | None) -> str | None:
    """Cheap script-based guess (ru/en) until the enrichment step detects properly."""
    if not text:
        return None
    cyr = len(_CYRILLIC.findall(text))
    lat = len(_LATIN.findall(text))
    if cyr == 0 and lat == 0:
        return None
    return "ru" if cyr >= lat else "en"


def language_code(value: Any) -> str | None:
    """'en-US', 'ru_RU', 'EN' → 'en': feeds and exports disagree, the warehouse must not."""
    s = clean_str(value)
    if not s:
        return None
    code = re.split(r"[-_]", s, maxsplit=1)[0].lower()
    return code if re.fullmatch(r"[a-z]{2}", code) else s


def clean_str(value: Any) -> str | None:
    """Empty cells, NaN and whitespace-only strings all mean 'no value'."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    s = str(value).strip()
    return s or None


def _json(value: dict[str, Any] | None) -> str | None:
    if not value:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


# The contract's string fields per entity; ids may also arrive as JSON numbers.
STRING_FIELDS = {
    "mention": ("native_id", "url", "author", "title", "text", "brand", "channel", "language"),
    "crm_event": (
        "native_id", "customer_key", "brand", "event_type", "channel", "touchpoint",
        "campaign", "message",
    ),
}  # fmt: skip
NUMBER_OK = frozenset({"native_id", "customer_key"})


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


def check_types(draft: dict[str, Any], entity: str) -> None:
    """A value of the wrong JSON kind is an error on its record (quarantined with
    `field: expected string, got object`), never stringified into the warehouse."""
    for name in STRING_FIELDS[entity]:
        value = draft.get(name)
        if value is None or isinstance(value, str):
            continue
        if name in NUMBER_OK and _kind(value) == "number":
            continue
        if isinstance(value, float) and math.isnan(value):
            continue  # an empty cell, read by pandas/Parquet as NaN
        problem = f"{name}: expected string, got {_kind(value)}"
        draft[ERRORS_COLUMN] = [*(draft.get(ERRORS_COLUMN) or []), problem]
        if name != "customer_key":  # a customer id is stored only as its keyed hash
            attributes = dict(draft.get("attributes") or {})
            attributes.setdefault(f"{name}_raw", value)  # nothing lost: it travels here
            draft["attributes"] = attributes
        draft[name] = None


def _errors(draft: dict[str, Any]) -> str | None:
    errs = draft.get(ERRORS_COLUMN) or []
    return "; ".join(errs) if errs else None


def _batch(entity: str, columns: dict[str, list[Any]]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(columns, schema=landing_schema(entity))


def _empty(entity: str) -> dict[str, list[Any]]:
    return {f.name: [] for f in landing_schema(entity)}


def finish_mentions(
    drafts: Iterable[dict[str, Any]], ctx: ExtractContext, cursor: str | None = None
) -> Extracted:
    """Shape drafts into landing batches of `load.batch_rows` rows, produced as read."""
    out = Extracted("mention", (), cursor=cursor)
    out.batches = _mention_batches(drafts, ctx, out)
    return out


def _mention_batches(
    drafts: Iterable[dict[str, Any]], ctx: ExtractContext, out: Extracted
) -> Iterator[pa.RecordBatch]:
    src = ctx.source
    config = ctx.config
    batch_rows = config.load.batch_rows
    policy = PiiPolicy()  # mentions: only a broken line's raw text is redacted
    brands = [b for b in config.brands if not src.brand or b.name == src.brand]
    matcher = BrandMatcher(brands)
    default_channel = getattr(src, "channel", None) or src.type
    columns = _empty("mention")

    def flush() -> pa.RecordBatch:
        nonlocal columns
        # ids column-wise (cjm.core.columns: the same bytes stable_id hashes)
        columns["mention_id"] = stable_ids(src.name, pa.array(columns["native_id"], pa.string()))
        batch = _batch("mention", columns)
        columns = _empty("mention")
        return batch

    for d in drafts:
        out.seen += 1
        check_types(d, "mention")
        text = clean_str(d.get("text"))
        title = clean_str(d.get("title"))
        if d.get(ERRORS_COLUMN):  # bound for quarantine, not analysis: contacts redacted
            text, title = policy.text(text), policy.text(title)
        brand = clean_str(d.get("brand"))
        attributes = dict(d.get("attributes") or {})
        # Mapped contract fields without a raw column travel in attributes by their name.
        for name in MENTION_ATTRIBUTE_FIELDS:
            if d.get(name) not in (None, ""):
                attributes[name] = d[name]
        if brand:
            found = matcher.match(title, text)
            keywords = list(found.keywords) if found else []
        else:
            found = matcher.match(title, text)
            if found is None and (text or title) and not d.get(ERRORS_COLUMN):
                # A readable record that names no configured brand is not a brand mention:
                # counted (rows_off_brand) but not kept, or a media feed would flood the
                # warehouse. Broken or empty records go on to validation and quarantine.
                out.off_brand += 1
                continue
            brand = found.brand if found else None
            keywords = list(found.keywords) if found else []
            if found and found.other_brands:
                attributes["other_brands"] = list(found.other_brands)
        native_id = clean_str(d.get("native_id"))
        columns["mention_id"].append(None)  # filled column-wise in flush()
        columns["source"].append(src.name)
        columns["source_type"].append(src.type)
        columns["channel"].append(clean_str(d.get("channel")) or default_channel)
        columns["native_id"].append(native_id)
        columns["url"].append(clean_str(d.get("url")))
        columns["author"].append(clean_str(d.get("author")))
        columns["title"].append(title)
        columns["text"].append(text)
        columns["published_at"].append(d.get("published_at"))
        columns["fetched_at"].append(ctx.fetched_at)
        both = " ".join(t for t in (title, text) if t)
        columns["language"].append(language_code(d.get("language")) or guess_language(both))
        columns["brand"].append(brand)
        columns["matched_keywords"].append(keywords)
        columns["attributes"].append(_json(policy.mention_attributes(attributes)))
        columns["run_id"].append(ctx.run_id)
        columns[ROW_COLUMN].append(d.get(ROW_COLUMN))
        columns[ERRORS_COLUMN].append(_errors(d))
        if len(columns["native_id"]) >= batch_rows:
            yield flush()
    if columns["native_id"]:
        yield flush()


def finish_crm_events(
    drafts: Iterable[dict[str, Any]], ctx: ExtractContext, cursor: str | None = None
) -> Extracted:
    """Shape drafts into landing batches of `load.batch_rows` rows, produced as read."""
    out = Extracted("crm_event", (), cursor=cursor)
    out.batches = _crm_event_batches(drafts, ctx, out)
    return out


def _crm_event_batches(
    drafts: Iterable[dict[str, Any]], ctx: ExtractContext, out: Extracted
) -> Iterator[pa.RecordBatch]:
    src = ctx.source
    config = ctx.config
    batch_rows = config.load.batch_rows
    secret = customer_key_secret()
    policy = PiiPolicy(
        keep=[*config.pii.keep, *config.segments.crm_attributes],
        hash=config.pii.hash,
        secret=secret,
    )
    default_brand = src.brand or config.brands[0].name
    default_channel = getattr(src, "channel", None)
    columns = _empty("crm_event")

    def flush() -> pa.RecordBatch:
        nonlocal columns
        # ids and keyed customer hashes column-wise (cjm.core.columns)
        columns["event_id"] = stable_ids(src.name, pa.array(columns["native_id"], pa.string()))
        raw = pa.array(columns["customer_key"], pa.string())
        columns["customer_key"] = hash_customer_ids(raw, secret)
        batch = _batch("crm_event", columns)
        columns = _empty("crm_event")
        return batch

    for d in drafts:
        out.seen += 1
        check_types(d, "crm_event")
        native_id = clean_str(d.get("native_id"))
        columns["event_id"].append(None)  # filled column-wise in flush()
        columns["source"].append(src.name)
        columns["native_id"].append(native_id)
        columns["customer_key"].append(clean_str(d.get("customer_key")))  # hashed in flush()
        columns["brand"].append(clean_str(d.get("brand")) or default_brand)
        event_type = clean_str(d.get("event_type"))
        columns["event_type"].append(event_type.lower() if event_type else None)
        columns["channel"].append(clean_str(d.get("channel")) or default_channel)
        columns["touchpoint"].append(clean_str(d.get("touchpoint")))
        columns["campaign"].append(clean_str(d.get("campaign")))
        columns["message"].append(policy.text(clean_str(d.get("message"))))
        columns["occurred_at"].append(d.get("occurred_at"))
        columns["amount"].append(d.get("amount"))
        columns["attributes"].append(_json(policy.crm_attributes(d.get("attributes"))))
        columns["run_id"].append(ctx.run_id)
        columns[ROW_COLUMN].append(d.get(ROW_COLUMN))
        columns[ERRORS_COLUMN].append(_errors(d))
        if len(columns["native_id"]) >= batch_rows:
            yield flush()
    if columns["native_id"]:
        yield flush()
    summary = policy.summary()
    if summary:
        out.note(summary)


def utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


# ---------------------------------------------------------------- record shaping
# What every source does to a draft before finish_*: one rule each, so a CSV export and
# the CRM API shape the same record the same way.
def as_id(value: Any) -> Any:
    """An id as a string: 123.0 (a number column read as float) → "123". Anything but a
    number is left as it is, for `check_types` to reject (a list is not an id)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, float) and math.isnan(value):
        return None  # an empty cell of a numeric column
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def with_mapped_attributes(extras: dict[str, Any], mapped: Any) -> dict[str, Any]:
    """The unmapped fields plus whatever a mapped `attributes` field holds (an object or
    its JSON text; anything unreadable is kept whole as `attributes_raw`)."""
    if isinstance(mapped, Mapping):
        extras.update(mapped)
    elif isinstance(mapped, str):
        try:
            extras.update(json.loads(mapped))
        except (json.JSONDecodeError, TypeError, ValueError):
            extras["attributes_raw"] = mapped
    return extras


# The placeholder of a search feed's or API's query (rss and rest_api): one request
# series per brand keyword.
QUERY = "{query}"


def brand_queries(brands: Sequence[Any], only_brand: str | None, join: str | None) -> list[str]:
    """What a search source asks, each once and in config order: every keyword of the
    brands it follows, or with `join` (config `query_join`) one query per brand, its
    keywords joined ("finly OR финли") for APIs that take boolean queries."""
    chosen = [b for b in brands if not only_brand or b.name == only_brand]
    if join is not None:
        wanted = [join.join(b.keywords) for b in chosen]
    else:
        wanted = [k for b in chosen for k in b.keywords]
    return list(dict.fromkeys(q.strip() for q in wanted if q.strip()))


def canonical_brand(brand_names: Iterable[str], value: Any) -> str | None:
    """A brand spelled as the config spells it (`FINLY` → `Finly`); unknown names kept."""
    text = clean_str(value)
    if not text:
        return text
    wanted = normalize(text)
    return next((name for name in brand_names if normalize(name) == wanted), text)


# ---------------------------------------------------------------- field parsing
# Shared by every source that reads strings (files, the CRM API): one set of rules for
# what a timestamp or an amount may look like.
_ISO_DATE_START = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _parse_iso_like(s: str) -> datetime:
    """ISO-8601, plus the near-ISO and RFC 2822 forms exports really contain.

    Strict ISO first. Then strings that start with a year-month-day date but put the
    offset after a space (``2015-02-24 11:35:52 -0800``, common in tweet exports),
    and RFC 2822 dates (``Tue, 24 Feb 2015 11:35:52 +0000``). Day-first or
    month-first dates stay errors: guessing their order would corrupt data silently.
    """
    try:
        return datetime.fromisoformat(s)
    except ValueError:
        pass
    if _ISO_DATE_START.match(s):
        from dateutil import parser

        return parser.parse(s, dayfirst=False, yearfirst=True)
    if "," in s[:5]:
        from email.utils import parsedate_to_datetime

        try:
            return parsedate_to_datetime(s)
        except (TypeError, ValueError, IndexError) as exc:
            raise ValueError(s) from exc
    raise ValueError(s)


def parse_timestamp(
    value: Any, fmt: str | None, tz: ZoneInfo
) -> tuple[datetime | None, str | None]:
    """Parse one timestamp; naive values are local time in the source's time zone."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, "missing"
    if isinstance(value, datetime):  # Parquet timestamps arrive typed
        dt = value
    else:
        s = str(value).strip()
        if not s:
            return None, "missing"
        try:
            dt = datetime.strptime(s, fmt) if fmt else _parse_iso_like(s)
        except (ValueError, OverflowError):
            expected = f"format {fmt!r}" if fmt else "ISO-8601"
            return None, f"{s!r} does not match {expected}"
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return utc(dt), None


def parse_amount(value: Any) -> tuple[float | None, str | None]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, None
    if isinstance(value, int | float):
        return float(value), None
    s = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if not s:
        return None, None
    try:
        return float(s.replace(",", ".")), None
    except ValueError:
        return None, f"{value!r} is not a number"
