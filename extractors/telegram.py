"""Public Telegram channels, read from the web preview (``https://t.me/s/<channel>``).

Through snscrape's ``TelegramChannelScraper``, subclassed because upstream
hard-codes ``https://t.me``: ``base_url`` points it at a mirror, the demo server
or a test server, while message links stay the canonical ``t.me`` ones the page
itself gives.

The preview shows the newest ~20 messages and a "before" link to older ones.
A run reads pages back until it reaches the stored cursor (the highest message
id loaded so far) or ``max_pages``; the new cursor is the highest id read. The
page bound caps a first run's backfill; if it stops a later run short of the
cursor, the gap is reported in the run's notes (raise ``max_pages``).

A t.me layout change must not look like a quiet channel: a page that parses but
holds no messages where messages are expected, or one the parser trips on, is an
``ExtractError`` naming the channel and the URL.

Three fixes over snscrape's parsing, all on the page before snscrape sees it:
``<br>`` becomes a newline (snscrape's ``.text`` glued lines together, so
"Финли⏎https://…" lost its word boundary and the brand match); the quoted text
of a reply no longer passes for the message's own text (snscrape takes the first
``tgme_widget_message_text`` in the bubble, which is the quote); service
messages ("Channel created") are set aside, as they have no date link.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin

from cjm.core.config import TelegramSource
from cjm.core.contracts import ERRORS_COLUMN, ROW_COLUMN
from cjm.extractors.base import ExtractContext, Extracted, ExtractError
from cjm.extractors.records import finish_mentions, utc
from cjm.extractors.scraping import fetch_through, import_snscrape, scraper_client

log = logging.getLogger(__name__)

MESSAGE_SELECTOR = "div.tgme_widget_message[data-post]"
_COUNT = re.compile(r"^\s*([\d.,]+)\s*([KMB]?)\s*$", re.IGNORECASE)
# Media flags by the class t.me gives the block (any of the listed classes sets the flag).
_MEDIA = {
    "has_photo": ("tgme_widget_message_photo_wrap",),
    "has_video": ("tgme_widget_message_video_player", "tgme_widget_message_roundvideo_player"),
    "has_document": ("tgme_widget_message_document_wrap",),
    "has_audio": ("tgme_widget_message_voice_player", "tgme_widget_message_audio_player"),
    "has_poll": ("tgme_widget_message_poll",),
    "has_sticker": ("tgme_widget_message_sticker_wrap",),
    "media_not_supported": ("message_media_not_supported",),
}


class LayoutChanged(Exception):
    """The page did not look like a t.me/s page; the message says what was missing."""


class NoPublicPreview(Exception):
    """t.me redirected away from /s/: private, renamed or non-existent channel."""


def parse_count(text: str | None) -> int | None:
    """'1.2K' → 1200, '15M' → 15000000, '987' → 987: how the preview prints views."""
    if not text:
        return None
    m = _COUNT.match(text)
    if not m:
        return None
    number = float(m.group(1).replace(",", "."))
    scale = {"": 1, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}[m.group(2).upper()]
    return round(number * scale)


@dataclass
class Message:
    """One channel message: snscrape's TelegramPost plus what snscrape does not keep."""

    id: int
    post_ref: str  # data-post: "<canonical channel>/<id>"
    post: Any  # snscrape.modules.telegram.TelegramPost
    page_url: str
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def channel(self) -> str:
        return self.post_ref.rsplit("/", 1)[0]

    @property
    def link(self) -> str:
        """The message's public link (snscrape returns the /s/ variant)."""
        return self.post.url.replace("/s/", "/", 1)


def _by_class(div: Any) -> dict[str, Any]:
    """class name → first element with it, in one walk over the message's elements.

    Twelve CSS selector look-ups per message cost more than fetching the page did
    (soupsieve re-walks the tree for each); one walk and dict look-ups do not.
    """
    index: dict[str, Any] = {}
    for el in div.find_all(True):
        for cls in el.get("class") or ():
            index.setdefault(cls, el)
    return index


def _extras(div: Any, page_url: str) -> dict[str, Any]:
    """Views, forwards, replies, media flags: what analysts filter and weigh by."""
    el = _by_class(div)
    out: dict[str, Any] = {}
    if (views := el.get("tgme_widget_message_views")) is not None:
        out["views"] = parse_count(views.get_text())
    if (fwd := el.get("tgme_widget_message_forwarded_from")) is not None:
        name = el.get("tgme_widget_message_forwarded_from_name")
        out["forwarded_from"] = (name or fwd).get_text(" ", strip=True)
        if name is not None and name.name == "a" and name.get("href"):
            out["forwarded_from_url"] = urljoin(page_url, name["href"])
    reply = el.get("tgme_widget_message_reply")
    if reply is not None and reply.get("href"):
        out["reply_to"] = urljoin(page_url, reply["href"])
    if (sig := el.get("tgme_widget_message_from_author")) is not None:
        out["signed_by"] = sig.get_text(strip=True)
    meta = el.get("tgme_widget_message_meta")
    out["edited"] = bool(meta is not None and "edited" in meta.get_text())
    for flag, classes in _MEDIA.items():
        out[flag] = any(c in el for c in classes)
    return out


def _prepare(soup: Any) -> None:
    """Undo the page quirks snscrape's parser gets wrong (see the module docstring)."""
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for quoted in soup.select("a.tgme_widget_message_reply .tgme_widget_message_text"):
        quoted["class"] = [c for c in quoted.get("class", []) if c != "tgme_widget_message_text"]
        quoted["class"].append("cjm_reply_text")


@lru_cache(maxsize=1)
def scraper_class() -> type:
    """The subclass is built on first use so importing this module never imports snscrape."""
    telegram = import_snscrape("telegram")
    import bs4

    class ConfigurableTelegramScraper(telegram.TelegramChannelScraper):  # type: ignore[name-defined,misc]
        """TelegramChannelScraper with a base URL, a page bound and layout checks."""

        def __init__(self, channel: str, *, base_url: str = "https://t.me", **kwargs: Any):
            super().__init__(channel, **kwargs)
            self.base_url = base_url.rstrip("/")
            self.pages_read = 0
            self.more_after_last_page = False

        @property
        def first_page_url(self) -> str:
            return f"{self.base_url}/s/{self._name}"

        def fetch(self, url: str) -> tuple[str, Any]:
            r = self._get(url, headers=self._headers)
            if "/s/" not in r.url:
                raise NoPublicPreview(r.url)
            soup = bs4.BeautifulSoup(r.text, "lxml")
            _prepare(soup)
            return r.url, soup

        def pages(self, max_pages: int) -> Iterator[tuple[str, Any]]:
            """The newest page, then older ones through the "before" links."""
            url = self.first_page_url
            while True:
                page_url, soup = self.fetch(url)
                self.pages_read += 1
                more = soup.find("a", attrs={"class": "tme_messages_more", "data-before": True})
                self.more_after_last_page = more is not None
                yield page_url, soup
                if more is None or self.pages_read >= max_pages:
                    return
                url = urljoin(page_url, more["href"])

        def messages(self, page_url: str, soup: Any) -> list[Message]:
            """The page's messages, newest first (snscrape's order)."""
            divs = soup.find_all("div", attrs={"class": "tgme_widget_message", "data-post": True})
            if not divs:
                raise LayoutChanged(f"no {MESSAGE_SELECTOR} on the page")
            for div in divs:
                if "service_message" in div.get("class", []):
                    div.decompose()  # no date link; snscrape would trip over it
            divs = [d for d in divs if not d.decomposed]
            posts = list(self._soup_to_items(soup, page_url))
            if len(posts) != len(divs):
                raise LayoutChanged(f"{len(divs)} message blocks but {len(posts)} parsed")
            out = []
            for div, post in zip(reversed(divs), posts, strict=True):
                ref = div["data-post"]
                try:
                    mid = int(ref.rsplit("/", 1)[1])
                except (IndexError, ValueError):
                    raise LayoutChanged(f"data-post {ref!r} is not <channel>/<id>") from None
                extras = _extras(div, page_url)
                if post.linkPreview is not None:
                    extras["link_preview"] = post.linkPreview.href
                search = page_url.split("?", 1)[0] + "?q="
                extras["links"] = [u for u in post.outlinks if not u.startswith(search)]
                out.append(Message(mid, ref, post, page_url, extras))
            return out

    return ConfigurableTelegramScraper


def parse_cursor(cursor: str | None, src: TelegramSource) -> int | None:
    if not cursor:
        return None
    try:
        return int(cursor)
    except ValueError:
        raise ExtractError(
            f"source {src.name!r}: stored cursor {cursor!r} is not a Telegram message id"
        ) from None


def read_channel(src: TelegramSource, since_id: int | None) -> tuple[list[Message], list[str]]:
    """Messages newer than ``since_id``, newest first, and notes for the run report."""
    if "${" in src.base_url:
        raise ExtractError(
            f"telegram channel {src.channel!r}: base_url {src.base_url!r} holds an environment "
            "variable that is not set"
        )
    scraper = scraper_class()(src.channel, base_url=src.base_url)
    fetch_through(scraper, scraper_client(src.name, src.retries, src.timeout_s))
    where = scraper.first_page_url
    found: list[Message] = []
    reached_cursor = False
    try:
        for page_url, soup in scraper.pages(src.max_pages):
            where = page_url
            for msg in scraper.messages(page_url, soup):
                if since_id is not None and msg.id <= since_id:
                    reached_cursor = True
                    break
                found.append(msg)
            if reached_cursor:
                break
    except NoPublicPreview as exc:
        raise ExtractError(
            f"telegram channel {src.channel!r}: {where} redirected to {exc}: the channel has "
            "no public web preview (private, renamed or deleted?)"
        ) from None
    except LayoutChanged as exc:
        raise ExtractError(
            f"telegram channel {src.channel!r}: {where} parsed but {exc}; t.me's page "
            "layout may have changed (no messages where messages are expected)"
        ) from None
    except ExtractError as exc:  # the HTTP client's one line: URL, status, tries
        raise ExtractError(f"telegram channel {src.channel!r}: {exc}") from None
    except Exception as exc:
        raise ExtractError(
            f"telegram channel {src.channel!r}: {where}: the page did not parse "
            f"({type(exc).__name__}: {exc}); t.me's page layout may have changed"
        ) from None
    notes = [f"{len(found)} new message(s) in {scraper.pages_read} page(s) of {src.channel}"]
    if since_id is not None and not reached_cursor and scraper.more_after_last_page:
        oldest = found[-1].id if found else None
        notes.append(
            f"WARNING: stopped after max_pages={src.max_pages} before the stored cursor "
            f"{since_id}: messages between ids {since_id} and {oldest} were not read; "
            "raise max_pages to read them on a run with a cleared cursor"
        )
        log.warning("%s: %s", src.name, notes[-1])
    return found, notes


def _draft(msg: Message) -> dict[str, Any]:
    return {
        "native_id": msg.post_ref,
        "url": msg.link,
        "author": msg.channel,
        "text": msg.post.content,
        "published_at": utc(msg.post.date),
        "channel": "telegram",
        "attributes": msg.attributes,
        ROW_COLUMN: f"{msg.page_url} message {msg.id}",
        ERRORS_COLUMN: [],
    }


def extract(ctx: ExtractContext) -> Extracted:
    src = ctx.source
    assert isinstance(src, TelegramSource)
    since_id = parse_cursor(ctx.cursor, src)
    messages, notes = read_channel(src, since_id)
    top = max((m.id for m in messages), default=None)
    cursor = str(max(top, since_id or 0)) if top is not None else ctx.cursor
    out = finish_mentions((_draft(m) for m in messages), ctx, cursor=cursor)
    out.table  # noqa: B018 (small volumes: shaped here, written as batches by the load step)
    out.notes.extend(notes)
    return out
