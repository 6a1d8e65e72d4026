"""The demo's live sources: a local HTTP server in the formats the real sites serve.

`cjm demo` reads the brand Finly through the same extractors production uses
against real sites, so the demo exercises HTTP, paging, retries, auth and the
parsers rather than a file shortcut. Everything is generated on start from the
bundled demo data (``demo/inbox``), deterministically:

- ``/media/rss.xml`` (RSS 2.0) and ``/media/atom.xml`` (Atom 1.0): the 300 media
  articles of ``mentions_media.jsonl`` (guid, title, summary, date with its
  original offset, link, outlet as author), with ETag / If-None-Match;
- ``/s/<channel>[?before=<id>]``: t.me's web preview markup for the Telegram rows
  of the listening export, one channel per chat, 20 messages a page, newest page
  first, "before" links to older pages, exactly as t.me pages; an unknown channel
  redirects to ``/<channel>`` as t.me does for channels without a public preview.
  Message ids are renumbered in time order (the export's ids are not), since an
  incremental reader relies on ids growing;
- ``/crm/api/v1/events``: ``crm_events.parquet`` as a paginated JSON API
  (``{"data": [...], "next_cursor": ...}``), ``updated_since`` filter, ``limit``,
  opaque keyset cursors, and a bearer-token check (401 without it).

- ``/vk/method/newsfeed.search``: VK API 5.199 ``newsfeed.search`` over the VK posts of
  ``social_api.json`` (``q``, ``start_time``, ``count``, ``start_from`` / ``next_from``,
  a service-token check answering VK's ``{"error": {"error_code": 5}}`` in a 200 body);
- ``/mastodon/api/v1/timelines/tag/<tag>``: Mastodon's hashtag timeline over its
  statuses (Status entities with HTML ``content``, ``limit``, ``max_id`` and the
  ``Link: rel="next"`` header), no token, as open instances serve it.
  These two are read by the ``rest_api`` recipes of config/recipes/.

The listening rows of the other platforms stay a file export: ``serve_demo``
writes them to ``<workdir>/mentions_listening_other.csv`` (same columns, same
rows, Telegram rows removed), so no mention is read twice, and copies the market
export (``mentions_market.csv``, cjm/demo/market.py) beside it as it is.

Binds 127.0.0.1 on a free port; ``DemoServer`` is a context manager and
``serve_demo()`` returns ``(base_url, stop)`` for callers that cannot use one.
"""

from __future__ import annotations

import base64
import bisect
import csv
import hashlib
import html
import io
import json
import re
import tempfile
import threading
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from xml.sax.saxutils import escape as xml_escape
from zoneinfo import ZoneInfo

from cjm.core.paths import demo_bundle_dir
from cjm.demo.market import MARKET_FILE
from cjm.demo.social_api import SOCIAL_API_FILE

DEMO_CRM_TOKEN = "demo-crm-token-not-a-secret"
DEMO_VK_TOKEN = "demo-vk-token-not-a-secret"
VK_MAX_COUNT = 200
MASTODON_MAX_LIMIT = 40
TELEGRAM_PAGE_SIZE = 20
CRM_PAGE_SIZE = 200
CRM_MAX_PAGE_SIZE = 1000
LISTENING_OTHER = "mentions_listening_other.csv"
MSK = ZoneInfo("Europe/Moscow")
FEED_TITLE = "Finly в СМИ — демо-агрегатор"

_URL = re.compile(r"https?://[^\s<>\"«»]+[^\s<>\"«».,!?;:)]")
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)")


# --------------------------------------------------------------------------- Telegram


@dataclass(frozen=True)
class TgMessage:
    """One channel message as the web preview shows it."""

    id: int
    date: datetime  # aware
    text: str | None
    views: int = 0
    forwarded_from: tuple[str, str | None] | None = None  # (name, link)
    photo: bool = False
    reply_to: tuple[int, str] | None = None  # (message id, quoted text)
    link_preview: tuple[str, str, str] | None = None  # (url, site name, title)
    edited: bool = False
    service: bool = False  # "Channel created" and the like


@dataclass
class TgChannel:
    username: str
    title: str
    messages: list[TgMessage] = field(default_factory=list)  # ascending ids
    subscribers: int = 0
    description: str = ""


def format_count(n: int) -> str:
    """Views as the preview prints them: 987, 1.2K, 15.3K, 2.1M."""
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}".rstrip("0").rstrip(".") + "K"
    return f"{n / 1_000_000:.1f}".rstrip("0").rstrip(".") + "M"


def _message_html(text: str) -> str:
    """Message text the way t.me renders it: escaped, links and hashtags as <a>, <br/>."""
    out: list[str] = []
    pos = 0
    for m in _URL.finditer(text):
        out.append(_hashtags(html.escape(text[pos : m.start()], quote=False)))
        url = m.group()
        out.append(
            f'<a href="{html.escape(url)}" target="_blank" rel="noopener" '
            f"onclick=\"return confirm('Open this link?\\n\\n'+this.href);\">"
            f"{html.escape(url, quote=False)}</a>"
        )
        pos = m.end()
    out.append(_hashtags(html.escape(text[pos:], quote=False)))
    return "".join(out).replace("\n", "<br/>")


def _hashtags(escaped: str) -> str:
    return _HASHTAG.sub(
        lambda m: f'<a href="?q={quote("#" + m.group(1))}">#{m.group(1)}</a>', escaped
    )


def _message_block(ch: TgChannel, m: TgMessage) -> str:
    link = f"https://t.me/{ch.username}/{m.id}"
    initial = html.escape(ch.title[:1])
    if m.service:
        return (
            '<div class="tgme_widget_message_wrap js-widget_message_wrap">'
            '<div class="tgme_widget_message service_message js-widget_message" '
            f'data-post="{ch.username}/{m.id}"><div class="tgme_widget_message_bubble">'
            '<div class="tgme_widget_message_text js-message_text">'
            f"{html.escape(m.text or '')}</div></div></div></div>"
        )
    parts = [
        '<div class="tgme_widget_message_wrap js-widget_message_wrap">',
        '<div class="tgme_widget_message text_not_supported_wrap js-widget_message" '
        f'data-post="{ch.username}/{m.id}" data-view="{_data_view(ch.username, m.id)}">',
        f'<div class="tgme_widget_message_user"><a href="https://t.me/{ch.username}">'
        f'<i class="tgme_widget_message_user_photo bgcolor{m.id % 7}" data-content="{initial}">'
        "</i></a></div>",
        '<div class="tgme_widget_message_bubble">',
        '<i class="tgme_widget_message_bubble_tail"><svg class="bubble_icon" width="9px" '
        'height="20px" viewBox="0 0 9 20"><g fill="none"><path class="background" '
        'fill="#ffffff" d="M8,1 L9,1 L9,20 L8,20 L8,18 C7.807,15.161 7.124,12.233 5.950,'
        "9.218 C5.046,6.893 3.504,4.733 1.325,2.738 L1.325,2.738 C0.917,2.365 0.89,1.732 "
        '1.263,1.325 C1.452,1.118 1.72,1 2,1 L8,1 Z"></path></g></svg></i>',
        '<div class="tgme_widget_message_author accent_color">'
        f'<a class="tgme_widget_message_owner_name" href="https://t.me/{ch.username}">'
        f'<span dir="auto">{html.escape(ch.title)}</span></a></div>',
    ]
    if m.forwarded_from:
        name, href = m.forwarded_from
        inner = f'<span dir="auto">{html.escape(name)}</span>'
        fwd = (
            f'<a class="tgme_widget_message_forwarded_from_name" href="{html.escape(href)}">'
            f"{inner}</a>"
            if href
            else f'<span class="tgme_widget_message_forwarded_from_name">{inner}</span>'
        )
        parts.append(
            '<div class="tgme_widget_message_forwarded_from accent_color">Forwarded from '
            f"{fwd}</div>"
        )
    if m.reply_to:
        rid, quoted = m.reply_to
        parts.append(
            '<a class="tgme_widget_message_reply" '
            f'href="https://t.me/{ch.username}/{rid}"><div class="tgme_widget_message_author '
            f'accent_color"><span class="tgme_widget_message_author_name">{html.escape(ch.title)}'
            '</span></div><div class="tgme_widget_message_metatext js-message_reply_text" '
            f'dir="auto">{html.escape(quoted)}</div><div class="tgme_widget_message_text '
            f'js-message_reply_text" dir="auto">{html.escape(quoted)}</div></a>'
        )
    if m.photo:
        parts.append(
            f'<a class="tgme_widget_message_photo_wrap {_stable_int(link) % 10**19} blured" '
            f'href="{link}" style="width:800px;background-image:url(\'https://cdn4.telesco.pe/'
            f'file/demo_{m.id}.jpg\')"><div class="tgme_widget_message_photo" '
            'style="padding-top:56.25%"></div></a>'
        )
    if m.text:
        parts.append(
            '<div class="tgme_widget_message_text js-message_text" dir="auto">'
            f"{_message_html(m.text)}</div>"
        )
    if m.link_preview:
        url, site, title = m.link_preview
        parts.append(
            f'<a class="tgme_widget_message_link_preview" href="{html.escape(url)}">'
            f'<div class="link_preview_site_name accent_color" dir="auto">{html.escape(site)}'
            f'</div><div class="link_preview_title" dir="auto">{html.escape(title)}</div></a>'
        )
    when = m.date.astimezone(UTC)
    edited = "edited &nbsp;" if m.edited else ""
    parts.append(
        '<div class="tgme_widget_message_footer compact js-message_footer">'
        '<div class="tgme_widget_message_info short js-message_info">'
        f'<span class="tgme_widget_message_views">{format_count(m.views)}</span>'
        f'<span class="copyonclick" data-copy="{link}"></span>'
        f'<span class="tgme_widget_message_meta">{edited}<a class="tgme_widget_message_date" '
        f'href="{link}"><time datetime="{when.isoformat()}" class="time">'
        f"{when.strftime('%H:%M')}</time></a></span></div></div>"
    )
    parts.append("</div></div></div>")
    return "".join(parts)


def _data_view(username: str, mid: int) -> str:
    raw = json.dumps({"c": -zlib.crc32(username.encode()), "p": mid, "t": 0})
    return base64.b64encode(raw.encode()).decode().rstrip("=")


def render_telegram_page(ch: TgChannel, before: int | None = None) -> str:
    """The t.me/s/<channel> page: the 20 messages before ``before`` (or the newest 20)."""
    older = [m for m in ch.messages if before is None or m.id < before]
    shown = older[-TELEGRAM_PAGE_SIZE:]
    has_older = len(older) > len(shown)
    has_newer = before is not None and any(m.id >= before for m in ch.messages)
    title = html.escape(ch.title)
    user = ch.username
    head_links = ""
    more_top = ""
    more_bottom = ""
    if shown and has_older:
        first = shown[0].id
        head_links += f'<link rel="prev" href="/s/{user}?before={first}">'
        more_top = (
            '<div class="tgme_widget_message_centered js-messages_more_wrap">'
            f'<a href="/s/{user}?before={first}" data-before="{first}" '
            'class="tme_messages_more js-messages_more"></a></div>'
        )
    if shown and has_newer:
        last = shown[-1].id
        head_links += f'<link rel="next" href="/s/{user}?after={last}">'
        more_bottom = (
            '<div class="tgme_widget_message_centered js-messages_more_wrap">'
            f'<a href="/s/{user}?after={last}" data-after="{last}" '
            'class="tme_messages_more js-messages_more"></a></div>'
        )
    messages = "\n".join(_message_block(ch, m) for m in shown)
    description = html.escape(ch.description)
    subs = format_count(ch.subscribers)
    initial = html.escape(ch.title[:1])
    return f"""<!DOCTYPE html>
<html>
  <head>
    <meta charset="utf-8">
    <title>{title} – Telegram</title>
    <meta name="viewport"
      content="width=device-width, initial-scale=1.0, minimum-scale=1.0, maximum-scale=1.0" />
    <meta property="og:title" content="{title}">
    <meta property="og:image" content="https://cdn4.telesco.pe/file/{user}.jpg">
    <meta property="og:site_name" content="Telegram">
    <meta property="og:description" content="{description}">
    <meta property="twitter:title" content="{title}">
    <meta name="robots" content="noindex, nofollow">
    <link rel="canonical" href="https://t.me/s/{user}"/>
    {head_links}
    <link href="//telegram.org/css/font-roboto.css?1" rel="stylesheet" type="text/css">
    <link href="//telegram.org/css/widget-frame.css?71" rel="stylesheet" media="screen">
    <link href="//telegram.org/css/telegram-web.css?40" rel="stylesheet" media="screen">
  </head>
  <body class="widget_frame_base tgme_webpreview emoji_image" data-post-width="550">
    <header class="tgme_header search_collapsed">
      <div class="tgme_header_search">
        <form class="tgme_header_search_form" action="" method="get">
          <input class="tgme_header_search_form_input js-header_search" name="q"
            placeholder="Search" autocomplete="off" value="">
        </form>
      </div>
      <div class="tgme_header_info">
        <a class="tgme_header_link" href="https://t.me/{user}">
          <i class="tgme_page_photo_image bgcolor1" data-content="{initial}"></i>
          <div class="tgme_header_title"><span dir="auto">{title}</span></div>
          <div class="tgme_header_counter">{subs} subscribers</div>
        </a>
      </div>
    </header>
    <main class="tgme_main">
      <div class="tgme_container">
        <section class="tgme_right_column">
          <div class="tgme_channel_info">
            <div class="tgme_channel_info_header">
              <i class="tgme_page_photo_image bgcolor1" data-content="{initial}"></i>
              <div class="tgme_channel_info_header_title"><span dir="auto">{title}</span></div>
              <div class="tgme_channel_info_header_username">
                <a href="https://t.me/{user}">@{user}</a></div>
            </div>
            <div class="tgme_channel_info_counters">
              <div class="tgme_channel_info_counter"><span class="counter_value">{subs}</span>
                <span class="counter_type">subscribers</span></div>
            </div>
            <div class="tgme_channel_info_description">{description}</div>
          </div>
        </section>
        <section class="tgme_channel_history js-message_history">
          {more_top}
{messages}
          {more_bottom}
        </section>
      </div>
    </main>
    <script src="//telegram.org/js/jquery.min.js?1"></script>
    <script src="//telegram.org/js/tgwallpaper.min.js?3"></script>
    <script src="//telegram.org/js/widget-frame.js?66"></script>
    <script src="//telegram.org/js/telegram-web.js?14"></script>
    <script>TWeb.init();</script>
  </body>
</html>
"""


def render_telegram_redirect_target(username: str) -> str:
    """What t.me shows at /<name> for a name without a public preview."""
    name = html.escape(username)
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Telegram: Contact '
        f'@{name}</title></head><body class="no_transition"><div class="tgme_page_wrap">'
        '<div class="tgme_page"><div class="tgme_page_title"><span dir="auto">'
        f'@{name}</span></div><div class="tgme_page_description">If you have '
        '<strong>Telegram</strong>, you can contact <a class="tgme_username_link" '
        f'href="tg://resolve?domain={name}">@{name}</a> right away.</div></div></div>'
        "</body></html>"
    )


# --------------------------------------------------------------------------- feeds


def _rfc822(ts: datetime) -> str:
    return format_datetime(ts)  # keeps the article's own offset, as outlets publish it


def render_rss(articles: Iterable[dict[str, Any]], self_url: str) -> str:
    items = []
    for a in articles:
        published = datetime.fromisoformat(a["published"])
        items.append(
            "    <item>\n"
            f"      <title>{xml_escape(a['title'])}</title>\n"
            f"      <link>{xml_escape(a['link'])}</link>\n"
            f'      <guid isPermaLink="false">{xml_escape(a["guid"])}</guid>\n'
            f"      <pubDate>{_rfc822(published)}</pubDate>\n"
            f"      <dc:creator>{xml_escape(a['outlet'])}</dc:creator>\n"
            f'      <source url="{xml_escape(self_url)}">{xml_escape(a["outlet"])}</source>\n'
            f"      <description>{xml_escape(a['summary'])}</description>\n"
            "    </item>"
        )
    body = "\n".join(items)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>{xml_escape(FEED_TITLE)}</title>
    <link>https://media.example/finly</link>
    <description>Публикации о Finly в СМИ (демо-данные)</description>
    <language>ru</language>
    <atom:link href="{xml_escape(self_url)}" rel="self" type="application/rss+xml"/>
{body}
  </channel>
</rss>
"""


def render_atom(articles: list[dict[str, Any]], self_url: str) -> str:
    entries = []
    newest = max((datetime.fromisoformat(a["published"]) for a in articles), default=None)
    for a in articles:
        published = datetime.fromisoformat(a["published"]).isoformat()
        entries.append(
            "  <entry>\n"
            f"    <id>{xml_escape(a['guid'])}</id>\n"
            f"    <title>{xml_escape(a['title'])}</title>\n"
            f'    <link rel="alternate" href="{xml_escape(a["link"])}"/>\n'
            f"    <published>{published}</published>\n"
            f"    <updated>{published}</updated>\n"
            f"    <author><name>{xml_escape(a['outlet'])}</name></author>\n"
            f'    <summary type="text">{xml_escape(a["summary"])}</summary>\n'
            "  </entry>"
        )
    updated = newest.isoformat() if newest else "2026-01-01T00:00:00Z"
    body = "\n".join(entries)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ru">
  <title>{xml_escape(FEED_TITLE)}</title>
  <id>urn:cjm-demo:media</id>
  <link rel="self" href="{xml_escape(self_url)}"/>
  <updated>{updated}</updated>
{body}
</feed>
"""


# --------------------------------------------------------------------------- data


def _stable_int(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()[:8])


@dataclass
class DemoData:
    """Everything the server serves, built once from the bundle's ``inbox/`` (and ``truth/``)."""

    channels: dict[str, TgChannel]
    articles: list[dict[str, Any]]
    crm: list[dict[str, Any]]  # sorted by (updated_at, id)
    listening_other_csv: str  # the export without its Telegram rows
    market_csv: str = ""  # the market export (cjm/demo/market.py), served as it is
    crm_keys: list[tuple[str, str]] = field(default_factory=list)  # (updated_at UTC ISO, id)
    # {"vk": [posts], "mastodon": [statuses]}, each newest first
    social: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.crm_keys = [(_iso(r["updated_at"]).isoformat(), r["id"]) for r in self.crm]

    @classmethod
    def load(cls, root: Path) -> DemoData:
        inbox = root / "inbox"
        channels, other_csv = _telegram_from_listening(inbox, root / "truth")
        with (inbox / "mentions_media.jsonl").open(encoding="utf-8") as f:
            articles = [json.loads(line) for line in f if line.strip()]
        articles.sort(key=lambda a: datetime.fromisoformat(a["published"]), reverse=True)
        market = inbox / MARKET_FILE
        social_file = inbox / SOCIAL_API_FILE
        social = json.loads(social_file.read_text(encoding="utf-8")) if social_file.exists() else {}
        social.get("vk", []).sort(key=lambda p: (p["date"], p["id"]), reverse=True)
        social.get("mastodon", []).sort(key=lambda p: int(p["id"]), reverse=True)
        return cls(
            channels,
            articles,
            _crm_records(inbox / "crm_events.parquet"),
            other_csv,
            market_csv=market.read_text(encoding="utf-8") if market.exists() else "",
            social=social,
        )


def _telegram_from_listening(inbox: Path, truth: Path) -> tuple[dict[str, TgChannel], str]:
    reposts: set[str] = set()
    labels = truth / "mention_labels.csv"
    if labels.exists():
        with labels.open(encoding="utf-8", newline="") as f:
            reposts = {
                r["native_id"]
                for r in csv.DictReader(f)
                if r["source"] == "listening" and r["signal"] == "news_repost"
            }
    text = (inbox / "mentions_listening.csv").read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert reader.fieldnames is not None
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames, lineterminator="\n")
    writer.writeheader()
    by_channel: dict[str, list[tuple[datetime, int, dict[str, str]]]] = {}
    titles: dict[str, str] = {}
    for n, row in enumerate(reader):
        link = row.get("link") or ""
        if row.get("platform") != "telegram" or not link.startswith("https://t.me/"):
            writer.writerow(row)
            continue
        username = link.split("/")[3]
        when = datetime.strptime(row["date"], "%d.%m.%Y %H:%M").replace(tzinfo=MSK)
        by_channel.setdefault(username, []).append((when, n, row))
        titles.setdefault(username, row["author"] or username)
    channels: dict[str, TgChannel] = {}
    for username, rows in sorted(by_channel.items()):
        rows.sort(key=lambda r: (r[0], r[1]))
        ch = TgChannel(
            username=username,
            title=titles[username],
            subscribers=2_000 + _stable_int(username) % 40_000,
            description=f"Чат «{titles[username]}»: деньги, банки, переводы. Демо-данные.",
        )
        # Ids grow with time as on Telegram, with gaps where other posts were deleted.
        mid = 1000 + _stable_int(username, "start") % 5000
        ch.messages.append(
            TgMessage(mid, rows[0][0].replace(hour=0, minute=0), "Channel created", service=True)
        )
        for when, _, row in rows:
            mid += 1 + _stable_int(username, row["id"]) % 4
            seed = _stable_int(username, mid)
            body = row["body"]
            forwarded = None
            if row["id"] in reposts:
                urls = _URL.findall(body)
                host = urlsplit(urls[0]).hostname if urls else None
                name = (host or "news.example").split(".")[0]
                forwarded = (name, f"https://t.me/{name}_news/{seed % 9000 + 100}")
            ch.messages.append(
                TgMessage(
                    id=mid,
                    date=when,
                    text=body if body.strip() else None,
                    views=50 + seed % 4_000 if seed % 10 else 10_000 + seed % 90_000,
                    forwarded_from=forwarded,
                    photo=seed % 11 == 0,
                    edited=seed % 13 == 0,
                )
            )
        channels[username] = ch
    return channels, out.getvalue()


def _crm_records(path: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    rows = pq.read_table(path).to_pylist()
    records = [
        {
            "id": r["event_uid"],
            "contact_email": r["contact_email"],
            "type": r["type"],
            "created_at": r["created_at"],
            "updated_at": r["created_at"],
            "utm_source": r["utm_source"],
            "utm_campaign": r["utm_campaign"],
            "touchpoint": r["touchpoint"],
            "message": r["message"],
            "amount": r["amount"],
            # the planted segments, when the export has them (cjm/demo/generate.py)
            **{k: r[k] for k in ("segment", "region", "product") if k in r},
        }
        for r in rows
    ]
    records.sort(key=lambda r: (_iso(r["updated_at"]), r["id"]))
    return records


def _iso(value: str) -> datetime:
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _encode_cursor(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _decode_cursor(raw: str) -> dict[str, Any]:
    padded = raw + "=" * (-len(raw) % 4)
    data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    if not isinstance(data, dict) or "after" not in data:
        raise ValueError("not a cursor")
    return data


# --------------------------------------------------------------------------- HTTP


class _Handler(BaseHTTPRequestHandler):
    server: _DemoHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a demo run prints its own progress; per-request lines would drown it

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        path = url.path
        try:
            if path == "/media/rss.xml":
                self._feed(render_rss(self.server.data.articles, self._self_url()), "rss")
            elif path == "/media/atom.xml":
                self._feed(render_atom(self.server.data.articles, self._self_url()), "atom")
            elif path == "/crm/api/v1/events":
                self._crm(query)
            elif path == "/vk/method/newsfeed.search":
                self._vk(query)
            elif path.startswith("/mastodon/api/v1/timelines/tag/"):
                self._mastodon_tag(path.rsplit("/", 1)[1], query)
            elif path.startswith("/s/"):
                self._telegram(path[3:].strip("/"), query)
            elif re.fullmatch(r"/[A-Za-z0-9_]+", path):
                self._send(200, render_telegram_redirect_target(path[1:]), "text/html")
            else:
                self._send(404, "not found\n", "text/plain")
        except BrokenPipeError:
            pass

    def _self_url(self) -> str:
        return f"{self.server.base_url}{urlsplit(self.path).path}"

    def _send(
        self, status: int, body: str, ctype: str, headers: dict[str, str] | None = None
    ) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{ctype}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _feed(self, body: str, kind: str) -> None:
        etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send(200, body, f"application/{kind}+xml", {"ETag": etag})

    def _telegram(self, username: str, query: dict[str, str]) -> None:
        ch = self.server.data.channels.get(username)
        if ch is None:
            self.send_response(302)
            self.send_header("Location", f"/{username}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        before = query.get("before")
        if before is not None and not before.isdigit():
            self._send(400, "bad before\n", "text/plain")
            return
        self._send(200, render_telegram_page(ch, int(before) if before else None), "text/html")

    def _crm(self, query: dict[str, str]) -> None:
        if self.headers.get("Authorization") != f"Bearer {self.server.token}":
            self._json(
                401,
                {"error": "unauthorized", "message": "a valid bearer token is required"},
                {"WWW-Authenticate": 'Bearer realm="cjm-demo-crm"'},
            )
            return
        try:
            limit = int(query.get("limit", CRM_PAGE_SIZE))
            if not 0 < limit <= CRM_MAX_PAGE_SIZE:
                raise ValueError
        except ValueError:
            self._json(400, {"error": f"limit must be 1..{CRM_MAX_PAGE_SIZE}"})
            return
        try:
            if query.get("cursor"):
                state = _decode_cursor(query["cursor"])
            else:
                since = query.get("updated_since")
                state = {"since": _iso(since).isoformat() if since else None, "after": None}
        except (ValueError, TypeError):
            self._json(400, {"error": "invalid cursor or updated_since (ISO-8601 expected)"})
            return
        keys = self.server.data.crm_keys
        if state.get("after"):
            start = bisect.bisect_right(keys, tuple(state["after"]))
        elif state.get("since"):
            start = bisect.bisect_left(keys, (_iso(state["since"]).isoformat(), ""))
        else:
            start = 0
        page = self.server.data.crm[start : start + limit]
        next_cursor = None
        if start + limit < len(keys):
            after = list(keys[start + limit - 1])
            next_cursor = _encode_cursor({"since": state.get("since"), "after": after})
        self._json(200, {"data": page, "next_cursor": next_cursor})

    def _vk(self, query: dict[str, str]) -> None:
        """newsfeed.search as VK answers it: errors in a 200 body, newest posts first."""

        def error(code: int, message: str) -> None:
            self._json(200, {"error": {"error_code": code, "error_msg": message}})

        if query.get("access_token") != DEMO_VK_TOKEN:
            error(5, "User authorization failed: invalid access_token (4).")
            return
        if not query.get("v"):
            error(8, "Invalid request: v (version) is required")
            return
        try:
            count = min(int(query.get("count", 30)), VK_MAX_COUNT)
            offset = int(query.get("start_from", 0))
            since = int(query["start_time"]) if "start_time" in query else None
        except ValueError:
            error(100, "One of the parameters specified was missing or invalid")
            return
        words = query.get("q", "").lower()
        found = [
            p
            for p in self.server.data.social.get("vk", [])
            if words in p["text"].lower()
            and (since is None or int(_iso(p["date"]).timestamp()) >= since)
        ]
        items = [
            {
                "inner_type": "wall_wallpost",
                "id": p["id"],
                "owner_id": p["owner_id"],
                "from_id": p["from_id"],
                "date": int(_iso(p["date"]).timestamp()),
                "post_type": "post",
                "text": p["text"],
                "comments": {"count": p["comments"]},
                "likes": {"count": p["likes"]},
                "reposts": {"count": p["reposts"]},
                "views": {"count": p["views"]},
            }
            for p in found[offset : offset + count]
        ]
        response: dict[str, Any] = {"items": items, "count": len(items), "total_count": len(found)}
        if offset + count < len(found):
            response["next_from"] = str(offset + count)
        self._json(200, {"response": response})

    def _mastodon_tag(self, tag: str, query: dict[str, str]) -> None:
        """A hashtag timeline as an open Mastodon 4 instance serves it (no token)."""
        try:
            limit = min(int(query.get("limit", 20)), MASTODON_MAX_LIMIT)
            max_id = int(query["max_id"]) if "max_id" in query else None
        except ValueError:
            self._json(422, {"error": "Validation failed: limit and max_id are numbers"})
            return
        wanted = "#" + tag.lower()
        statuses = [
            s
            for s in self.server.data.social.get("mastodon", [])
            if wanted in s["text"].lower() and (max_id is None or int(s["id"]) < max_id)
        ][:limit]
        headers = {}
        if statuses:
            here = f"{self.server.base_url}{urlsplit(self.path).path}"
            headers["Link"] = (
                f'<{here}?limit={limit}&max_id={statuses[-1]["id"]}>; rel="next", '
                f'<{here}?limit={limit}&min_id={statuses[0]["id"]}>; rel="prev"'
            )
        self._json(200, [_status(s, self.server.base_url) for s in statuses], headers)

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(body, ensure_ascii=False), "application/json", headers)


def _status(s: dict[str, Any], base_url: str) -> dict[str, Any]:
    """A Mastodon Status entity; the text becomes HTML with hashtag links, as Mastodon renders."""
    instance = f"https://{s['domain']}"
    acct = s["user"] if s["domain"] == "mastodon.social" else f"{s['user']}@{s['domain']}"
    content = re.sub(
        r"#(\w+)",
        lambda m: (
            f'<a href="{base_url}/mastodon/tags/{m.group(1).lower()}" class="mention hashtag" '
            f'rel="tag">#<span>{m.group(1)}</span></a>'
        ),
        html.escape(s["text"], quote=False),
    )
    return {
        "id": s["id"],
        "created_at": s["created_at"].replace("Z", ".000Z"),
        "in_reply_to_id": s["in_reply_to"],
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": s["language"],
        "uri": f"{instance}/users/{s['user']}/statuses/{s['id']}",
        "url": f"{instance}/@{s['user']}/{s['id']}",
        "replies_count": s["replies"],
        "reblogs_count": s["reblogs"],
        "favourites_count": s["favourites"],
        "content": f"<p>{content}</p>",
        "account": {
            "username": s["user"],
            "acct": acct,
            "url": f"{instance}/@{s['user']}",
            "followers_count": s["followers"],
        },
        "media_attachments": [],
        "mentions": [],
        "tags": [{"name": t.lower()} for t in re.findall(r"#(\w+)", s["text"])],
    }


class _DemoHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, data: DemoData, token: str):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.data = data
        self.token = token
        self.base_url = f"http://127.0.0.1:{self.server_address[1]}"


class DemoServer:
    """The demo sources on 127.0.0.1:<free port>; ``with DemoServer() as s: s.base_url``.

    `bundle` is a folder with the demo's `inbox/` and `truth/` (default: the shipped one).
    """

    def __init__(
        self,
        bundle: Path | str | None = None,
        *,
        token: str = DEMO_CRM_TOKEN,
        workdir: Path | str | None = None,
    ):
        self.root = Path(bundle) if bundle else demo_bundle_dir()
        self.token = token
        self._workdir_arg = Path(workdir) if workdir else None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._httpd: _DemoHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.data: DemoData | None = None
        self.workdir: Path | None = None

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the demo server is not running")
        return self._httpd.base_url

    def start(self) -> DemoServer:
        self.data = DemoData.load(self.root)
        if self._workdir_arg is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="cjm-demo-")
            self.workdir = Path(self._tmp.name)
        else:
            self.workdir = self._workdir_arg
            self.workdir.mkdir(parents=True, exist_ok=True)
        # Rewritten only when different, so the file source's cursor sees an unchanged file.
        for name, text in (
            (LISTENING_OTHER, self.data.listening_other_csv),
            (MARKET_FILE, self.data.market_csv),
        ):
            path = self.workdir / name
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
        self._httpd = _DemoHTTPServer(self.data, self.token)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="cjm-demo-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def env(self) -> dict[str, str]:
        """What config/demo.yml expects in the environment."""
        assert self.workdir is not None
        return {
            "CJM_DEMO_BASE_URL": self.base_url,
            "CJM_DEMO_DIR": str(self.workdir),
            "CJM_DEMO_CRM_TOKEN": self.token,
            "CJM_DEMO_VK_TOKEN": DEMO_VK_TOKEN,
        }

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_demo(
    root: Path | str | None = None,
    *,
    token: str = DEMO_CRM_TOKEN,
    workdir: Path | str | None = None,
) -> tuple[str, Callable[[], None]]:
    """Start the demo server; returns its base URL and the function that stops it."""
    server = DemoServer(root, token=token, workdir=workdir).start()
    return server.base_url, server.stop


if __name__ == "__main__":  # python -m cjm.demo.server: browse the demo sources
    import time

    with DemoServer() as s:
        print(f"serving {s.base_url} (Ctrl-C stops); env: {s.env()}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
