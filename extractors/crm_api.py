"""A CRM's REST API (type ``crm_api``) as CRM events, read incrementally.

The source is a declaration in the config (URL, where the records sit, how the
API pages, which field is the bookmark, how fields map to the contract); this
module is the *how*: the shared HTTP client (auth, retries, timeouts), one small
paginator class per paging style, and the incremental cursor.

The cursor is ``{"since": <max bookmark seen, ISO UTC>, "ids": [native ids at
exactly that instant]}``. ``since_param`` sends it to the API; records the API
returns anyway at or before it (``since`` filters are often inclusive, or
missing) are dropped here unless they are new ids at that very instant. So a
re-run with the returned cursor extracts nothing, and two events sharing a
timestamp across runs are both kept.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import requests

from cjm.core.config import CrmApiSource, Pagination
from cjm.core.contracts import ERRORS_COLUMN, ROW_COLUMN
from cjm.core.http import client_for, safe_url
from cjm.extractors.base import ExtractContext, Extracted, ExtractError
from cjm.extractors.records import (
    as_id,
    canonical_brand,
    finish_crm_events,
    parse_amount,
    parse_timestamp,
    utc,
    with_mapped_attributes,
)

log = logging.getLogger("cjm.crm_api")

REQUIRED = ("native_id", "customer_key", "event_type", "occurred_at")
CURSOR_IDS_MAX = 1000  # ids kept for the instant of the cursor; more share one timestamp rarely
_WHOLE_BODY = {"", "$", "."}


# --- JSON paths -------------------------------------------------------------------------


_MISSING = object()


def json_path(body: Any, path: str) -> Any:
    """The value at a dotted path (``result.items``, ``paging.next.after``, ``items.0.id``).

    Returns the module's ``_MISSING`` sentinel when a step does not exist, so a JSON
    ``null`` and an absent key stay distinguishable. ``$``, ``.`` or an empty path
    mean the body itself (APIs that return a bare list).
    """
    path = path.strip()
    if path.startswith("$."):
        path = path[2:]
    if path in _WHOLE_BODY:
        return body
    node = body
    for step in path.split("."):
        if isinstance(node, Mapping) and step in node:
            node = node[step]
        elif (
            isinstance(node, list)
            and step.lstrip("-").isdigit()
            and -len(node) <= int(step) < len(node)
        ):
            node = node[int(step)]
        else:
            return _MISSING
    return node


# --- pagination: one small class per style ------------------------------------------------


@dataclass(frozen=True)
class PageRequest:
    url: str
    params: dict[str, Any]

    def key(self) -> str:
        return self.url + "?" + json.dumps(self.params, sort_keys=True, default=str)


class Paginator:
    """No paging: one request. Subclasses say how to get the next page, or None when done."""

    def first(self, url: str, params: dict[str, Any]) -> PageRequest:
        return PageRequest(url, dict(params))

    def next(
        self, last: PageRequest, response: requests.Response, body: Any, n_records: int
    ) -> PageRequest | None:
        return None


@dataclass
class CursorPaginator(Paginator):
    """``param`` = the value at JSON path ``next`` (HubSpot ``paging.next.after``, Stripe-like).

    A ``next`` that is itself a URL (``links.next``) is followed as is.
    """

    param: str
    next_path: str

    def next(
        self, last: PageRequest, response: requests.Response, body: Any, n_records: int
    ) -> PageRequest | None:
        value = json_path(body, self.next_path)
        if value is _MISSING or value in (None, "", False) or n_records == 0:
            return None
        if isinstance(value, str) and value.startswith(("http://", "https://", "/")):
            return PageRequest(urljoin(response.url, value), {})
        return PageRequest(last.url, {**last.params, self.param: value})


@dataclass
class PagePaginator(Paginator):
    """Page numbers (``?page=2&per_page=100``); a short or empty page is the last."""

    param: str
    size_param: str | None
    size: int | None
    start: int

    def first(self, url: str, params: dict[str, Any]) -> PageRequest:
        return PageRequest(url, {**params, **self._size(), self.param: self.start})

    def _size(self) -> dict[str, Any]:
        return {self.size_param: self.size} if self.size_param and self.size else {}

    def next(
        self, last: PageRequest, response: requests.Response, body: Any, n_records: int
    ) -> PageRequest | None:
        if n_records == 0 or (self.size and n_records < self.size):
            return None
        return PageRequest(last.url, {**last.params, self.param: int(last.params[self.param]) + 1})


@dataclass
class OffsetPaginator(PagePaginator):
    """Record offsets (``?offset=200&limit=100``, Bitrix24's ``start``); moves by records read."""

    def next(
        self, last: PageRequest, response: requests.Response, body: Any, n_records: int
    ) -> PageRequest | None:
        if n_records == 0 or (self.size and n_records < self.size):
            return None
        offset = int(last.params[self.param]) + n_records
        return PageRequest(last.url, {**last.params, self.param: offset})


class LinkPaginator(Paginator):
    """RFC 8288 ``Link: <https://...&page=3>; rel="next"`` (GitHub, many REST APIs)."""

    def next(
        self, last: PageRequest, response: requests.Response, body: Any, n_records: int
    ) -> PageRequest | None:
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        # The link carries the whole query (since, size): send it as is.
        return PageRequest(urljoin(response.url, link), {})


def make_paginator(p: Pagination) -> Paginator:
    if p.type == "cursor":
        assert p.next  # the config model guarantees it
        return CursorPaginator(p.param or "cursor", p.next)
    if p.type == "page":
        return PagePaginator(
            p.param or "page", p.size_param, p.size, 1 if p.start is None else p.start
        )
    if p.type == "offset":
        return OffsetPaginator(
            p.param or "offset", p.size_param, p.size, 0 if p.start is None else p.start
        )
    if p.type == "link":
        return LinkPaginator()
    return Paginator()


# --- the cursor ---------------------------------------------------------------------------


@dataclass
class Bookmark:
    """The max bookmark value seen and the ids at exactly that instant."""

    since: datetime | None = None
    ids: set[str] = field(default_factory=set)

    @classmethod
    def parse(cls, source: str, raw: str | None) -> Bookmark:
        if not raw:
            return cls()
        try:
            data = json.loads(raw)
            since = datetime.fromisoformat(data["since"]) if data.get("since") else None
            return cls(utc(since) if since else None, set(data.get("ids") or []))
        except (ValueError, TypeError, KeyError, AttributeError):
            raise ExtractError(
                f"source {source!r}: the stored cursor {raw[:80]!r} is not a crm_api cursor; "
                "reset it in ops.source_state to read from the start"
            ) from None

    def covers(self, when: datetime | None, native_id: str | None) -> bool:
        """True when a record at ``when`` was already read on an earlier run."""
        if self.since is None or when is None:
            return False
        return when < self.since or (when == self.since and native_id in self.ids)

    def advance(self, when: datetime | None, native_id: str | None) -> None:
        if when is None:
            return
        if self.since is None or when > self.since:
            self.since, self.ids = when, set()
        if when == self.since and native_id and len(self.ids) < CURSOR_IDS_MAX:
            self.ids.add(native_id)

    def dump(self) -> str:
        since = self.since.isoformat().replace("+00:00", "Z") if self.since else None
        return json.dumps({"since": since, "ids": sorted(self.ids)}, sort_keys=True)


def format_since(since: datetime, fmt: str | None) -> str:
    """The since value as the API wants it: ISO UTC (default), epoch seconds or strftime."""
    since = since.astimezone(UTC)
    if fmt == "epoch":
        return str(int(since.timestamp()))
    if fmt:
        return since.strftime(fmt)
    return since.isoformat().replace("+00:00", "Z")


# --- records → drafts ---------------------------------------------------------------------


def parse_when(value: Any, fmt: str | None, tz: ZoneInfo) -> tuple[datetime | None, str | None]:
    """Timestamps as APIs send them: ISO-8601 / strftime text, or epoch numbers.

    Epoch values above 10^11 are milliseconds (10^11 s is the year 5138).
    """
    if isinstance(value, bool):
        return None, f"{value!r} is not a timestamp"
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC), None
        except (OverflowError, OSError, ValueError):
            return None, f"{value!r} is not a valid epoch timestamp"
    if isinstance(value, str) and value.strip().isdigit() and not fmt:
        return parse_when(int(value.strip()), fmt, tz)
    if isinstance(value, str) and value.strip().endswith("Z") and not fmt:
        value = value.strip()[:-1] + "+00:00"  # 3.11 reads Z, older tools write "z" too
    return parse_timestamp(value, fmt, tz)


@dataclass
class Shaper:
    """Maps one API record to a crm_event draft (contract fields + ``_row`` + ``_errors``)."""

    src: CrmApiSource
    brands: list[str]  # the configured brand names
    tz: ZoneInfo = field(init=False)
    tops: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self.tz = ZoneInfo(self.src.timezone)
        # A mapped path `contact.email` consumes the whole `contact` object, so fields
        # beside it (phones, names) do not leak into attributes.
        self.tops = {p.strip().removeprefix("$.").split(".")[0] for p in self.src.columns.values()}
        if self.src.cursor_field:
            self.tops.add(self.src.cursor_field.removeprefix("$.").split(".")[0])

    def draft(self, record: Any, ref: str) -> tuple[dict[str, Any], datetime | None]:
        """The draft and the record's bookmark value (None when absent or unparseable)."""
        errors: list[str] = []
        draft: dict[str, Any] = {ROW_COLUMN: ref}
        if not isinstance(record, Mapping):
            draft["attributes"] = {"record_raw": record}
            draft[ERRORS_COLUMN] = [f"record is a JSON {type(record).__name__}, not an object"]
            return draft, None
        for fld, path in self.src.columns.items():
            value = json_path(record, path)
            draft[fld] = None if value is _MISSING else value
        for fld, value in self.src.constants.items():
            draft[fld] = value
        extras = {k: v for k, v in record.items() if k not in self.tops and v not in (None, "")}
        draft["attributes"] = with_mapped_attributes(extras, draft.get("attributes"))
        occurred, err = parse_when(draft.get("occurred_at"), self.src.timestamp_format, self.tz)
        draft["occurred_at"] = occurred
        if err:
            errors.append(f"occurred_at: {err}")
        amount, err = parse_amount(draft.get("amount"))
        draft["amount"] = amount
        if err:
            errors.append(f"amount: {err}")
        for fld in ("native_id", "customer_key"):
            draft[fld] = as_id(draft.get(fld))
        draft["brand"] = canonical_brand(self.brands, draft.get("brand"))
        draft[ERRORS_COLUMN] = errors
        if self.src.cursor_field:
            raw = json_path(record, self.src.cursor_field)
            when, _ = parse_when(
                None if raw is _MISSING else raw, self.src.timestamp_format, self.tz
            )
        else:
            when = occurred
        return draft, when


# --- the extractor ------------------------------------------------------------------------


def records_at(source: str, body: Any, path: str, shown_url: str) -> list[Any]:
    """The record list at ``records``; a missing path is fatal (the mapping or API changed)."""
    value = json_path(body, path)
    if value is _MISSING:
        keys = sorted(body) if isinstance(body, Mapping) else f"a JSON {type(body).__name__}"
        raise ExtractError(
            f"source {source!r}: GET {shown_url}: the response has no `{path}` (set by "
            f"`records:`); the body's top-level keys are {keys}"
        )
    if value is None:
        return []  # some APIs send `"data": null` on the last page
    if not isinstance(value, list):
        raise ExtractError(
            f"source {source!r}: GET {shown_url}: `{path}` (set by `records:`) is a JSON "
            f"{type(value).__name__}, not a list of records"
        )
    return value


def _fingerprint(records: list[Any]) -> str:
    return hashlib.sha256(json.dumps(records, sort_keys=True, default=str).encode()).hexdigest()


def extract(ctx: ExtractContext) -> Extracted:
    src = ctx.source
    assert isinstance(src, CrmApiSource)
    missing = [f for f in REQUIRED if f not in src.columns and f not in src.constants]
    if missing:
        raise ExtractError(
            f"source {src.name!r}: columns: map the required crm_event field(s) {missing}"
        )
    start = Bookmark.parse(src.name, ctx.cursor)  # what earlier runs read
    bookmark = Bookmark(start.since, set(start.ids))  # moves as this run reads
    start_since = start.since
    params: dict[str, Any] = dict(src.params)
    if src.since_param and start_since is not None:
        params[src.since_param] = format_since(start_since, src.since_format)
    shaper = Shaper(src, [b.name for b in ctx.config.brands])
    paginator = make_paginator(src.pagination)
    stats = {"pages": 0, "already_read": 0}
    notes: list[str] = []

    def drafts() -> Iterator[dict[str, Any]]:
        request: PageRequest | None = paginator.first(src.url, params)
        asked: set[str] = set()
        previous = ""
        with client_for(src, headers={"Accept": "application/json"}) as client:
            while request is not None:
                if request.key() in asked:
                    raise ExtractError(
                        f"source {src.name!r}: pagination loops: {safe_url(request.url)} was "
                        "asked for twice (check `pagination`)"
                    )
                asked.add(request.key())
                body, response = client.get_json(request.url, request.params)
                stats["pages"] += 1
                page = stats["pages"]
                shown = safe_url(response.url)
                records = records_at(src.name, body, src.records, shown)
                fingerprint = _fingerprint(records)
                if records and fingerprint == previous:
                    raise ExtractError(
                        f"source {src.name!r}: page {page} ({shown}) repeats the previous page; "
                        "the API ignores the paging parameter (check `pagination`)"
                    )
                previous = fingerprint
                fresh = 0
                for i, record in enumerate(records, start=1):
                    draft, when = shaper.draft(record, f"{src.name} page {page} record {i}")
                    if start.covers(when, draft.get("native_id")):
                        stats["already_read"] += 1
                        continue
                    fresh += 1
                    bookmark.advance(when, draft.get("native_id"))
                    yield draft
                if src.newest_first and start_since is not None and records and not fresh:
                    notes.append(f"stopped at page {page}: nothing newer than the cursor")
                    break
                if src.pagination.max_pages and page >= src.pagination.max_pages:
                    notes.append(f"stopped at pagination.max_pages = {page}")
                    break
                request = paginator.next(request, response, body, len(records))
        log.info("%s: %d page(s), %d already read", src.name, stats["pages"], stats["already_read"])

    out = finish_crm_events(drafts(), ctx)
    out.table  # noqa: B018 (pages are read as it is gathered; the bookmark follows them)
    unchanged = bookmark.since == start_since and out.table.num_rows == 0
    out.cursor = ctx.cursor if unchanged else bookmark.dump()
    out.notes.extend(notes)
    out.notes.append(
        f"{stats['pages']} page(s), {out.rows_seen} new record(s), "
        f"{stats['already_read']} already read"
    )
    return out
