"""A social network's or a listening platform's JSON API (type ``rest_api``) as mentions.

The networks people talk about brands on (VK, Mastodon, Reddit, YouTube) and the
listening platforms teams pay for all offer a documented JSON API with a token and
paging: a declaration in the config (URL, where the records sit, how the API pages,
how fields map to the mention contract) reads any of them, and config/recipes/ holds
a tested declaration per network. The paging, the incremental cursor and the page
loop are the ones ``crm_api`` uses (cjm/extractors/rest.py); this module is only what
a record becomes: a mention draft, handed to the shared brand matching and landing.

Search APIs are asked once per query (``{query}`` in ``url`` or a ``params`` value),
as the rss search feeds are: the brands' keywords by default, or the source's own
``queries`` (a hashtag timeline wants ``finly``, not ``#finly``). Each query is its
own request series with its own bookmark in the cursor
(``{"series": {"<query>": {"since": ..., "ids": [...]}}}``), so a keyword added later
reads its own history instead of starting at the others' bookmark. A post found by
two queries in one run is kept once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from cjm.core.config import REST_API_REQUIRED, Brand, RestApiSource
from cjm.core.contracts import ERRORS_COLUMN, ROW_COLUMN
from cjm.core.http import client_for
from cjm.extractors.base import ExtractContext, Extracted, ExtractError
from cjm.extractors.html_text import html_to_text
from cjm.extractors.records import QUERY, as_id, brand_queries, canonical_brand, finish_mentions
from cjm.extractors.rest import (
    MISSING,
    Bookmark,
    bad_cursor,
    bookmark_time,
    format_since,
    make_paginator,
    non_object_draft,
    parse_when,
    read_pages,
    value_at,
)

log = logging.getLogger("cjm.rest_api")

ID_FIELDS = ("native_id", "reply_to")


# --- which request series -----------------------------------------------------------------


def uses_query(src: RestApiSource) -> bool:
    return QUERY in src.url or any(isinstance(v, str) and QUERY in v for v in src.params.values())


def queries_for(src: RestApiSource, brands: list[Brand]) -> list[str]:
    """The queries one run asks; [""] for an API that is not searched by query."""
    if not uses_query(src):
        return [""]
    if src.queries:
        unique = list(dict.fromkeys(q.strip() for q in src.queries if q.strip()))
    else:
        unique = brand_queries(brands, src.brand, src.query_join)
    if not unique:
        raise ExtractError(f"source {src.name!r}: `{QUERY}` is used but there is no query to ask")
    return unique


def request_for(src: RestApiSource, query: str) -> tuple[str, dict[str, Any]]:
    """The series' URL (the query URL-encoded in a path) and its query parameters."""
    url = src.url.replace(QUERY, quote(query, safe="")) if query else src.url
    params = {
        k: v.replace(QUERY, query) if isinstance(v, str) and query else v
        for k, v in src.params.items()
    }
    return url, params


# --- the cursor: one bookmark per series ----------------------------------------------------


def parse_cursor(source: str, raw: str | None) -> dict[str, Bookmark]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
        return {q: Bookmark.from_dict(b) for q, b in data["series"].items()}
    except (ValueError, TypeError, KeyError, AttributeError):
        raise bad_cursor(source, raw) from None


def dump_cursor(series: Mapping[str, Bookmark]) -> str:
    return json.dumps(
        {"series": {q: b.as_dict() for q, b in sorted(series.items())}}, sort_keys=True
    )


# --- records → mention drafts ---------------------------------------------------------------


@dataclass
class MentionShaper:
    """Maps one API record (and the replies nested in it) to mention drafts."""

    src: RestApiSource
    brands: list[str]  # the configured brand names
    tz: ZoneInfo = field(init=False)

    def __post_init__(self) -> None:
        self.tz = ZoneInfo(self.src.timezone)

    def drafts(
        self, record: Any, ref: str, query: str
    ) -> Iterator[tuple[dict[str, Any], datetime | None]]:
        """The record's draft, then one per nested reply, each with its bookmark value."""
        draft, when = self.draft(record, ref, query, self.src.columns, self.src.cursor_field)
        yield draft, when
        replies = self.src.replies
        if replies is None or not isinstance(record, Mapping):
            return
        nested = value_at(record, replies.records)
        for j, reply in enumerate(nested if isinstance(nested, list) else [], start=1):
            child, child_when = self.draft(reply, f"{ref} reply {j}", query, replies.columns)
            if child.get("reply_to") is None:
                child["reply_to"] = draft.get("native_id")
            yield child, child_when

    def draft(
        self,
        record: Any,
        ref: str,
        query: str,
        columns: Mapping[str, str],
        cursor_field: str | None = None,
    ) -> tuple[dict[str, Any], datetime | None]:
        bad = non_object_draft(record, ref)
        if bad is not None:
            return bad, None
        errors: list[str] = []
        draft: dict[str, Any] = {ROW_COLUMN: ref}
        for fld, spec in columns.items():
            value = value_at(record, spec)
            draft[fld] = None if value is MISSING else value
        for fld, value in self.src.constants.items():
            draft[fld] = value
        attributes: dict[str, Any] = {}
        for name, spec in self.src.attributes.items():
            value = value_at(record, spec)
            if value is not MISSING and value not in (None, ""):
                attributes[name] = value
        if query:
            attributes["query"] = query
        draft["attributes"] = attributes
        for fld in ID_FIELDS:
            draft[fld] = as_id(draft.get(fld))
        if self.src.html:
            for fld in ("text", "title"):
                if isinstance(draft.get(fld), str):
                    draft[fld] = html_to_text(draft[fld])
        for fld in REST_API_REQUIRED:
            if fld != "published_at" and draft.get(fld) in (None, ""):
                errors.append(f"{fld}: missing (columns.{fld} = {columns.get(fld)!r})")
        published, err = parse_when(draft.get("published_at"), self.src.timestamp_format, self.tz)
        draft["published_at"] = published
        if err:
            errors.append(f"published_at: {err} (columns.published_at = "
                          f"{columns.get('published_at')!r})")  # fmt: skip
        if draft.get("brand") is not None:
            draft["brand"] = canonical_brand(self.brands, draft["brand"])
        draft[ERRORS_COLUMN] = errors
        when = bookmark_time(
            record, cursor_field, self.src.timestamp_format, self.tz, published, value_at
        )
        return draft, when


# --- the extractor ------------------------------------------------------------------------


def extract(ctx: ExtractContext) -> Extracted:
    src = ctx.source
    assert isinstance(src, RestApiSource)
    queries = queries_for(src, list(ctx.config.brands))
    start = parse_cursor(src.name, ctx.cursor)  # what earlier runs read, per series
    after = {q: b.copy() for q, b in start.items()}  # moves as this run reads
    shaper = MentionShaper(src, [b.name for b in ctx.config.brands])
    paginator = make_paginator(src.pagination)
    stats = {"pages": 0, "already_read": 0, "repeated": 0}
    notes: list[str] = []

    def drafts() -> Iterator[dict[str, Any]]:
        taken: set[str] = set()  # native ids this run, across series
        # The client (and so the token) first: a missing token fails before any request.
        with client_for(src, headers={"Accept": "application/json"}) as client:
            for query in queries:
                begin = start.get(query, Bookmark())
                mark = after.setdefault(query, Bookmark())
                url, params = request_for(src, query)
                if src.since_param and begin.since is not None:
                    params[src.since_param] = format_since(begin.since, src.since_format)
                first = paginator.first(url, params)
                label = f"{src.name} [{query}]" if query else src.name
                for page in read_pages(
                    client,
                    src.name,
                    first,
                    paginator,
                    src.records,
                    src.pagination,
                    notes,
                    src.body_errors,
                ):
                    stats["pages"] += 1
                    fresh = 0
                    for i, record in enumerate(page.records, start=1):
                        ref = f"{label} page {page.number} record {i}"
                        for draft, when in shaper.drafts(record, ref, query):
                            native_id = draft.get("native_id")
                            if begin.covers(when, native_id):
                                stats["already_read"] += 1
                                continue
                            fresh += 1
                            mark.advance(when, native_id)
                            if isinstance(native_id, str):
                                if native_id in taken:
                                    stats["repeated"] += 1
                                    continue
                                taken.add(native_id)
                            yield draft
                    if src.newest_first and begin.since is not None and page.records and not fresh:
                        notes.append(
                            f"{label}: stopped at page {page.number}: nothing newer than the cursor"
                        )
                        break
        log.info("%s: %d page(s), %d already read", src.name, stats["pages"], stats["already_read"])

    out = finish_mentions(drafts(), ctx)
    out.table  # noqa: B018 (pages are read as it is gathered; the bookmarks follow them)
    changed = any(
        after[q].since != (start[q].since if q in start else None)
        or after[q].ids != (start[q].ids if q in start else set())
        for q in after
    )
    out.cursor = dump_cursor(after) if changed else ctx.cursor
    out.notes.extend(notes)
    out.notes.append(
        f"{len(queries)} request series, {stats['pages']} page(s), {out.rows_seen} new "
        f"record(s), {stats['already_read']} already read, {stats['repeated']} found twice"
    )
    return out
