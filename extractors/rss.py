"""Media and search feeds (type ``rss``): RSS 0.9x / 1.0 (RDF) / 2.0 and Atom as mentions.

Fetching goes through the shared HTTP client (retries, timeouts, User-Agent);
feedparser only parses the bytes, so a flaky feed is retried like any other
source. Feeds are re-read whole on every run, which makes two things matter:

- *conditional GET*: the ETag / Last-Modified of each feed live in the cursor, so
  an unchanged feed costs one ``304`` and yields an empty batch;
- *entry ids already seen*: a changed feed still repeats most of its entries, so
  the cursor keeps (hashes of) the ids read before, newest first, bounded by
  ``seen_max``. Entries older than the oldest remembered one are taken as read,
  so the bound never brings old entries back.

Keyword-search feeds (``url`` with ``{query}``) are fetched once per brand
keyword, URL-encoded: search engines disagree on OR syntax, and one request per
keyword always means what it says. ``query_join: " OR "`` fetches one URL per
brand instead, for engines that support it. Exclusions are not sent: the brand
matcher applies them to what comes back.

Real feeds are often broken. feedparser's "bozo" flag (malformed XML, a wrong
declared encoding) is logged with its exception and the entries that could be
read are still taken; a body that yields no feed at all is an ExtractError. An
entry whose date cannot be read falls back to its updated date, else goes on
with ``_errors`` so validation quarantines it (nothing is silently dropped).

A document that is not well-formed XML (a body cut inside an item, a stray ``&``)
may have lost part of any entry it carried: those entries are taken but not
remembered as read, and the feed's validators are not kept, so the next run fetches
them again and a well-formed copy replaces the stored text (the loader upserts on
the id). The batch says so in ``Extracted.degraded``. feedparser's harmless kinds of
bozo (a declared encoding overridden by the HTTP one, a text/plain content type)
lose nothing and do not count.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import feedparser
from feedparser.exceptions import ThingsNobodyCaresAboutButMe

from cjm.core.config import Brand, RssSource
from cjm.core.contracts import ERRORS_COLUMN, ROW_COLUMN
from cjm.core.http import Conditional, HttpClient, client_for, safe_url
from cjm.extractors.base import ExtractContext, Extracted, ExtractError
from cjm.extractors.html_text import html_to_text
from cjm.extractors.records import QUERY, brand_queries, finish_mentions

log = logging.getLogger("cjm.rss")

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)


# --- which URLs ---------------------------------------------------------------------------


def feed_urls(src: RssSource, brands: list[Brand]) -> list[tuple[str, str]]:
    """(query, url) pairs to fetch; the query is "" for a plain feed."""
    if QUERY not in src.url:
        return [("", src.url)]
    queries = brand_queries(brands, src.brand, src.query_join)
    return [(q, src.url.replace(QUERY, quote(q, safe=""))) for q in queries]


# --- the cursor ---------------------------------------------------------------------------


def _entry_key(native_id: str) -> str:
    return hashlib.sha256(native_id.encode()).hexdigest()[:16]


@dataclass
class FeedCursor:
    """Validators per feed URL and the entry ids already read (hashed, newest first)."""

    feeds: dict[str, dict[str, str]] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)  # id hash → published (epoch s)
    floor: int | None = None  # entries published before it count as read

    @classmethod
    def parse(cls, source: str, raw: str | None) -> FeedCursor:
        if not raw:
            return cls()
        try:
            data = json.loads(raw)
            return cls(
                feeds=dict(data.get("feeds") or {}),
                seen={k: int(v) for k, v in data.get("seen") or []},
                floor=data.get("floor"),
            )
        except (ValueError, TypeError, AttributeError):
            raise ExtractError(
                f"source {source!r}: the stored cursor {raw[:80]!r} is not an rss cursor; "
                "reset it in ops.source_state to re-read the feed"
            ) from None

    def is_read(self, key: str, published: int | None) -> bool:
        if key in self.seen:
            return True
        return published is not None and self.floor is not None and published < self.floor

    def dump(self, seen_max: int) -> str:
        newest = sorted(self.seen.items(), key=lambda kv: (-kv[1], kv[0]))
        floor = self.floor
        if len(newest) > seen_max:
            newest = newest[:seen_max]
            floor = max(floor or 0, newest[-1][1])
        return json.dumps(
            {"feeds": self.feeds, "floor": floor, "seen": [list(kv) for kv in newest]},
            sort_keys=True,
            separators=(",", ":"),
        )


# --- entries → drafts ---------------------------------------------------------------------


def _when(parsed: Any) -> datetime | None:
    """feedparser's time tuples are UTC; out-of-range ones are treated as unreadable."""
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def _entry_text(entry: Any) -> str | None:
    """The fullest body the entry has: content (content:encoded, Atom content), else summary."""
    contents = entry.get("content") or []
    html = "\n".join(c.get("value", "") for c in contents if c.get("value"))
    return html_to_text(html) or html_to_text(entry.get("summary"))


_EMAIL_AND_NAME = re.compile(r"^\s*\S+@\S+\s*\((?P<name>[^)]+)\)\s*$")
_EMAIL = re.compile(r"^\s*\S+@\S+\s*$")


def _author(entry: Any, feed: Any) -> str | None:
    """The entry's author name, else the feed's title (the outlet).

    RSS 2.0 writes ``<author>news@x.example (Name)</author>``: keep the name, not the
    address. Parsed here because feedparser's ``author_detail`` splits such values
    wrongly for long top-level domains (``ple (Name`` for ``.example``).
    """
    author = (entry.get("author") or "").strip()
    m = _EMAIL_AND_NAME.match(author)
    if m:
        return m.group("name").strip()
    if author and not _EMAIL.match(author):
        return author
    return feed.get("title")


def entry_draft(
    entry: Any, feed: Any, ref: str, query: str
) -> tuple[dict[str, Any] | None, int | None]:
    """A mention draft and its published epoch; (None, None) for an empty entry.

    An entry with no id, link, title or text is what a truncated body leaves at its
    end: nothing to keep or to quarantine.
    """
    title = html_to_text(entry.get("title"))
    text = _entry_text(entry)
    link = entry.get("link")
    native_id = entry.get("id") or link
    if not (native_id or title or text):
        return None, None
    errors: list[str] = []
    attributes: dict[str, Any] = {}
    if not native_id:  # neither guid/id nor link: a content hash is the last resort
        basis = "\x1f".join(str(x) for x in (title, text, dict.get(entry, "published")))
        native_id = "sha256:" + hashlib.sha256(basis.encode()).hexdigest()[:32]
        attributes["id_source"] = "content hash (no guid/id or link)"
    # dict.get, not entry.get: FeedParserDict silently maps `updated*` to `published*`
    # (with a DeprecationWarning); the fallback here is explicit instead.
    raw_published = dict.get(entry, "published")
    published = _when(dict.get(entry, "published_parsed"))
    if published is None:
        published = _when(dict.get(entry, "updated_parsed"))
        raw_date = raw_published or dict.get(entry, "updated")
        if published is not None:
            attributes["date_source"] = "updated"
            if raw_published:
                attributes["published_raw"] = raw_published
        elif raw_date:
            errors.append(f"published_at: {raw_date!r} is not a date the feed parser can read")
    if feed.get("title"):
        attributes["feed"] = feed.get("title")
    tags = [t.get("term") for t in entry.get("tags") or [] if t.get("term")]
    if tags:
        attributes["tags"] = tags
    if query:
        attributes["query"] = query
    draft = {
        ROW_COLUMN: ref,
        ERRORS_COLUMN: errors,
        "native_id": native_id,
        "url": link,
        "author": _author(entry, feed),
        "title": title,
        # Headline-only feeds (many search feeds) still carry a mention in the title.
        "text": text or title,
        "published_at": published,
        "language": entry.get("language") or feed.get("language"),
        "attributes": attributes,
    }
    return draft, calendar.timegm(published.utctimetuple()) if published else None


# --- fetching and parsing -----------------------------------------------------------------


def parse_feed(source: str, shown_url: str, body: bytes, headers: dict[str, str]) -> Any:
    """feedparser over bytes we fetched (never a URL: feedparser must not do its own I/O)."""
    # No sanitising or URI rewriting inside HTML bodies: html_to_text keeps only their
    # text (scripts and styles dropped), and skipping both makes parsing ~35 % faster.
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    entries = parsed.get("entries") or []
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        if not parsed.get("version") and not entries:
            start = " ".join(body[:120].decode("utf-8", "replace").split()) or "(empty body)"
            raise ExtractError(
                f"source {source!r}: GET {shown_url}: not an RSS or Atom feed "
                f"({type(exc).__name__}: {exc}); the body starts: {start}"
            )
        log.warning(
            "%s: %s is not a well-formed feed (%s: %s); reading the %d entries that parse",
            source,
            shown_url,
            type(exc).__name__,
            exc,
            len(entries),
        )
    elif not parsed.get("version") and not entries:
        raise ExtractError(f"source {source!r}: GET {shown_url}: not an RSS or Atom feed")
    return parsed


def damage(parsed: Any) -> str | None:
    """Why entries of this parse may be incomplete (None when the document was whole)."""
    exc = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if exc is None or isinstance(exc, ThingsNobodyCaresAboutButMe):
        return None
    return f"not well-formed ({type(exc).__name__}: {exc})"


def _fetch(
    client: HttpClient, src: RssSource, query: str, url: str, stored: dict[str, str]
) -> tuple[Any | None, Conditional, str]:
    """(parsed feed or None for 304, the validators to store, a note)."""
    conditional = Conditional(stored.get("etag"), stored.get("last_modified"))
    response = client.get(url, conditional=conditional, headers={"Accept": ACCEPT})
    shown = safe_url(url)
    if response.status_code == 304:
        return None, conditional, f"{shown}: not modified"
    headers = {k.lower(): v for k, v in response.headers.items()}
    headers.setdefault("content-location", response.url)  # resolves relative links
    parsed = parse_feed(src.name, shown, response.content, headers)
    note = f"{shown}: {len(parsed.entries)} entries ({parsed.get('version') or 'unknown'})"
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        note += f", not well-formed: {type(exc).__name__}: {exc}"
    return parsed, Conditional.from_response(response), note


def extract(ctx: ExtractContext) -> Extracted:
    src = ctx.source
    assert isinstance(src, RssSource)
    before = FeedCursor.parse(src.name, ctx.cursor)
    after = FeedCursor(feeds={}, seen=dict(before.seen), floor=before.floor)
    notes: list[str] = []
    degraded: list[str] = []
    taken: set[str] = set()  # ids yielded this run (several queries may return one story)
    fetched_epoch = int(ctx.fetched_at.timestamp())
    urls = feed_urls(src, list(ctx.config.brands))

    def drafts() -> Iterator[dict[str, Any]]:
        with client_for(src) as client:
            for query, url in urls:
                stored = before.feeds.get(query, {})
                parsed, validators, note = _fetch(client, src, query, url, stored)
                notes.append(note)
                why = damage(parsed) if parsed is not None else None
                if why:
                    n = len(parsed.entries)
                    degraded.append(
                        f"{safe_url(url)}: {why}; its {n} entries are fetched again next run"
                    )
                elif validators.as_dict():  # a 304 must not pin a damaged copy
                    after.feeds[query] = validators.as_dict()
                if parsed is None:
                    continue
                for n, entry in enumerate(parsed.entries, start=1):
                    ref = f"{safe_url(url)}#entry {n}"
                    draft, published = entry_draft(entry, parsed.feed, ref, query)
                    if draft is None:
                        notes.append(f"{ref}: empty entry skipped (truncated body?)")
                        continue
                    key = _entry_key(draft["native_id"])
                    if before.is_read(key, published) or key in taken:
                        continue  # read on an earlier run, or by another query this run
                    taken.add(key)
                    if not why:  # an entry of a damaged document stays unread
                        after.seen[key] = published if published is not None else fetched_epoch
                    yield draft

    out = finish_mentions(drafts(), ctx)
    out.table  # noqa: B018 (a feed is small: read it whole, so `after` is complete)
    cursor = after.dump(src.seen_max)
    unchanged = out.rows_seen == 0 and ctx.cursor and cursor == before.dump(src.seen_max)
    out.cursor = ctx.cursor if unchanged else cursor
    out.notes.extend(notes)
    out.degraded = "; ".join(degraded) or None
    return out
