"""The machinery the JSON API sources share (``crm_api`` for CRM events, ``rest_api``
for mentions): dotted JSON paths, one small paginator class per paging style, the
incremental cursor, and the page loop with its guards (a paging loop, a repeated page,
``max_pages``) and an API's own errors inside a 200 body.

Why one module: the two sources differ only in what a record becomes (a CRM event or
a mention). Paging, cursors and rate limits are decided here once, so a fix to the
Link-header paginator or to the quota handling reaches both.

The cursor (`Bookmark`) is ``{"since": <max bookmark seen, ISO UTC>, "ids": [native
ids at exactly that instant]}``. ``since_param`` sends it to the API; records the API
returns anyway at or before it (``since`` filters are often inclusive, or missing) are
dropped unless they are new ids at that very instant. So a re-run with the returned
cursor extracts nothing, and two records sharing a timestamp across runs are both kept.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import requests

from cjm.core.config import BodyErrors, Pagination
from cjm.core.contracts import ERRORS_COLUMN, ROW_COLUMN
from cjm.core.http import HttpClient
from cjm.extractors.base import ExtractError
from cjm.extractors.records import parse_timestamp, utc

log = logging.getLogger("cjm.rest")

CURSOR_IDS_MAX = 1000  # ids kept for the instant of the cursor; more share one timestamp rarely
_WHOLE_BODY = {"", "$", "."}


# --- JSON paths -------------------------------------------------------------------------


MISSING = object()


def json_path(body: Any, path: str) -> Any:
    """The value at a dotted path (``result.items``, ``paging.next.after``, ``items.0.id``).

    Returns the module's ``MISSING`` sentinel when a step does not exist, so a JSON
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
            return MISSING
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
        if value is MISSING or value in (None, "", False) or n_records == 0:
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
            return cls.from_dict(json.loads(raw))
        except (ValueError, TypeError, KeyError, AttributeError):
            raise bad_cursor(source, raw) from None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Bookmark:
        since = datetime.fromisoformat(data["since"]) if data.get("since") else None
        return cls(utc(since) if since else None, set(data.get("ids") or []))

    def copy(self) -> Bookmark:
        return Bookmark(self.since, set(self.ids))

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

    def as_dict(self) -> dict[str, Any]:
        since = self.since.isoformat().replace("+00:00", "Z") if self.since else None
        return {"since": since, "ids": sorted(self.ids)}

    def dump(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True)


def bad_cursor(source: str, raw: str) -> ExtractError:
    return ExtractError(
        f"source {source!r}: the stored cursor {raw[:80]!r} is not this source's cursor; "
        "reset it in ops.source_state to read from the start"
    )


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


def bookmark_time(
    record: Any,
    cursor_field: str | None,
    fmt: str | None,
    tz: ZoneInfo,
    default: Any,
    read: Callable[[Any, str], Any] = json_path,
) -> datetime | None:
    """The instant a record moves the `since` cursor to: its `cursor_field` (read as a
    path, or by `read`), or `default` (the record's own timestamp) when there is none."""
    if not cursor_field:
        return default
    raw = read(record, cursor_field)
    when, _ = parse_when(None if raw is MISSING else raw, fmt, tz)
    return when


# --- the extractor ------------------------------------------------------------------------


def records_at(source: str, body: Any, path: str, shown_url: str) -> list[Any]:
    """The record list at ``records``; a missing path is fatal (the mapping or API changed)."""
    value = json_path(body, path)
    if value is MISSING:
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


def non_object_draft(record: Any, ref: str) -> dict[str, Any] | None:
    """The quarantine-bound draft of a record that is not a JSON object (kept whole in
    attributes); None for an object."""
    if isinstance(record, Mapping):
        return None
    return {
        ROW_COLUMN: ref,
        "attributes": {"record_raw": record},
        ERRORS_COLUMN: [f"record is a JSON {type(record).__name__}, not an object"],
    }


def fingerprint(records: list[Any]) -> str:
    return hashlib.sha256(json.dumps(records, sort_keys=True, default=str).encode()).hexdigest()


# --- values: a path, a template or a sum ----------------------------------------------------

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def value_at(record: Any, spec: str) -> Any:
    """What a `columns` entry means for one record.

    - a dotted path (``snippet.textOriginal``): the value there, MISSING when absent;
    - a template with ``{path}`` placeholders (``https://vk.com/wall{owner_id}_{id}``):
      the text with each filled, MISSING when any placeholder is absent or null (a
      half-filled URL would be a wrong link);
    - a sum ``a + b + c`` of numeric paths (VK likes + reposts + comments): absent
      terms count 0; MISSING when none is present;
    - alternatives ``a | b``: the first that is present and not empty (Reddit's link
      posts have an empty ``selftext``: their text is the title).
    """
    return compiled(spec)(record)


Getter = Callable[[Any], Any]


@lru_cache(maxsize=1024)
def compiled(spec: str) -> Getter:
    """The spec parsed once into a function of the record (a source maps thousands)."""
    if " | " in spec:
        alternatives = [compiled(a.strip()) for a in spec.split(" | ")]

        def first(record: Any) -> Any:
            for get in alternatives:
                value = get(record)
                if value is not MISSING and value not in (None, ""):
                    return value
            return MISSING

        return first
    if "{" in spec:
        pieces: list[tuple[str, Getter]] = []
        pos = 0
        for m in _PLACEHOLDER.finditer(spec):
            pieces.append((spec[pos : m.start()], _path_getter(m.group(1))))
            pos = m.end()
        rest = spec[pos:]

        def template(record: Any) -> Any:
            out: list[str] = []
            for literal, get in pieces:
                value = get(record)
                if value is MISSING or value is None:
                    return MISSING
                out.append(literal)
                out.append(str(value))
            out.append(rest)
            return "".join(out)

        return template
    if " + " in spec:
        terms = [_path_getter(t.strip()) for t in spec.split(" + ")]

        def total(record: Any) -> Any:
            found, acc = False, 0
            for get in terms:
                value = get(record)
                if isinstance(value, bool) or not isinstance(value, int | float):
                    continue
                acc += value
                found = True
            return acc if found else MISSING

        return total
    return _path_getter(spec)


def _path_getter(path: str) -> Getter:
    path = path.strip().removeprefix("$.")
    if path in _WHOLE_BODY:
        return lambda record: record
    if "." not in path and not path.lstrip("-").isdigit():

        def key(record: Any) -> Any:  # the common case: a top-level field
            if isinstance(record, Mapping):
                return record.get(path, MISSING)
            return MISSING

        return key
    return lambda record: json_path(record, path)


# --- the page loop ----------------------------------------------------------------------------


@dataclass
class Page:
    number: int  # 1-based, per request series
    shown: str  # the URL asked for, credentials masked
    records: list[Any]
    body: Any


def check_body(errors: BodyErrors, body: Any) -> tuple[str, str] | None:
    """(code, message) of an API error inside a 200 body, None when the call succeeded."""
    err = json_path(body, errors.path)
    if err is MISSING or err in (None, "", {}, []):
        return None
    if isinstance(err, Mapping):
        code = json_path(err, errors.code)
        message = json_path(err, errors.message)
    else:
        code, message = err, MISSING
    code_s = "?" if code is MISSING else str(code)
    message_s = "" if message is MISSING else " ".join(str(message).split())[:200]
    return code_s, message_s


def get_page(
    client: HttpClient, errors: BodyErrors | None, request: PageRequest
) -> tuple[Any, requests.Response]:
    """One page; an API error in the body is retried (its rate-limit codes) or fatal.

    A fatal error raises before the page's records are used, and the run's batch is
    gathered before its cursor is stored, so nothing is loaded and the cursor stays
    where the last good run left it: the next run asks for the same records again.
    """
    attempt = 0
    while True:
        attempt += 1
        body, response = client.get_json(request.url, request.params)
        if errors is None:
            return body, response
        shown = client.shown_url(response.url)
        found = check_body(errors, body)
        if found is None:
            return body, response
        code, message = found
        what = f"API error {code}" + (f" ({message})" if message else "")
        retry = code in {str(c) for c in errors.retry_codes}
        if not retry:
            raise ExtractError(
                f"source {client.source!r}: GET {shown} → {what}; nothing of this run is "
                "stored and the cursor is unchanged"
            )
        wait = min(errors.retry_seconds * (2 ** (attempt - 1)), client.retry.max_wait)
        policy = client.retry
        if attempt >= policy.max_tries or client.total_waited + wait > policy.max_total_wait:
            raise ExtractError(
                f"source {client.source!r}: GET {shown} → {what} after {attempt} "
                f"tr{'y' if attempt == 1 else 'ies'} and {client.total_waited:.1f} s of waiting "
                "(a rate limit: raise max_tries / max_total_wait_seconds or run less often); "
                "nothing of this run is stored and the cursor is unchanged"
            )
        log.warning(
            "%s: %s: %s; retry %d/%d in %.2f s", client.source, shown, what, attempt + 1,
            policy.max_tries, wait,
        )  # fmt: skip
        client.sleep(wait)
        client.total_waited += wait


def read_pages(
    client: HttpClient,
    source: str,
    request: PageRequest | None,
    paginator: Paginator,
    records_path: str,
    pagination: Pagination,
    notes: list[str],
    errors: BodyErrors | None = None,
) -> Iterator[Page]:
    """Every page of one request series, guarded against paging loops, an API that
    ignores the paging parameter, and `max_pages`. The caller may stop early by
    leaving the loop (a newest-first listing that reached the cursor)."""
    asked: set[str] = set()
    previous = ""
    number = 0
    while request is not None:
        if request.key() in asked:
            raise ExtractError(
                f"source {source!r}: pagination loops: {client.shown_url(request.url)} was "
                "asked for twice (check `pagination`)"
            )
        asked.add(request.key())
        body, response = get_page(client, errors, request)
        number += 1
        shown = client.shown_url(response.url)
        records = records_at(source, body, records_path, shown)
        print_ = fingerprint(records)
        if records and print_ == previous:
            raise ExtractError(
                f"source {source!r}: page {number} ({shown}) repeats the previous page; "
                "the API ignores the paging parameter (check `pagination`)"
            )
        previous = print_
        yield Page(number, shown, records, body)
        if pagination.max_pages and number >= pagination.max_pages:
            notes.append(f"stopped at pagination.max_pages = {number}")
            return
        request = paginator.next(request, response, body, len(records))
