"""The demo's VK posts and Mastodon statuses (``inbox/social_api.json``), which the demo
server serves as VK's ``newsfeed.search`` and a Mastodon hashtag timeline for the
``rest_api`` sources (config/demo.yml ``vk_demo``, ``mastodon_demo``).

Small and written out here rather than drawn from the generator's random streams, so
adding them changes none of the other demo files: 12 posts and 10 statuses, three of
them the brand's replies (``in_reply_to``) to a customer's status.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SOCIAL_API_FILE = "social_api.json"
_START = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)
_FIRST_STATUS = 113300000000000100

# text, owner (author) id, likes, reposts, comments, views
VK_POSTS = [
    ("Finly вернул кэшбэк за кафе уже на следующий день, приятно", 1102, 11, 2, 1, 640),
    ("Финли опять не пускает в приложение после обновления, кто-то ещё?", 2231, 4, 0, 7, 410),
    (
        "Перевёл маме через Финли по номеру телефона — мгновенно и без комиссии",
        3307,
        22,
        3,
        2,
        1280,
    ),
    ("Почему Finly списал плату за обслуживание? Обещали бесплатно", 4410, 6, 1, 9, 930),
    ("Открыла карту Финли за 5 минут прямо в приложении", 5523, 15, 0, 3, 700),
    ("Finly премиум за 149 — окупается, если много тратить на такси", 6634, 3, 1, 4, 350),
    ("Поддержка Финли ответила за две минуты, вопрос решили", 7745, 18, 2, 0, 990),
    ("Карта Finly не сработала на кассе, пришлось платить наличными", 8856, 2, 0, 5, 240),
    ("Сравнил Финли и Монетто: у Финли кэшбэк честнее", 9967, 9, 4, 6, 1500),
    ("Финли, верните нормальную выписку в PDF, пожалуйста", 1078, 5, 0, 2, 300),
    ("Оформил металлическую карту Finly — выглядит круто", 2189, 27, 5, 3, 2100),
    ("Finly заблокировал перевод без объяснений, жду ответа второй день", 3290, 8, 2, 11, 1750),
]

# user, instance, followers, index of the status answered, text
STATUSES = [
    (
        "anna",
        "mastodon.social",
        210,
        None,
        "Switched my salary card to #finly — the app is fast and clean.",
    ),
    (
        "ivan",
        "fosstodon.org",
        1250,
        None,
        "Перевод через Finly висит второй день, деньги списали. #finly",
    ),
    (
        "finlyapp",
        "mastodon.social",
        5400,
        1,
        "@ivan спасибо, что написали! Проверили: перевод зачислен. #finly",
    ),
    ("olga", "mstdn.social", 95, None, "Finly cashback on cafés arrived instantly #finly"),
    ("dmitry", "mastodon.social", 430, None, "Финли, когда Apple Pay? #finly"),
    ("finlyapp", "mastodon.social", 5400, 4, "@dmitry уже в тесте, скоро расскажем #finly"),
    ("kate", "fosstodon.org", 60, None, "Does anyone use Finly abroad? Fees? #finly"),
    (
        "sergey",
        "mastodon.social",
        800,
        None,
        "Finly premium is worth it for the travel insurance alone #finly",
    ),
    ("lena", "mstdn.social", 120, None, "Приложение Финли вылетает на старом андроиде #finly"),
    (
        "finlyapp",
        "mastodon.social",
        5400,
        8,
        "@lena поправили в версии 3.2, обновитесь, пожалуйста #finly",
    ),
]


def _z(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def social_api() -> dict[str, list[dict[str, Any]]]:
    vk = [
        {
            "owner_id": owner,
            "id": 100 + i,
            "from_id": owner,
            "date": _z(_START + timedelta(hours=9 * i + 3)),
            "text": text,
            "likes": likes,
            "reposts": reposts,
            "comments": comments,
            "views": views,
        }
        for i, (text, owner, likes, reposts, comments, views) in enumerate(VK_POSTS)
    ]
    answered = {r[3] for r in STATUSES if r[3] is not None}
    mastodon = [
        {
            "id": str(_FIRST_STATUS + i),
            "user": user,
            "domain": domain,
            "followers": followers,
            "created_at": _z(_START + timedelta(hours=11 * i + 5)),
            "in_reply_to": None if reply is None else str(_FIRST_STATUS + reply),
            "text": text,
            "replies": int(i in answered),
            "reblogs": i % 3,
            "favourites": 2 + i * 3 % 7,
            "language": "ru" if any("а" <= c <= "я" for c in text.lower()) else "en",
        }
        for i, (user, domain, followers, reply, text) in enumerate(STATUSES)
    ]
    return {"vk": vk, "mastodon": mastodon}


def write_social_api(path: Path) -> int:
    """Write the file; returns the number of records."""
    data = social_api()
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return sum(len(v) for v in data.values())
