"""The demo's market: two competitors' mentions and Finly's replies to its customers.

``mentions_market.csv`` is a second listening export (same columns as
``mentions_listening.csv`` plus ``reply_to``, ``views`` and ``likes``), read by the
demo config's ``listening_market`` source, so the bundled files the other tests
count stay byte for byte as they were. It plants what the control-metric marts must
recover (tests/test_competitors_controls.py):

- **competitors** (config ``role: competitor``, market ``neobanks``): Монетто and
  Ладья Банк, a known number of mentions per platform and sentiment
  (marts.share_of_voice, keyword_map);
- **replies**: Finly's support account answers a known set of the export's customer
  mentions (VK, forum, Twitter rows) with known delays in whole minutes, some twice
  (only the first counts; marts.response_times);
- **reach / engagement**: every competitor row carries views and likes, mapped to
  the contract fields ``reach`` and ``engagement``.

Everything comes from its own random stream (``Random(f"{seed}-market")``), never from
the streams of the other files, so the rest of the demo does not move.
"""

from __future__ import annotations

import csv
import io
import math
import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

MARKET_FILE = "mentions_market.csv"
MARKET = "neobanks"
SUPPORT_ACCOUNT = {"vk": "Финли | Поддержка", "forum": "finly_support", "twitter": "@finly_help"}
COMPETITOR_MENTIONS = {"Монетто": 84, "Ладья Банк": 56}
COMPETITOR_PLATFORMS = {"vk": 0.45, "twitter": 0.30, "forum": 0.25}
COMPETITOR_SENTIMENT = {"negative": 0.35, "neutral": 0.35, "positive": 0.30}
ANSWERED = 60  # customer mentions Finly's support answers
ANSWERED_TWICE = 12  # of those, answered again later (the first reply is the one that counts)
MEDIAN_DELAY_MINUTES = 150  # the lognormal's median; the realised one is in the truth
TS_FORMAT = "%d.%m.%Y %H:%M"
MSK = ZoneInfo("Europe/Moscow")

# Plain, one-tonality sentences, so the planted sentiment is the one a reader sees.
COMPETITOR_TEXTS = {
    "negative": [
        "{c} опять заблокировал карту без объяснений, ужасно 😡",
        "Поддержка {c} не отвечает третий день, это кошмар",
        "{c} списал комиссию, которой не было в тарифе. Обман!",
        "Приложение {c} снова падает при входе, ненавижу",
        "Перевод в {c} завис на сутки, деньги пропали, отвратительно",
    ],
    "neutral": [
        "Сколько стоит обслуживание карты {c} в месяц?",
        "Подскажите, в {c} есть комиссия за снятие наличных?",
        "Сколько идёт карта {c} в {city}?",
        "В {c} можно открыть счёт без прописки?",
        "Какой лимит на переводы в {c} в месяц?",
    ],
    "positive": [
        "{c} — отличный банк, кэшбэк радует, всем советую 👍",
        "Открыл счёт в {c} за пять минут, очень доволен",
        "Поддержка {c} помогла за минуту, спасибо им огромное!",
        "Обожаю приложение {c}, удобно и красиво 😍",
        "Карту {c} привезли на следующий день, супер",
    ],
}
# Wording around the sentence that leaves its tonality alone.
OPENERS = ["", "Сегодня: ", "Вчера: ", "Кстати, ", "Из личного опыта: ", "Коротко: "]
TAILS = [
    "",
    " Пишу из Казани.",
    " Пишу из Самары.",
    " Пишу из Перми.",
    " Пишу из Твери.",
    " Пишу из Москвы.",
    " Пишу из Сочи.",
]
CITIES = ["Казань", "Самару", "Екатеринбург", "Новосибирск", "Краснодар", "Пермь", "Тверь"]
REPLY_TEXTS = [
    "Здравствуйте! Это поддержка Финли, спасибо, что написали 🙂 Ответили вам в личных "
    "сообщениях, обращение №{n}.",
    "Добрый день! Команда Финли на связи, спасибо за сообщение. Номер обращения {n}, "
    "детали в личке.",
    "Спасибо, что рассказали! Поддержка Финли уже занимается, обращение {n}.",
]
FOLLOW_UP = "Поддержка Финли снова на связи: всё готово по обращению {n}, спасибо за терпение!"


@dataclass(frozen=True)
class MarketRow:
    native_id: str
    text: str
    published: datetime  # aware, Moscow
    author: str
    platform: str
    url: str
    brand: str  # the brand the row is about, by design
    sentiment: str  # by design ("" for replies)
    reply_to: str = ""
    views: int | None = None
    likes: int | None = None


def wording(text: str) -> str:
    """The words of a text, as the story grouping compares them (cjm/enrichment/text.py)."""
    return " ".join(re.findall(r"[^\W\d_]+", text.lower()))


@dataclass(frozen=True)
class Customer:
    """A customer mention of the main export a reply may answer."""

    native_id: str
    published: datetime  # aware, minute precision (as the export prints it)
    platform: str
    url: str


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _competitor_rows(rng: random.Random, start: datetime, days: int) -> list[MarketRow]:
    rows: list[MarketRow] = []
    seen: set[str] = set()
    n = 0
    for brand, count in COMPETITOR_MENTIONS.items():
        for _ in range(count):
            n += 1
            sentiment = _pick(rng, COMPETITOR_SENTIMENT)
            platform = _pick(rng, COMPETITOR_PLATFORMS)
            # the same wording twice would be one story and its repost (cjm/enrichment/
            # text.py story_keys hashes the words): vary the words, not the punctuation
            while True:
                text = (
                    rng.choice(OPENERS)
                    + rng.choice(COMPETITOR_TEXTS[sentiment]).format(
                        c=brand, city=rng.choice(CITIES)
                    )
                    + rng.choice(TAILS)
                )
                key = wording(text)
                if key not in seen:
                    break
            seen.add(key)
            published = start + timedelta(minutes=rng.randrange(days * 24 * 60))
            author, url = _author_url(rng, platform, n)
            views = int(math.exp(rng.gauss(math.log(800), 1.0)))
            likes = rng.randint(0, max(1, views // 40))
            rows.append(
                MarketRow(
                    f"mk-{n:05d}", text, published, author, platform, url, brand, sentiment,
                    views=views, likes=likes,
                )
            )  # fmt: skip
    return rows


def _author_url(rng: random.Random, platform: str, n: int) -> tuple[str, str]:
    if platform == "vk":
        return (
            f"vk_user_{rng.randint(1000, 99999)}",
            f"https://vk.com/wall-{rng.randint(10**7, 10**8)}_{90000 + n}",
        )
    if platform == "twitter":
        handle = f"@user{rng.randint(100, 99999)}"
        return handle, f"https://twitter.com/{handle[1:]}/status/{3 * 10**18 + n}"
    return (
        f"forum_user_{rng.randint(100, 9999)}",
        f"https://forum.money-talk.example/t/{rng.randint(10000, 19999)}/{n}",
    )


def _replies(
    rng: random.Random, customers: Sequence[Customer], end: datetime
) -> tuple[list[MarketRow], list[dict[str, object]]]:
    """Finly's replies to ANSWERED customer mentions; returns the rows and the truth."""
    # the export's last days would leave no room for a slow reply before the cut-off
    candidates = [c for c in customers if c.published < end - timedelta(days=3)]
    chosen = sorted(rng.sample(candidates, ANSWERED), key=lambda c: (c.published, c.native_id))
    twice = set(rng.sample(range(ANSWERED), ANSWERED_TWICE))
    rows: list[MarketRow] = []
    truth: list[dict[str, object]] = []
    for i, c in enumerate(chosen):
        drawn = math.exp(rng.gauss(math.log(MEDIAN_DELAY_MINUTES), 0.9))
        delay = max(3, min(36 * 60, round(drawn)))  # whole minutes, as the export prints
        ticket = rng.randint(10000, 99999)
        replied = c.published + timedelta(minutes=delay)
        author = SUPPORT_ACCOUNT[c.platform]
        rows.append(
            MarketRow(
                f"mr-{i + 1:05d}", rng.choice(REPLY_TEXTS).format(n=ticket), replied, author,
                c.platform, f"{c.url}/reply-{i + 1}", "Finly", "", reply_to=c.url,
            )
        )  # fmt: skip
        if i in twice:
            later = replied + timedelta(minutes=rng.randint(60, 24 * 60))
            rows.append(
                MarketRow(
                    f"mr-{i + 1:05d}b", FOLLOW_UP.format(n=ticket), later, author, c.platform,
                    f"{c.url}/reply-{i + 1}b", "Finly", "", reply_to=c.url,
                )
            )  # fmt: skip
        truth.append({"native_id": c.native_id, "url": c.url, "delay_minutes": delay})
    return rows, truth


def generate_market(
    rng: random.Random, customers: Sequence[Customer], start: datetime, days: int
) -> tuple[list[MarketRow], dict[str, object]]:
    """The rows of mentions_market.csv (in time order) and what they plant."""
    competitors = _competitor_rows(rng, start, days)
    replies, answered = _replies(rng, customers, start + timedelta(days=days))
    rows = sorted([*competitors, *replies], key=lambda r: (r.published, r.native_id))
    delays = sorted(int(a["delay_minutes"]) for a in answered)  # type: ignore[call-overload]
    mid = len(delays) // 2
    median = (delays[mid - 1] + delays[mid]) / 2 if len(delays) % 2 == 0 else delays[mid]
    by_cell: Counter[tuple[str, str, str]] = Counter(
        (r.brand, r.platform, r.sentiment) for r in competitors
    )
    truth: dict[str, object] = {
        "file": MARKET_FILE,
        "records": len(rows),
        "market": MARKET,
        "competitors": {
            brand: {
                "mentions": sum(r.brand == brand for r in competitors),
                "negative": sum(
                    r.brand == brand and r.sentiment == "negative" for r in competitors
                ),
                "by_platform_sentiment": {
                    f"{p}/{s}": n for (b, p, s), n in sorted(by_cell.items()) if b == brand
                },
                "views": sum(r.views or 0 for r in competitors if r.brand == brand),
                "likes": sum(r.likes or 0 for r in competitors if r.brand == brand),
            }
            for brand in COMPETITOR_MENTIONS
        },
        "replies": {
            "account": SUPPORT_ACCOUNT,
            "answered": len(answered),
            "answered_twice": ANSWERED_TWICE,
            "reply_rows": len(replies),
            "median_delay_minutes": median,
            "answered_mentions": answered,
        },
    }
    return rows, truth


def write_market(path: Path, rows: Sequence[MarketRow]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "body", "date", "author", "platform", "link", "reply_to", "views", "likes"])
    for r in rows:
        w.writerow(
            [
                r.native_id,
                r.text,
                r.published.astimezone(MSK).strftime(TS_FORMAT),
                r.author,
                r.platform,
                r.url,
                r.reply_to,
                "" if r.views is None else r.views,
                "" if r.likes is None else r.likes,
            ]
        )
    path.write_text(buf.getvalue(), encoding="utf-8")
