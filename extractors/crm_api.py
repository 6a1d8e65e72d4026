"""A CRM's REST API (type ``crm_api``) as CRM events, read incrementally.

The source is a declaration in the config (URL, where the records sit, how the
API pages, which field is the bookmark, how fields map to the contract); this
module is the *how*: the shared HTTP client (auth, retries, timeouts), one small
paginator class per paging style, and the incremental cursor.

The paging, the cursor and the page loop are shared with the ``rest_api`` mention
source (cjm/extractors/rest.py); the cursor is ``{"since": <max bookmark seen, ISO
UTC>, "ids": [native ids at exactly that instant]}``, so a re-run with the returned
cursor extracts nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cjm.core.config import CrmApiSource
from cjm.core.contracts import ERRORS_COLUMN, ROW_COLUMN
from cjm.core.http import client_for
from cjm.extractors.base import ExtractContext, Extracted, ExtractError
from cjm.extractors.records import (
    as_id,
    canonical_brand,
    finish_crm_events,
    parse_amount,
    with_mapped_attributes,
)
from cjm.extractors.rest import (
    MISSING,
    Bookmark,
    bookmark_time,
    format_since,
    json_path,
    make_paginator,
    non_object_draft,
    parse_when,
    read_pages,
)

log = logging.getLogger("cjm.crm_api")

REQUIRED = ("native_id", "customer_key", "event_type", "occurred_at")


# --- records → drafts ---------------------------------------------------------------------


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
        bad = non_object_draft(record, ref)
        if bad is not None:
            return bad, None
        errors: list[str] = []
        draft: dict[str, Any] = {ROW_COLUMN: ref}
        for fld, path in self.src.columns.items():
            value = json_path(record, path)
            draft[fld] = None if value is MISSING else value
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
        when = bookmark_time(
            record, self.src.cursor_field, self.src.timestamp_format, self.tz, occurred
        )
        return draft, when


# --- the extractor ------------------------------------------------------------------------


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
        with client_for(src, headers={"Accept": "application/json"}) as client:
            first = paginator.first(src.url, params)
            for page in read_pages(
                client, src.name, first, paginator, src.records, src.pagination, notes
            ):
                stats["pages"] += 1
                fresh = 0
                for i, record in enumerate(page.records, start=1):
                    draft, when = shaper.draft(record, f"{src.name} page {page.number} record {i}")
                    if start.covers(when, draft.get("native_id")):
                        stats["already_read"] += 1
                        continue
                    fresh += 1
                    bookmark.advance(when, draft.get("native_id"))
                    yield draft
                if src.newest_first and start_since is not None and page.records and not fresh:
                    notes.append(f"stopped at page {page.number}: nothing newer than the cursor")
                    break
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
