"""Generate the bundled demo sources for the fictional brand Finly.

    python -m cjm.demo.generate --out demo/inbox

writes three source files in the formats real exports arrive in, so the demo
exercises the same file extractor, validation and marts as production data:

- ``mentions_listening.csv``: a social-listening export (Moscow local time,
  ``%d.%m.%Y %H:%M``), with a planted incident and a few broken rows;
- ``mentions_media.jsonl``: media articles, ISO-8601 with offsets;
- ``crm_events.parquet``: CRM journeys site_visit → lead → order_paid →
  support_ticket → renewal for ~3,000 customers.

Next to them (``--truth``, default ``<out>/../truth``) it writes the answers:
``mention_labels.csv`` (the stage, topic and sentiment each mention was written
with) and ``summary.json`` (the incident window and counts, the broken rows,
designed and realised conversion rates). Tests of the enrichment and the marts
compare against these instead of hard-coding numbers.

Everything is derived from a fixed seed and a fixed calendar period, never from
the clock, so two runs produce the same bytes (the files are committed).
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import json
import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq

from cjm.demo import market, social_api, texts
from cjm.demo.texts import TEMPLATES, T

SEED = 20260901
MSK = ZoneInfo("Europe/Moscow")
START = date(2026, 9, 1)  # a Tuesday
DAYS = 56  # eight weeks: 2026-09-01 .. 2026-10-26 (Moscow dates)
PERIOD_END_UTC = datetime(2026, 10, 27, tzinfo=MSK).astimezone(UTC)  # export cut-off

LISTENING_FILE = "mentions_listening.csv"
MEDIA_FILE = "mentions_media.jsonl"
CRM_FILE = "crm_events.parquet"
LISTENING_TS_FORMAT = "%d.%m.%Y %H:%M"

# The planted incident: login failures, declined cards, silent support.
INCIDENT_START = datetime(2026, 10, 14, 10, 0, tzinfo=MSK)
INCIDENT_PER_HOUR = (12, 24, 16)  # 10:00, 11:00, 12:00 MSK -> 52 mentions
INCIDENT_END = INCIDENT_START + timedelta(hours=len(INCIDENT_PER_HOUR))
# Outside the incident no hour holds more than this many negative-by-design mentions
# (listening + media), so the designed spike is the only one at min_count 5.
NEGATIVE_CAP_PER_HOUR = 3

# Mentions per Moscow hour of day and per weekday (Mon..Sun): people write by day.
# fmt: off
HOUR_WEIGHTS = (
    0.35, 0.2, 0.1, 0.06, 0.05, 0.08, 0.2, 0.45, 0.75, 0.95, 1.0, 1.05,
    1.1, 1.1, 1.0, 0.95, 0.95, 1.0, 1.05, 1.15, 1.2, 1.15, 0.9, 0.6,
)
# fmt: on
DOW_WEIGHTS = (1.05, 1.1, 1.1, 1.05, 0.95, 0.7, 0.75)
BASE_MENTIONS_PER_DAY = 37.0

STAGE_MIX = {
    "awareness": 0.20,
    "consideration": 0.17,
    "purchase": 0.12,
    "usage": 0.36,
    "loyalty": 0.08,
    "churn": 0.07,
}
# Negatives concentrate in usage (and churn); neutral is the largest class overall.
SENTIMENT_MIX = {
    "awareness": {"neutral": 0.70, "positive": 0.20, "negative": 0.10},
    "consideration": {"neutral": 0.65, "positive": 0.15, "negative": 0.20},
    "purchase": {"neutral": 0.45, "positive": 0.45, "negative": 0.10},
    "usage": {"neutral": 0.30, "positive": 0.30, "negative": 0.40},
    "loyalty": {"neutral": 0.20, "positive": 0.75, "negative": 0.05},
    "churn": {"neutral": 0.15, "positive": 0.0, "negative": 0.85},
}
PLATFORMS = {
    "ru": {"telegram": 0.33, "vk": 0.32, "twitter": 0.15, "forum": 0.20},
    "en": {"twitter": 0.60, "telegram": 0.25, "forum": 0.15},
}
SHARE_EN = 0.28

MEDIA_TARGET = 300
MEDIA_HOUR_WEIGHTS = (3, 6, 8, 8, 7, 6, 6, 5, 5, 4, 3, 3, 2, 2, 1, 1)  # 07:00..22:00 local

K = TypeVar("K")


# --------------------------------------------------------------------------- helpers


def _pick(rng: random.Random, weights: Mapping[K, float]) -> K:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _day(i: int) -> date:
    return START + timedelta(days=i)


def _local(d: date, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, second, tzinfo=MSK)


def _hour_key(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def in_incident(ts: datetime) -> bool:
    return INCIDENT_START <= ts < INCIDENT_END


@dataclass
class NegativeBudget:
    """Counts negative-by-design mentions per hour so the baseline stays at 0-3/hour."""

    counts: Counter[datetime] = field(default_factory=Counter)

    def has_room(self, ts: datetime) -> bool:
        return in_incident(ts) or self.counts[_hour_key(ts)] < NEGATIVE_CAP_PER_HOUR

    def take(self, ts: datetime) -> None:
        self.counts[_hour_key(ts)] += 1


@dataclass
class Mention:
    """One generated mention plus the labels it was written with."""

    source: str  # "listening" | "media"
    native_id: str
    published: datetime  # aware
    text: str
    author: str
    channel: str
    url: str
    lang: str
    stage: str  # journey stage by design ("" for off-brand rows)
    topic: str
    sentiment: str
    signal: str = ""  # incident | churn | sarcasm | news_repost | retweet | off_brand | broken:*
    title: str = ""
    date_text: str | None = None  # the listening CSV's date cell, when deliberately broken
    note: str = ""  # what is wrong with a deliberately broken row


# --------------------------------------------------------------------------- text


class TextMaker:
    """Fills templates and adds the noise real posts have (openers, emoji, typos, case)."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def brand(self, lang: str) -> str:
        forms = texts.BRAND_FORMS[lang]
        return self.rng.choices([f for f, _ in forms], weights=[w for _, w in forms])[0]

    def fill(self, template: str, lang: str) -> str:
        r = self.rng
        slots = {
            "b": self.brand(lang),
            "comp": r.choice(texts.COMPETITORS[lang]),
            "n": str(r.randint(2, 5)),
            "h": str(r.choice([3, 4, 5, 6, 8, 12, 20, 26])),
            "fee": r.choice(texts.FEES),
            "fee_en": r.choice(texts.FEES_EN),
            "pct": str(r.choice([3, 5, 7, 10])),
            "money": r.choice(texts.MONEY),
            "city": r.choice(texts.CITIES[lang]),
            "link": r.choice(
                [
                    "finly.app/promo",
                    "https://finly.app/r/" + _code(r),
                    "finly.app/cards",
                    "https://finly.app/r/" + _code(r),
                ]
            ),
        }
        return template.format(**slots)

    def decorate(self, text: str, lang: str, sentiment: str, platform: str) -> str:
        r = self.rng
        opener = r.choice(texts.OPENERS[lang])
        if opener.startswith("Вопрос") and "?" not in text:
            opener = ""  # "Вопрос:" before a statement reads wrong
        if opener and not text.startswith(("@", "#", "RT ")) and not _starts_with_brand(text):
            text = opener + text[0].lower() + text[1:]
        elif opener and not text.startswith(("@", "#", "RT ")):
            text = opener + text
        if r.random() < 0.10 and text[-1] in ".!":
            text = text[:-1]
        text = _append(text, r.choice(texts.CLOSERS[lang][sentiment]))
        if platform == "forum" and r.random() < 0.5:
            text = _append(text, r.choice(texts.FORUM_TAILS[lang][sentiment]))
        if platform == "twitter" and "@finlyapp" not in text and r.random() < 0.25:
            text = "@finlyapp " + text
        if r.random() < 0.08:
            text = _typo(r, text)
        if r.random() < 0.15:
            text = text.lower()
        return text


def _append(text: str, tail: str) -> str:
    """Add a closing phrase; a new sentence after a bare word gets its full stop."""
    if tail[1:2].isalpha() and text[-1].isalnum():
        return text + "." + tail  # "…привыкаю. Кто знает?", not "…привыкаю Кто знает?"
    return text + tail


def _code(rng: random.Random) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))


def _starts_with_brand(text: str) -> bool:
    low = text.lower()
    return low.startswith(("финли", "finly"))


def _typo(rng: random.Random, text: str) -> str:
    """Swap two letters inside one longer word, never inside the brand's name."""
    words = text.split(" ")
    candidates = [
        i
        for i, w in enumerate(words)
        if len(w) >= 6 and w.isalpha() and "finl" not in w.lower() and "финл" not in w.lower()
    ]
    if not candidates:
        return text
    i = rng.choice(candidates)
    w = words[i]
    j = rng.randint(1, len(w) - 3)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


# --------------------------------------------------------------------------- authors


class People:
    """Invented authors and post URLs per platform."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def handle(self) -> str:
        r = self.rng
        return r.choice(texts.HANDLE_PARTS) + r.choice(texts.HANDLE_SUFFIX)

    def post(self, platform: str, lang: str) -> tuple[str, str]:
        r = self.rng
        if platform == "twitter":
            h = self.handle()
            return "@" + h, f"https://twitter.com/{h}/status/{r.randint(10**18, 2 * 10**18)}"
        if platform == "telegram":
            channels = texts.TG_CHANNELS[lang]
            i = r.randrange(len(channels))
            return channels[i], f"https://t.me/{lang}_money_chat_{i + 1}/{r.randint(1000, 99999)}"
        if platform == "vk":
            if r.random() < 0.5:
                name = f"{r.choice(texts.RU_FIRST_F)} {r.choice(texts.RU_LAST)}а"
            else:
                name = f"{r.choice(texts.RU_FIRST_M)} {r.choice(texts.RU_LAST)}"
            return name, f"https://vk.com/wall-{r.randint(10**7, 10**8)}_{r.randint(100, 99999)}"
        nick = r.choice(texts.FORUM_NICKS) if r.random() < 0.5 else self.handle()
        return (
            nick,
            f"https://forum.money-talk.example/t/{r.randint(1000, 9999)}/{r.randint(1, 400)}",
        )


# --------------------------------------------------------------------------- media


@dataclass
class MediaItem:
    mention: Mention
    outlet: str
    published_text: str


def _media_slots(rng: random.Random) -> dict[str, str]:
    return {
        "round": rng.choice(["1,2 млрд рублей", "800 млн рублей", "$15 млн"]),
        "round_en": rng.choice(["$15m", "$12m in Series A"]),
        "rank": str(rng.randint(2, 9)),
        "city_ru": rng.choice(["Казани", "Екатеринбурге", "Новосибирске", "Тбилиси"]),
        "comp": rng.choice(texts.COMPETITORS["ru"]),
        "comp_en": rng.choice(texts.COMPETITORS["en"]),
        "partner_short": rng.choice(["Полка", "Мигом", "Зерно"]),
    }


def generate_media(rng: random.Random, budget: NegativeBudget) -> list[MediaItem]:
    """Dated news reprinted by several outlets, then evergreen coverage up to the target."""
    outlets = {lang: [o for o in texts.OUTLETS if o[3] == lang] for lang in ("ru", "en")}
    planned: list[tuple[datetime, texts.Article, tuple[str, str, str, str, int], str]] = []
    for day_text, by_lang in texts.NEWS.items():
        d = date.fromisoformat(day_text)
        for lang, stories in by_lang.items():
            for k, story in enumerate(stories):
                # On the incident day the press reacts after the burst, not during it.
                first_hour = 14 + 2 * k if d == INCIDENT_START.date() else rng.randint(8, 11)
                n_outlets = rng.randint(4, 6) if lang == "ru" else rng.randint(1, 2)
                chosen = rng.sample(outlets[lang], k=min(n_outlets, len(outlets[lang])))
                for j, outlet in enumerate(chosen):
                    local = _local(d, first_hour, rng.randint(0, 59)) + timedelta(minutes=35 * j)
                    planned.append((local, story, outlet, lang))
    # Evergreen: weekdays mostly, business hours.
    while len(planned) < MEDIA_TARGET:
        i = rng.randrange(DAYS)
        d = _day(i)
        if d.weekday() >= 5 and rng.random() < 0.6:
            continue
        lang = "ru" if rng.random() < 0.8 else "en"
        story = rng.choice(texts.EVERGREEN[lang])
        outlet = rng.choices(outlets[lang], weights=[o[4] for o in outlets[lang]])[0]
        hour = rng.choices(range(7, 23), weights=MEDIA_HOUR_WEIGHTS)[0]
        planned.append((_local(d, hour, rng.randint(0, 59)), story, outlet, lang))

    items: list[MediaItem] = []
    seq = 40000
    for local, story, outlet, lang in sorted(planned, key=lambda p: (p[0], p[2][1], p[1].title)):
        name, domain, tz, _, _ = outlet
        ts = local
        if story.sentiment == "negative":
            while not budget.has_room(ts) or in_incident(ts):
                ts += timedelta(minutes=37)
            budget.take(ts)
        slots = _media_slots(rng)
        title = story.title.format(**slots)
        summary = story.summary.format(**slots)
        if rng.random() < 0.15:
            title = (
                rng.choice(
                    ["Разбор: ", "Мнение: ", "Главное: "]
                    if lang == "ru"
                    else ["Analysis: ", "Opinion: "]
                )
                + title
            )
        seq += rng.randint(1, 40)
        published = ts.astimezone(ZoneInfo(tz))
        published_text = published.isoformat(timespec="seconds")
        if tz == "UTC":
            published_text = published_text.replace("+00:00", "Z")
        guid = f"{domain}:{seq}"
        link = f"https://{domain}/news/{published:%Y/%m/%d}/{seq}"
        m = Mention(
            "media",
            guid,
            ts,
            summary,
            name,
            "media",
            link,
            lang,
            story.stage,
            story.topic,
            story.sentiment,
            title=title,
        )
        items.append(MediaItem(m, name, published_text))
    items.sort(key=lambda it: (it.mention.published, it.mention.native_id))
    return items


# --------------------------------------------------------------------------- listening


def _daily_volume(i: int) -> float:
    d = _day(i)
    v = BASE_MENTIONS_PER_DAY * DOW_WEIGHTS[d.weekday()] * (1 + 0.25 * i / (DAYS - 1))
    if date(2026, 9, 15) <= d <= date(2026, 9, 24):  # the ad campaign
        v *= 1.25
    if date(2026, 10, 20) <= d <= date(2026, 10, 22):  # app v5 released
        v *= 1.15
    return v


def _stage_mix(d: date) -> dict[str, float]:
    mix = dict(STAGE_MIX)
    if date(2026, 9, 15) <= d <= date(2026, 9, 24):
        mix["awareness"] *= 2.0
    if date(2026, 9, 22) <= d <= date(2026, 9, 30):  # Premium price increase announced
        mix["consideration"] *= 1.5
        mix["churn"] *= 1.3
    if date(2026, 10, 20) <= d <= date(2026, 10, 22):
        mix["usage"] *= 1.3
    return mix


def _sentiment_mix(stage: str, d: date) -> dict[str, float]:
    mix = dict(SENTIMENT_MIX[stage])
    if stage == "consideration" and date(2026, 9, 22) <= d <= date(2026, 9, 30):
        mix["negative"] *= 2.0
    return mix


def _random_time(rng: random.Random, d: date) -> datetime:
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    return _local(d, hour, rng.randint(0, 59))


def generate_listening(
    rng: random.Random, budget: NegativeBudget, media: Sequence[MediaItem]
) -> list[Mention]:
    """Baseline posts, reposts of news, the incident and off-brand matches (unsorted, no ids)."""
    tm, people = TextMaker(rng), People(rng)
    rows: list[Mention] = []

    def make(
        ts: datetime, tpl: T, stage: str, sentiment: str, lang: str, platform: str, signal: str = ""
    ) -> Mention:
        text = tm.decorate(tm.fill(tpl.text, lang), lang, sentiment, platform)
        author, url = people.post(platform, lang)
        label_stage = "loyalty" if stage == "churn" else stage
        return Mention(
            "listening",
            "",
            ts,
            text,
            author,
            platform,
            url,
            lang,
            label_stage,
            tpl.topic,
            sentiment,
            signal or tpl.signal,
        )

    for i in range(DAYS):
        d = _day(i)
        expected = _daily_volume(i)
        n = max(0, round(rng.gauss(expected, math.sqrt(expected))))
        for _ in range(n):
            lang = "en" if rng.random() < SHARE_EN else "ru"
            stage = _pick(rng, _stage_mix(d))
            sentiment = _pick(rng, _sentiment_mix(stage, d))
            cell = TEMPLATES[stage].get(sentiment, {}).get(lang)
            if not cell:
                continue
            ts = _random_time(rng, d)
            if sentiment == "negative":
                tries = 0
                while not budget.has_room(ts) and tries < 30:
                    ts, tries = _random_time(rng, d), tries + 1
                if not budget.has_room(ts):
                    continue
                budget.take(ts)
            platform = _pick(rng, PLATFORMS[lang])
            m = make(ts, rng.choice(cell), stage, sentiment, lang, platform)
            rows.append(m)
            # Complaints get retweeted.
            if platform == "twitter" and sentiment == "negative" and rng.random() < 0.12:
                rt_ts = ts + timedelta(minutes=rng.randint(3, 50))
                if budget.has_room(rt_ts) and rt_ts.date() == d:
                    budget.take(rt_ts)
                    author, url = people.post("twitter", lang)
                    rows.append(
                        Mention(
                            "listening",
                            "",
                            rt_ts,
                            f"RT {m.author}: {m.text}",
                            author,
                            "twitter",
                            url,
                            lang,
                            m.stage,
                            m.topic,
                            m.sentiment,
                            "retweet",
                        )
                    )

    # People repost the news (retweets on twitter, forwards in telegram chats).
    for item in media:
        if rng.random() >= 0.22:
            continue
        if not any(k in item.mention.title.lower() for k in ("финли", "finly")):
            continue  # a repost of a headline without the name is not a brand mention
        a = item.mention
        for _ in range(rng.choice([1, 1, 2, 3])):
            ts = a.published + timedelta(minutes=rng.randint(5, 600))
            if ts.astimezone(UTC) >= PERIOD_END_UTC:
                continue
            if a.sentiment == "negative":
                if not budget.has_room(ts) or in_incident(ts):
                    continue
                budget.take(ts)
            platform = "twitter" if a.lang == "en" or rng.random() < 0.5 else "telegram"
            author, url = people.post(platform, a.lang)
            handle = a.url.split("/")[2].split(".")[0].replace("-", "_")
            if platform == "twitter":
                text = f"RT @{handle}: {a.title} {a.url}"
            else:
                text = (
                    f"{a.title}\n{a.url}"
                    if rng.random() < 0.5
                    else f"Новость дня: {a.title} {a.url}"
                )
            rows.append(
                Mention(
                    "listening",
                    "",
                    ts.astimezone(MSK),
                    text,
                    author,
                    platform,
                    url,
                    a.lang,
                    a.stage,
                    a.topic,
                    a.sentiment,
                    "news_repost",
                )
            )

    # The incident: a burst on top of the baseline.
    for h, count in enumerate(INCIDENT_PER_HOUR):
        for _ in range(count):
            lang = "en" if rng.random() < 0.3 else "ru"
            ts = INCIDENT_START + timedelta(hours=h, minutes=rng.randint(0, 59))
            platform = _pick(rng, PLATFORMS[lang])
            rows.append(
                make(
                    ts,
                    rng.choice(texts.INCIDENT[lang]),
                    "usage",
                    "negative",
                    lang,
                    platform,
                    "incident",
                )
            )

    # Off-brand matches the listening tool picked up on a substring.
    for _ in range(24):
        lang = "en" if rng.random() < 0.3 else "ru"
        d = _day(rng.randrange(DAYS))
        ts = _random_time(rng, d)
        platform = _pick(rng, PLATFORMS[lang])
        author, url = people.post(platform, lang)
        rows.append(
            Mention(
                "listening",
                "",
                ts,
                rng.choice(texts.OFF_BRAND[lang]),
                author,
                platform,
                url,
                lang,
                "",
                "",
                "neutral",
                "off_brand",
            )
        )
    return rows


@dataclass(frozen=True)
class Breakage:
    """A deliberately broken listening row: what is wrong and how to make it so."""

    kind: str
    when: datetime
    detail: str


BREAKAGES = (
    Breakage("missing_id", _local(date(2026, 9, 9), 14, 12), "id cell is empty"),
    Breakage("missing_id", _local(date(2026, 10, 2), 19, 40), "id cell is empty"),
    Breakage(
        "bad_timestamp",
        _local(date(2026, 9, 20), 11, 5),
        "date is '31.02.2026 25:61' (no such day, hour or minute)",
    ),
    Breakage(
        "bad_timestamp",
        _local(date(2026, 10, 5), 14, 22),
        "date is ISO '2026-10-05T14:22:00', not %d.%m.%Y %H:%M",
    ),
    Breakage("bad_timestamp", _local(date(2026, 10, 8), 9, 47), "date cell is empty"),
    Breakage("empty_text", _local(date(2026, 9, 12), 16, 30), "body cell is empty"),
    Breakage("empty_text", _local(date(2026, 10, 19), 21, 15), "body is three spaces"),
    Breakage(
        "duplicate_id",
        _local(date(2026, 9, 28), 12, 0),
        "exact copy of an earlier row (same id and content), as an export's page overlap produces",
    ),
)


def assign_ids_and_break(rng: random.Random, rows: list[Mention]) -> list[Mention]:
    """Sort by time, give listening ids, and plant the broken rows."""
    rows.sort(key=lambda m: (m.published, m.channel, m.url))
    seq = 1_000
    for m in rows:
        seq += rng.randint(1, 3)
        m.native_id = f"ml-{seq:07d}"
    tm, people = TextMaker(rng), People(rng)
    for b in BREAKAGES:
        if b.kind == "duplicate_id":
            original = next(
                m
                for m in rows
                if m.published >= b.when - timedelta(days=1)
                and m.signal == ""
                and "\n" not in m.text
            )
            copy = Mention(
                **{**original.__dict__, "signal": "broken:duplicate_id", "note": b.detail}
            )
            idx = next(i for i, m in enumerate(rows) if m.published >= b.when)
            rows.insert(idx, copy)
            continue
        lang = "ru"
        tpl = rng.choice(TEMPLATES["usage"]["neutral"]["ru"])
        text = tm.fill(tpl.text, lang)
        author, url = people.post("vk", lang)
        seq += 1
        m = Mention(
            "listening",
            f"ml-{seq:07d}",
            b.when,
            text,
            author,
            "vk",
            url,
            lang,
            "usage",
            tpl.topic,
            "neutral",
            f"broken:{b.kind}",
            note=b.detail,
        )
        if b.kind == "missing_id":
            m.native_id = ""
        elif b.kind == "empty_text":
            m.text = "" if "empty" in b.detail else "   "
        elif b.kind == "bad_timestamp":
            m.date_text = (
                "31.02.2026 25:61"
                if "31.02" in b.detail
                else "2026-10-05T14:22:00"
                if "ISO" in b.detail
                else ""
            )
        idx = next(i for i, r in enumerate(rows) if r.published >= b.when)
        rows.insert(idx, m)
    return rows


# --------------------------------------------------------------------------- CRM


@dataclass(frozen=True)
class Channel:
    """Designed per-channel journey probabilities (each conditional on the previous stage)."""

    weight: float
    p_lead: float
    p_order: float
    p_ticket: float
    p_renewal: float
    campaigns: tuple[tuple[str | None, str], ...]


CHANNELS: dict[str, Channel] = {
    "google": Channel(
        0.25,
        0.45,
        0.60,
        0.50,
        0.40,
        (
            ("gg_search_brand", "Finly — бесплатная карта за 5 минут"),
            ("gg_cashback_autumn", "Осенний кэшбэк 7% на кафе и такси"),
        ),
    ),
    "yandex": Channel(
        0.22,
        0.42,
        0.58,
        0.50,
        0.40,
        (
            ("ya_direct_card", "Карта Finly без платы за обслуживание"),
            ("ya_rsya_raccoon", "Банк, который ничего не прячет"),
        ),
    ),
    "telegram_ads": Channel(
        0.13,
        0.35,
        0.50,
        0.50,
        0.35,
        (
            ("tg_ads_freelance", "Счёт для фрилансера: принимайте оплату из-за рубежа"),
            ("tg_ads_students", "Студентам — Премиум бесплатно 3 месяца"),
        ),
    ),
    "vk_ads": Channel(
        0.15,
        0.30,
        0.45,
        0.55,
        0.30,
        (
            ("vk_target_young", "Кэшбэк до 10% у партнёров Finly"),
            ("vk_clips_raccoon", "Енот рекомендует: карта Finly"),
        ),
    ),
    "referral": Channel(
        0.10, 0.65, 0.75, 0.45, 0.50, (("ref_friend_1000", "Приведи друга — получите по 1 000 ₽"),)
    ),
    "organic": Channel(
        0.15, 0.55, 0.68, 0.50, 0.45, ((None, "Finly — банк, который ничего не прячет"),)
    ),
}
P_DIRECT_ORDER = 0.06  # visitors without a lead who still buy (e.g. in a branch)
P_RENEWAL_WITHOUT_TICKET = 0.10  # buyers who never file a ticket but renew
P_REVISIT = 0.18  # customers with 1-2 more site visits
P_REVISIT_OTHER_CHANNEL = 0.40  # ... of which come through another channel (retargeting)
P_SECOND_LEAD = 0.05
P_EXTRA_TICKETS = 0.25
RENEWAL_AFTER_DAYS = 14  # Premium's trial ends two weeks after the order
P_INCIDENT_TICKET = 0.5  # tickets due around the incident that move into its window
STAGE_EVENTS = ("site_visit", "lead", "order_paid", "support_ticket", "renewal")
# fmt: off
CRM_HOUR_WEIGHTS = (
    0.1, 0.05, 0.03, 0.02, 0.02, 0.05, 0.15, 0.4, 0.8, 1.0, 1.1, 1.1,
    1.1, 1.05, 1.0, 1.0, 1.0, 1.05, 1.1, 1.2, 1.25, 1.1, 0.7, 0.3,
)
# fmt: on

TICKETS = {
    "app_stability": ["Приложение вылетает при входе", "Не приходит СМС-код"],
    "delivery": ["Не привезли карту", "Перенос доставки карты", "Перевыпуск карты"],
    "price": ["Списали комиссию за обслуживание", "Не начислен кэшбэк", "Вопрос по тарифу Премиум"],
    "response_speed": ["Перевод не дошёл получателю", "Долго нет ответа в чате"],
    "usability": ["Как получить выписку", "Не могу изменить лимит"],
    "trust": ["Заблокирован счёт", "Подозрительная операция"],
    "support_quality": ["Жалоба на работу оператора"],
}
TICKET_WEIGHTS = {
    "app_stability": 0.20,
    "delivery": 0.18,
    "price": 0.17,
    "response_speed": 0.15,
    "usability": 0.15,
    "trust": 0.08,
    "support_quality": 0.07,
}
INCIDENT_TICKETS = ("Не могу войти в приложение", "Карта заблокирована при оплате")
TOUCHPOINTS = {
    "site_visit": {"landing_page": 0.85, "app": 0.15},
    "lead": {"landing_page": 0.55, "call_center": 0.25, "app": 0.20},
    "order_paid": {"app": 0.55, "courier": 0.30, "branch": 0.15},
    "support_ticket": {"app": 0.55, "call_center": 0.30, "email": 0.15},
    "renewal": {"app": 0.70, "email": 0.30},
}
ORDER_AMOUNTS = {299.0: 0.55, 990.0: 0.30, 2990.0: 0.15}  # RUB: Premium month, metal card, year
RENEWAL_AMOUNTS = {299.0: 0.8, 2990.0: 0.2}
RENEWAL_MESSAGE = "Продление Finly Премиум: кэшбэк до 10% ещё на месяц"

# fmt: off
EMAIL_FIRST = [
    "anna", "maria", "dmitry", "alexey", "olga", "ivan", "ekaterina", "sergey", "natalia",
    "pavel", "yulia", "artem", "ksenia", "mikhail", "elena", "nikita", "sofia", "gleb", "vera",
    "timur", "alina", "roman", "daria", "kirill"
]
# fmt: on
# fmt: off
EMAIL_LAST = [
    "smirnov", "kuznetsov", "popov", "volkov", "morozov", "lebedev", "kozlov", "novikov",
    "sokolov", "fedorov", "orlov", "zaytsev", "belov", "gromov", "tikhonov", "ershov"
]
# fmt: on
N_CUSTOMERS = 3000


@dataclass
class Event:
    email: str
    type: str
    at: datetime  # UTC
    utm_source: str
    utm_campaign: str | None
    touchpoint: str
    message: str
    amount: float | None = None


@dataclass
class _Journey:
    """One customer's events; the entry channel and campaign are the defaults for each."""

    rng: random.Random
    email: str
    source: str
    campaign: str | None
    message: str
    events: list[Event] = field(default_factory=list)

    def add(
        self,
        kind: str,
        at: datetime,
        *,
        source: str | None = None,
        campaign: str | None = None,
        message: str | None = None,
        amount: float | None = None,
        touchpoint: str | None = None,
    ) -> None:
        src = source or self.source
        options = TOUCHPOINTS[kind]
        if kind == "site_visit" and src == "organic":
            options = {"landing_page": 0.6, "app": 0.4}
        self.events.append(
            Event(
                self.email,
                kind,
                at,
                src,
                campaign if source else self.campaign,
                touchpoint or _pick(self.rng, options),
                message or self.message,
                amount,
            )
        )


def _email(rng: random.Random, n: int, used: dict[str, bool]) -> str:
    while True:
        first, last = rng.choice(EMAIL_FIRST), rng.choice(EMAIL_LAST)
        pattern = rng.random()
        if pattern < 0.4:
            e = f"user{n}@example.com"
        elif pattern < 0.7:
            e = f"{first}.{last}{rng.randint(1, 99)}@example.com"
        elif pattern < 0.85:
            e = f"{first[0]}{last}{rng.randint(70, 2005)}@example.org"
        else:
            e = f"{first}_{rng.randint(100, 999)}@example.net"
        if e not in used:
            used[e] = True
            return e


def _lognormal_hours(
    rng: random.Random, median: float, sigma: float, lo: float, hi: float
) -> float:
    return min(hi, max(lo, rng.lognormvariate(math.log(median), sigma)))


def _crm_entry_days(rng: random.Random) -> list[int]:
    weights = []
    for i in range(DAYS):
        d = _day(i)
        w = (1.0 if d.weekday() < 5 else 0.82) * (1 + 0.3 * i / (DAYS - 1))
        if date(2026, 9, 15) <= d <= date(2026, 9, 28):
            w *= 1.2
        weights.append(w)
    return rng.choices(range(DAYS), weights=weights, k=N_CUSTOMERS)


def generate_crm(rng: random.Random) -> tuple[list[Event], dict[str, int]]:
    """Customer journeys; events after the export cut-off are not in the export."""
    used: dict[str, bool] = {}
    events: list[Event] = []
    notes = Counter[str]()
    entry_days = _crm_entry_days(rng)
    names = list(CHANNELS)
    incident_from_utc = INCIDENT_START.astimezone(UTC)
    for n, day_index in enumerate(entry_days, start=1):
        ch_name = rng.choices(names, weights=[CHANNELS[c].weight for c in names])[0]
        ch = CHANNELS[ch_name]
        campaign, message = rng.choice(ch.campaigns)
        j = _Journey(rng, _email(rng, 100 + n, used), ch_name, campaign, message)
        hour = rng.choices(range(24), weights=CRM_HOUR_WEIGHTS)[0]
        first = _local(_day(day_index), hour, rng.randint(0, 59), rng.randint(0, 59)).astimezone(
            UTC
        )
        j.add("site_visit", first)
        last_visit = first
        if rng.random() < P_REVISIT:
            notes["customers_with_revisits"] += 1
            for _ in range(rng.choice([1, 1, 2])):
                last_visit += timedelta(hours=rng.uniform(12, 12 * 24))
                if rng.random() < P_REVISIT_OTHER_CHANNEL:
                    other = rng.choice(
                        [c for c in ("yandex", "telegram_ads", "vk_ads", "google") if c != ch_name]
                    )
                    notes["revisits_other_channel"] += 1
                    camp2, msg2 = rng.choice(CHANNELS[other].campaigns)
                    j.add("site_visit", last_visit, source=other, campaign=camp2, message=msg2)
                else:
                    j.add("site_visit", last_visit)

        ordered_at: datetime | None = None
        if rng.random() < ch.p_lead:
            lead_at = last_visit + timedelta(hours=_lognormal_hours(rng, 8, 1.2, 0.1, 7 * 24))
            j.add("lead", lead_at)
            if rng.random() < P_SECOND_LEAD:
                j.add("lead", lead_at + timedelta(hours=rng.uniform(1, 72)))
                notes["second_leads"] += 1
            if rng.random() < ch.p_order:
                ordered_at = lead_at + timedelta(hours=_lognormal_hours(rng, 36, 0.9, 0.5, 10 * 24))
        elif rng.random() < P_DIRECT_ORDER:
            ordered_at = last_visit + timedelta(hours=_lognormal_hours(rng, 24, 0.9, 0.5, 10 * 24))
            notes["orders_without_lead"] += 1

        if ordered_at is not None:
            j.add("order_paid", ordered_at, amount=_pick(rng, ORDER_AMOUNTS))
            has_ticket = rng.random() < ch.p_ticket
            renews = rng.random() < (ch.p_renewal if has_ticket else P_RENEWAL_WITHOUT_TICKET)
            if has_ticket:
                # First ticket before the renewal date: the designed funnel is sequential.
                t = ordered_at + timedelta(hours=_lognormal_hours(rng, 96, 0.8, 2, 13 * 24))
                subject = rng.choice(TICKETS[_pick(rng, TICKET_WEIGHTS)])
                touch = None
                due = (
                    incident_from_utc - timedelta(days=2)
                    <= t
                    < incident_from_utc + timedelta(days=4)
                )
                recent = timedelta(hours=12) < incident_from_utc - ordered_at < timedelta(days=13)
                if due and recent and rng.random() < P_INCIDENT_TICKET:
                    # The outage shows up in the CRM too: tickets due around it come in during it.
                    t = incident_from_utc + timedelta(
                        minutes=rng.randint(0, 179), seconds=rng.randint(0, 59)
                    )
                    subject = rng.choice(INCIDENT_TICKETS)
                    touch = rng.choice(["app", "call_center"])
                    notes["incident_tickets"] += 1
                j.add("support_ticket", t, message=subject, touchpoint=touch)
                if rng.random() < P_EXTRA_TICKETS:
                    for _ in range(rng.choice([1, 1, 2])):
                        t += timedelta(hours=rng.uniform(20, 6 * 24))
                        j.add(
                            "support_ticket",
                            t,
                            message=rng.choice(TICKETS[_pick(rng, TICKET_WEIGHTS)]),
                        )
                        notes["extra_tickets"] += 1
            elif renews:
                notes["renewals_without_ticket"] += 1
            if renews:
                r_at = ordered_at + timedelta(days=RENEWAL_AFTER_DAYS, minutes=rng.randint(0, 600))
                j.add("renewal", r_at, message=RENEWAL_MESSAGE, amount=_pick(rng, RENEWAL_AMOUNTS))

        journey = j.events
        # A few CRMs store the same e-mail with different case or stray spaces.
        if len(journey) > 1 and rng.random() < 0.03:
            k = rng.randrange(1, len(journey))
            journey[k].email = rng.choice([j.email.upper(), j.email.title(), f" {j.email} "])
            notes["email_case_variants"] += 1
        kept = [e for e in journey if e.at < PERIOD_END_UTC]
        notes["events_after_cutoff"] += len(journey) - len(kept)
        events.extend(kept)
    events.sort(key=lambda e: (e.at, e.email.strip().lower(), STAGE_EVENTS.index(e.type)))
    return events, dict(sorted(notes.items()))


def _iso_utc(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def funnel(
    events: Sequence[Event],
    window_days: int = 90,
    first_visit_before: datetime | None = None,
    groups: Mapping[str, str] | None = None,
) -> dict[str, dict[str, float | int]]:
    """Pairwise stage conversion per entry channel (and "all"), or per group of
    ``groups`` (customer -> group, e.g. the planted segments) when given.

    Definition (the one the marts should reproduce): a customer is the e-mail
    trimmed and lower-cased; their channel is the utm_source of their first
    event; entered(A) = customers with an A event; converted(A->B) = those with a
    B event after their first A event and within ``window_days`` of it.
    """
    by_customer: dict[str, list[Event]] = {}
    for e in events:
        by_customer.setdefault(e.email.strip().lower(), []).append(e)
    out: dict[str, dict[str, float | int]] = {}
    window = timedelta(days=window_days)
    keys = sorted(set(groups.values())) if groups is not None else list(CHANNELS)
    for key in [*keys, "all"]:
        stats: Counter[str] = Counter()
        for customer, evs in by_customer.items():
            evs = sorted(evs, key=lambda e: e.at)
            group = groups.get(customer) if groups is not None else evs[0].utm_source
            if key != "all" and group != key:
                continue
            if first_visit_before is not None and evs[0].at >= first_visit_before:
                continue
            stats["customers"] += 1
            firsts: dict[str, datetime] = {}
            for e in evs:
                firsts.setdefault(e.type, e.at)
            for a, b in itertools.pairwise(STAGE_EVENTS):
                if a in firsts:
                    stats[f"entered:{a}"] += 1
                    if any(e.type == b and firsts[a] <= e.at <= firsts[a] + window for e in evs):
                        stats[f"converted:{a}->{b}"] += 1
            if "renewal" in firsts:
                stats["entered:renewal"] += 1
        row: dict[str, float | int] = {"customers": stats["customers"]}
        for a, b in itertools.pairwise(STAGE_EVENTS):
            entered, conv = stats[f"entered:{a}"], stats[f"converted:{a}->{b}"]
            row[f"{a}->{b}"] = round(conv / entered, 4) if entered else 0.0
            row[f"{a}->{b}:entered"] = entered
            row[f"{a}->{b}:converted"] = conv
        row["customers_with_renewal"] = stats["entered:renewal"]
        out[key] = row
    return out


# --------------------------------------------------------------------------- segments
# Planted with a stream of their own (f"{seed}-seg"), after everything else is drawn, so
# the journeys, texts and every number above stay as they were. Customers: a segment
# that depends on the outcome (vip customers are likelier among those whose lead was
# followed by an order: their lead -> order_paid rate is planted far above mass), a
# region drawn evenly (two of them written as a city: the marts read them as the
# region), a product from the order amount. Listening rows: a Регион column in which
# Республика Татарстан carries a planted high share of the negative mentions.
VIP = "vip"
MASS = "mass"
P_VIP = {"lead_and_order": 0.5, "lead_only": 0.1, "no_lead": 0.2}
CRM_REGIONS = ("Москва", "Санкт-Петербург", "Казань", "Новосибирск")
# the region a CRM or export value is read as (the gazetteer's grain: federal subjects)
REGION_OF = {
    "Москва": "Москва",
    "Санкт-Петербург": "Санкт-Петербург",
    "Казань": "Республика Татарстан",
    "Республика Татарстан": "Республика Татарстан",
    "Новосибирск": "Новосибирская область",
}
PRODUCT_OF_AMOUNT = {299.0: "Finly Премиум", 2990.0: "Finly Премиум", 990.0: "Карта Finly"}
REGION_COLUMN = "Регион"
P_TATARSTAN = {"negative": 0.40, "other": 0.08}  # listening rows by designed sentiment
OTHER_LISTENING_REGIONS = {"Москва": 0.45, "Санкт-Петербург": 0.25, "": 0.30}


@dataclass
class CustomerSegments:
    segment: str
    region: str


def plant_customer_segments(
    rng: random.Random, events: Sequence[Event]
) -> dict[str, CustomerSegments]:
    """Customer (e-mail trimmed, lower-cased) -> segment and region, in order of first event."""
    types: dict[str, set[str]] = {}
    for e in events:
        types.setdefault(e.email.strip().lower(), set()).add(e.type)
    out = {}
    for customer, kinds in types.items():
        if "lead" not in kinds:
            p = P_VIP["no_lead"]
        else:
            p = P_VIP["lead_and_order" if "order_paid" in kinds else "lead_only"]
        segment = VIP if rng.random() < p else MASS
        out[customer] = CustomerSegments(segment, rng.choice(CRM_REGIONS))
    return out


def plant_listening_regions(rng: random.Random, rows: Sequence[Mention]) -> list[str]:
    """The Регион cell of each listening row (one draw pair per row, in file order)."""
    out = []
    for m in rows:
        tatarstan = rng.random() < P_TATARSTAN["negative" if m.sentiment == "negative" else "other"]
        if tatarstan:
            out.append(rng.choice(["Казань", "Республика Татарстан"]))
        else:
            out.append(_pick(rng, OTHER_LISTENING_REGIONS))
    return out


def _segment_summary(
    events: Sequence[Event],
    customers: Mapping[str, CustomerSegments],
    listening: Sequence[Mention],
    regions: Sequence[str],
) -> dict[str, object]:
    by_region: dict[str, Counter[str]] = {}
    for m, cell in zip(listening, regions, strict=True):
        if m.signal == "off_brand" or m.signal.startswith("broken:"):
            continue
        c = by_region.setdefault(REGION_OF.get(cell, "") or "-", Counter())
        c["genuine"] += 1
        c["negative"] += m.sentiment == "negative"
    return {
        "designed": {"p_vip": P_VIP, "p_tatarstan": P_TATARSTAN},
        "customers_by_segment": dict(
            sorted(Counter(c.segment for c in customers.values()).items())
        ),
        "customers_by_region": dict(
            sorted(Counter(REGION_OF[c.region] for c in customers.values()).items())
        ),
        "funnel_by_segment": funnel(events, groups={k: c.segment for k, c in customers.items()}),
        "listening_by_region": {
            region: {
                **dict(sorted(c.items())),
                "negative_share": round(c["negative"] / c["genuine"], 4),
            }
            for region, c in sorted(by_region.items())
        },
    }


# --------------------------------------------------------------------------- writing


def _write_listening(
    path: Path, rows: Sequence[Mention], regions: Sequence[str]
) -> list[dict[str, object]]:
    """Write the CSV; return where each broken row landed (record and physical line)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "body", "date", "author", "platform", "link", REGION_COLUMN])
    line = 2
    broken = []
    first_line: dict[str, int] = {}
    for record, (m, region) in enumerate(zip(rows, regions, strict=True), start=1):
        date_text = (
            m.date_text if m.date_text is not None else m.published.strftime(LISTENING_TS_FORMAT)
        )
        if m.signal.startswith("broken:"):
            broken.append(
                {
                    "record": record,
                    "line": line,
                    "id": m.native_id,
                    "kind": m.signal.removeprefix("broken:"),
                    "date": date_text,
                    "detail": m.note,
                }
            )
            if m.signal == "broken:duplicate_id":
                broken[-1]["duplicate_of_line"] = first_line[m.native_id]
        if m.native_id:
            first_line.setdefault(m.native_id, line)
        before = buf.tell()
        w.writerow([m.native_id, m.text, date_text, m.author, m.channel, m.url, region])
        line += buf.getvalue()[before:].count("\n")
    path.write_text(buf.getvalue(), encoding="utf-8")
    return broken


def _write_media(path: Path, items: Sequence[MediaItem]) -> None:
    lines = [
        json.dumps(
            {
                "guid": it.mention.native_id,
                "title": it.mention.title,
                "summary": it.mention.text,
                "published": it.published_text,
                "link": it.mention.url,
                "outlet": it.outlet,
            },
            ensure_ascii=False,
        )
        for it in items
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


CRM_SCHEMA = pa.schema(
    [
        ("event_uid", pa.string()),
        ("contact_email", pa.string()),
        ("type", pa.string()),
        ("created_at", pa.string()),
        ("utm_source", pa.string()),
        ("utm_campaign", pa.string()),
        ("touchpoint", pa.string()),
        ("message", pa.string()),
        ("amount", pa.float64()),
        # planted segments (plant_customer_segments): the demo config maps them
        ("segment", pa.string()),
        ("region", pa.string()),
        ("product", pa.string()),
    ]
)


def _write_crm(
    path: Path, events: Sequence[Event], customers: Mapping[str, CustomerSegments]
) -> None:
    cols: dict[str, list[object]] = {name: [] for name in CRM_SCHEMA.names}
    for i, e in enumerate(events, start=1):
        planted = customers[e.email.strip().lower()]
        for name, value in (
            ("event_uid", f"evt-{i:06d}"),
            ("contact_email", e.email),
            ("type", e.type),
            ("created_at", _iso_utc(e.at)),
            ("utm_source", e.utm_source),
            ("utm_campaign", e.utm_campaign),
            ("touchpoint", e.touchpoint),
            ("message", e.message),
            ("amount", e.amount),
            ("segment", planted.segment),
            ("region", planted.region),
            ("product", PRODUCT_OF_AMOUNT.get(e.amount) if e.amount is not None else None),
        ):
            cols[name].append(value)
    table = pa.Table.from_pydict(cols, schema=CRM_SCHEMA)
    pq.write_table(table, path, compression="zstd")


def _write_labels(path: Path, rows: Sequence[Mention]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "source",
            "record",
            "native_id",
            "published_at_utc",
            "lang",
            "stage",
            "topic",
            "sentiment",
            "signal",
        ]
    )
    for record, m in enumerate(rows, start=1):
        w.writerow(
            [
                m.source,
                record,
                m.native_id,
                _iso_utc(m.published),
                m.lang,
                m.stage,
                m.topic,
                m.sentiment,
                m.signal,
            ]
        )
    path.write_text(buf.getvalue(), encoding="utf-8")


def market_customers(rows: Sequence[Mention]) -> list[market.Customer]:
    """The export's customer mentions Finly's support may answer (cjm/demo/market.py):
    genuine posts on the platforms read from the file (not Telegram), neither reposts
    nor broken rows, with an id, a link and a wording no other row shares, and no link
    in the text (a shared link makes posts one story)."""
    ids = Counter(m.native_id for m in rows)
    links = Counter(m.url for m in rows)
    bodies = Counter(market.wording(m.text) for m in rows)
    return [
        market.Customer(m.native_id, m.published.replace(second=0, microsecond=0), m.channel, m.url)
        for m in rows
        if m.channel in market.SUPPORT_ACCOUNT
        and m.signal in ("", "churn", "sarcasm")
        and m.date_text is None
        and m.native_id
        and "finly.app" not in m.text.lower()
        and "://" not in m.text
        and ids[m.native_id] == links[m.url] == bodies[market.wording(m.text)] == 1
    ]


def _incident_summary(all_mentions: Sequence[Mention]) -> dict[str, object]:
    valid = [
        m for m in all_mentions if not m.signal.startswith("broken:") and m.signal != "off_brand"
    ]
    negatives = [m for m in valid if m.sentiment == "negative"]
    in_window = [m for m in negatives if in_incident(m.published)]
    incident = [m for m in in_window if m.signal == "incident"]
    per_hour: Counter[datetime] = Counter(_hour_key(m.published) for m in negatives)
    outside = [
        c
        for h, c in per_hour.items()
        if not (INCIDENT_START.astimezone(UTC) <= h < INCIDENT_END.astimezone(UTC))
    ]
    return {
        "window_msk": [INCIDENT_START.isoformat(), INCIDENT_END.isoformat()],
        "window_utc": [_iso_utc(INCIDENT_START), _iso_utc(INCIDENT_END)],
        "description": "app login fails (error 503, no SMS code), cards declined, support silent",
        "incident_mentions": len(incident),
        "incident_per_hour_msk": {
            f"{(INCIDENT_START + timedelta(hours=h)):%H:00}": c
            for h, c in enumerate(INCIDENT_PER_HOUR)
        },
        "incident_by_lang": dict(sorted(Counter(m.lang for m in incident).items())),
        "incident_by_topic": dict(sorted(Counter(m.topic for m in incident).items())),
        "incident_by_platform": dict(sorted(Counter(m.channel for m in incident).items())),
        "baseline_negatives_in_window": len(in_window) - len(incident),
        "negatives_in_window_total": len(in_window),
        "negatives_per_window_hour": [
            per_hour[_hour_key(INCIDENT_START + timedelta(hours=h))]
            for h in range(len(INCIDENT_PER_HOUR))
        ],
        "max_negatives_in_any_other_hour": max(outside),
        "negative_cap_per_hour_outside": NEGATIVE_CAP_PER_HOUR,
    }


def generate(out: Path, truth: Path | None = None, seed: int = SEED) -> dict[str, object]:
    """Write the three demo sources into ``out`` and the answers into ``truth``."""
    out = Path(out)
    truth = Path(truth) if truth is not None else out.parent / "truth"
    out.mkdir(parents=True, exist_ok=True)
    truth.mkdir(parents=True, exist_ok=True)
    budget = NegativeBudget()
    media = generate_media(random.Random(f"{seed}-media"), budget)
    listening = generate_listening(random.Random(f"{seed}-listening"), budget, media)
    listening = assign_ids_and_break(random.Random(f"{seed}-ids"), listening)
    events, crm_notes = generate_crm(random.Random(f"{seed}-crm"))
    seg_rng = random.Random(f"{seed}-seg")
    customers = plant_customer_segments(seg_rng, events)
    regions = plant_listening_regions(seg_rng, listening)

    market_rows, market_truth = market.generate_market(
        random.Random(f"{seed}-market"),
        market_customers(listening),
        datetime.combine(START, datetime.min.time(), MSK),
        DAYS,
    )
    market.write_market(out / market.MARKET_FILE, market_rows)
    social_api.write_social_api(out / social_api.SOCIAL_API_FILE)

    broken = _write_listening(out / LISTENING_FILE, listening, regions)
    _write_media(out / MEDIA_FILE, media)
    _write_crm(out / CRM_FILE, events, customers)
    media_mentions = [it.mention for it in media]
    _write_labels(truth / "mention_labels.csv", [*listening, *media_mentions])

    genuine = [
        m for m in listening if m.signal != "off_brand" and not m.signal.startswith("broken:")
    ]
    mature_before = datetime(2026, 9, 26, tzinfo=UTC)
    summary: dict[str, object] = {
        "seed": seed,
        "period_msk": [_day(0).isoformat(), _day(DAYS - 1).isoformat()],
        "files": {
            LISTENING_FILE: {
                "records": len(listening),
                "bytes": (out / LISTENING_FILE).stat().st_size,
            },
            MEDIA_FILE: {"records": len(media), "bytes": (out / MEDIA_FILE).stat().st_size},
            CRM_FILE: {"records": len(events), "bytes": (out / CRM_FILE).stat().st_size},
            market.MARKET_FILE: {
                "records": len(market_rows),
                "bytes": (out / market.MARKET_FILE).stat().st_size,
            },
        },
        "listening": {
            "records": len(listening),
            "genuine": len(genuine),
            "off_brand": sum(m.signal == "off_brand" for m in listening),
            "broken": len(broken),
            "multi_line_bodies": sum("\n" in m.text for m in listening),
            "by_stage": dict(sorted(Counter(m.stage for m in genuine).items())),
            "by_sentiment": dict(sorted(Counter(m.sentiment for m in genuine).items())),
            "by_lang": dict(sorted(Counter(m.lang for m in genuine).items())),
            "by_platform": dict(sorted(Counter(m.channel for m in genuine).items())),
            "by_signal": dict(sorted(Counter(m.signal or "-" for m in genuine).items())),
        },
        "media": {
            "records": len(media),
            "by_sentiment": dict(sorted(Counter(m.sentiment for m in media_mentions).items())),
            "by_lang": dict(sorted(Counter(m.lang for m in media_mentions).items())),
        },
        "incident": _incident_summary([*listening, *media_mentions]),
        "market": market_truth,
        "broken_rows": broken,
        "crm": {
            "customers": len({e.email.strip().lower() for e in events}),
            "events": len(events),
            "by_type": dict(sorted(Counter(e.type for e in events).items())),
            "notes": crm_notes,
            "designed": {
                name: {
                    "weight": c.weight,
                    "site_visit->lead": c.p_lead,
                    "lead->order_paid": c.p_order,
                    "order_paid->support_ticket": c.p_ticket,
                    "support_ticket->renewal": c.p_renewal,
                }
                for name, c in CHANNELS.items()
            },
            "realised_all": funnel(events),
            "realised_mature_cohort": {
                "first_event_before": _iso_utc(mature_before),
                "rates": funnel(events, first_visit_before=mature_before),
            },
        },
    }
    summary["segments"] = _segment_summary(events, customers, listening, regions)
    (truth / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path("demo/inbox"), help="folder for the sources"
    )
    parser.add_argument(
        "--truth", type=Path, default=None, help="folder for the answers (default: <out>/../truth)"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    summary = generate(args.out, args.truth, args.seed)
    files = summary["files"]
    assert isinstance(files, dict)
    for name, info in files.items():
        print(f"{args.out / name}: {info['records']} records, {info['bytes']:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
