"""Other snscrape scrapers that still work upstream: Mastodon profiles/toots, VK walls.

snscrape's Twitter, Reddit, Facebook and Instagram scrapers are dead upstream (the
sites closed the endpoints they read); `cjm.config.SnscrapeSource` refuses them at
`check-config` time and this module refuses them again at run time, so a stale
config fails loudly instead of loading nothing, forever.

What each working scraper reads:

- ``mastodon-profile``: the public profile page (``target``: ``@user@instance`` or the
  profile URL; a URL lets tests and mirrors point it anywhere). snscrape parses
  Mastodon's server-rendered HTML (``div.activity-stream``), which Mastodon 4.0+
  replaced with a JavaScript app: a page without that markup is reported as a
  layout change, never as "no toots".
- ``mastodon-toot``: one toot page (``target``: its URL).
- ``vkontakte-user``: a public VK wall (``target``: the short name). snscrape
  hard-codes https://vk.com; the subclass here reads from ``base_url`` while keeping
  the canonical vk.com post URLs.

There is no cursor walk-back as for Telegram: these scrapers page newest first,
so a run stops after ``max_items`` items or at the first item not newer than the
cursor (the newest item's timestamp, ISO-8601).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from cjm.core.config import SnscrapeSource
from cjm.core.contracts import ERRORS_COLUMN, ROW_COLUMN
from cjm.extractors.base import ExtractContext, Extracted, ExtractError
from cjm.extractors.records import finish_mentions, utc
from cjm.extractors.scraping import fetch_through, import_snscrape, scraper_client

_MAX_PINNED = 5


@lru_cache(maxsize=1)
def _vk_scraper_class() -> type:
    vk = import_snscrape("vkontakte")

    class ConfigurableVKontakteUserScraper(vk.VKontakteUserScraper):  # type: ignore[name-defined,misc]
        """VKontakteUserScraper reading from ``base_url``; post URLs stay canonical vk.com."""

        def __init__(self, username: str, *, base_url: str, **kwargs: Any):
            super().__init__(username, **kwargs)
            self._fetch_base = base_url.rstrip("/")

        def _initial_page(self):  # type: ignore[no-untyped-def]
            if self._initialPage is None:
                import bs4

                r = self._get(f"{self._fetch_base}/{self._username}", headers=self._headers)
                if r.status_code not in (200, 404):
                    raise vk.snscrape.base.ScraperException(f"Got status code {r.status_code}")
                self._initialPage = r
                self._initialPageSoup = bs4.BeautifulSoup(
                    r.content, "lxml", from_encoding=r.encoding
                )
            return self._initialPage, self._initialPageSoup

        def _get_wall_offset(self, fixedPostID, ownerID, offset):  # type: ignore[no-untyped-def]
            headers = {**self._headers, "X-Requested-With": "XMLHttpRequest"}
            r = self._post(
                f"{self._fetch_base}/al_wall.php",
                data=[
                    ("act", "get_wall"),
                    ("al", 1),
                    ("fixed", fixedPostID),
                    ("offset", offset),
                    ("onlyCache", "false"),
                    ("owner_id", ownerID),
                    ("type", "own"),
                    ("wall_start_from", offset),
                ],
                headers=headers,
            )
            if r.status_code != 200:
                raise vk.snscrape.base.ScraperException(f"Got status code {r.status_code}")
            return r.json()["payload"][1][0]

    return ConfigurableVKontakteUserScraper


def _scraper(src: SnscrapeSource) -> Any:
    if src.scraper == "mastodon-profile":
        mod = import_snscrape("mastodon")
        return mod.MastodonProfileScraper(src.target, retries=src.retries)
    if src.scraper == "mastodon-toot":
        mod = import_snscrape("mastodon")
        return mod.MastodonTootScraper(src.target, retries=src.retries)
    if src.scraper == "vkontakte-user":
        return _vk_scraper_class()(src.target, base_url=src.base_url, retries=src.retries)
    # Configs are validated on load; this guards configs built in code.
    raise ExtractError(
        f"source {src.name!r}: scraper {src.scraper!r} is not supported "
        f"(working: {', '.join(sorted(SnscrapeSource.WORKING))})"
    )


def _as_utc(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, date):  # VK shows only a date for old posts
        return utc(datetime(value.year, value.month, value.day))
    return None


def _draft(item: Any, src: SnscrapeSource) -> dict[str, Any]:
    """One Toot, Boost or VKontaktePost as a mention draft."""
    channel = src.channel or SnscrapeSource.WORKING[src.scraper]
    attributes: dict[str, Any] = {"scraper": src.scraper}
    boosted_by = None
    if type(item).__name__ == "Boost":
        boosted_by = item.user.account
        item = item.toot
    if type(item).__name__ == "Toot":
        native_id = item.url
        author = item.user.account
        text = item.text
        if item.spoilerText:
            attributes["content_warning"] = item.text
            text = item.spoilerText
        attributes.update(
            links=item.links or [],
            hashtags=item.hashtags or [],
            has_media=bool(item.attachments),
            has_poll=item.poll is not None,
        )
        if boosted_by:
            attributes["boosted_by"] = boosted_by
    else:  # VKontaktePost
        native_id = item.url.rsplit("/", 1)[-1]  # wall-123_456
        author = src.target
        text = item.content
        attributes.update(
            links=item.outlinks or [],
            has_photo=bool(item.photos),
            has_video=item.video is not None,
            is_repost=item.quotedPost is not None,
        )
        if item.quotedPost is not None:
            attributes["reposted_url"] = item.quotedPost.url
            if not text:
                text = item.quotedPost.content
    published = _as_utc(item.date)
    return {
        "native_id": native_id,
        "url": item.url,
        "author": author,
        "text": text,
        "published_at": published,
        "channel": channel,
        "attributes": attributes,
        ROW_COLUMN: item.url,
        ERRORS_COLUMN: [] if published else ["published_at: the page shows no date"],
    }


def extract(ctx: ExtractContext) -> Extracted:
    src = ctx.source
    assert isinstance(src, SnscrapeSource)
    if src.scraper not in SnscrapeSource.WORKING:
        raise ExtractError(f"source {src.name!r}: scraper {src.scraper!r} is not supported")
    if "${" in src.base_url or "${" in src.target:
        raise ExtractError(
            f"source {src.name!r}: an environment variable in base_url/target is not set "
            f"({src.base_url} {src.target})"
        )
    since = datetime.fromisoformat(ctx.cursor) if ctx.cursor else None
    scraper = _scraper(src)
    # VK answers 404 for a missing wall, which snscrape turns into "no items"
    fetch_through(scraper, scraper_client(src.name, src.retries, src.timeout_s), frozenset({404}))
    drafts: list[dict[str, Any]] = []
    newest = since
    items: Iterator[Any] = scraper.get_items()
    old_in_a_row = 0
    try:
        for item in items:
            d = _draft(item, src)
            ts = d["published_at"]
            if since is not None and ts is not None and ts <= since:
                # Newest first, except pinned posts on top (Mastodon pins at most 5, VK 1):
                # only a run of old items means everything further down was loaded before.
                old_in_a_row += 1
                if old_in_a_row > _MAX_PINNED:
                    break
                continue
            old_in_a_row = 0
            drafts.append(d)
            if ts is not None and (newest is None or ts > newest):
                newest = ts
            if len(drafts) >= src.max_items:
                break
    except ExtractError:
        raise
    except Exception as exc:
        kind = type(exc).__name__
        if kind == "ScraperException":
            why = str(exc)
        else:
            why = (
                f"the page did not parse ({kind}: {exc}); the site's layout may have changed "
                "or it no longer serves the server-rendered pages snscrape reads"
            )
        raise ExtractError(f"source {src.name!r} ({src.scraper} {src.target}): {why}") from None
    if not drafts and since is None:
        # A first run that finds nothing is a missing account, a private wall or a page
        # snscrape skipped with only a log line; an empty success would hide it.
        raise ExtractError(
            f"source {src.name!r} ({src.scraper} {src.target}): no items found; check that "
            "the account or page exists and is public"
        )
    cursor = newest.isoformat() if newest else ctx.cursor
    out = finish_mentions(drafts, ctx, cursor=cursor)
    out.table  # noqa: B018 (small volumes: shaped here, written as batches by the load step)
    out.notes.append(f"{len(drafts)} new item(s) from {src.scraper} {src.target}")
    return out
