"""The words the report, the XLSX export and `cjm show` put around the data, in Russian
and English: one table, so a heading is translated once for all three.

The data's own words (stage names, topics, recommendations) come from the marts'
`*_label` columns (see `cjm.report.marts.shown`); these are only the page's frame.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("ru", "en")
FALLBACK_LANGUAGE = "en"  # a brand whose first language the report does not speak

# key → (Russian, English)
UI: dict[str, tuple[str, str]] = {
    "title": ("Карта пути клиента", "Customer Journey Map"),
    "generated": ("Сформирован", "Generated"),
    "source": ("Источник данных", "Data source"),
    "brands": ("Бренды", "Brands"),
    "board": ("Карта пути клиента по этапам", "The journey, stage by stage"),
    "funnel": ("Воронка: конверсия и время перехода", "Funnel: conversion and time to convert"),
    "timeline": ("Тональность по дням и всплески негатива", "Sentiment by day and negative spikes"),
    "flow": ("Путь по каналам и этапам", "Flow between channels and stages"),
    "keywords": ("Карта тем по тональности", "Topics by tonality"),
    "comm_map": ("Коммуникационная карта", "Communication map"),
    # CJM rows (board) and columns (XLSX, `cjm show`)
    "stage": ("Этап", "Stage"),
    "customer_actions": ("Действия клиента", "Customer actions"),
    "emotions": ("Эмоции", "Emotions"),
    "touchpoints": ("Точки контакта", "Touchpoints"),
    "barriers": ("Барьеры", "Barriers"),
    "opportunities": ("Возможности", "Opportunities"),
    "metrics": ("Метрики", "Metrics"),
    # communication map columns (the seed article's template)
    "channel": ("Канал", "Channel"),
    "touchpoint": ("Точка контакта", "Touchpoint"),
    "message": ("Сообщение", "Message"),
    "goal": ("Цель", "Goal"),
    "recommendation": ("Рекомендации", "Recommendations"),
    # metric phrases
    "m_mentions": ("упоминаний", "mentions"),
    "m_negative": ("негатив", "negative"),
    "m_next": ("переход дальше", "to next stage"),
    "m_median": ("медиана на этапе", "median in stage"),
    "m_customers": ("клиентов", "customers"),
    "m_conversion": ("конверсия в следующий этап", "conversion to next stage"),
    "m_net": ("чистая тональность", "net sentiment"),
    "hours": ("ч", "h"),
    "segment_unknown": ("сегмент не указан", "segment not known"),
    # charts
    "customers_entered": ("Клиентов вошло", "Customers entered"),
    "converted": ("перешли", "converted"),
    "time_to_convert": ("медиана времени перехода", "median time to convert"),
    "from_to": ("Переход", "Step"),
    "conversion": ("Конверсия", "Conversion"),
    "day": ("День", "Day"),
    "positive": ("Позитив", "Positive"),
    "neutral": ("Нейтрально", "Neutral"),
    "negative": ("Негатив", "Negative"),
    "spike": ("Всплеск негатива", "Negative spike"),
    "spikes_none": ("Всплесков негатива не было", "No negative spikes"),
    "spike_row": (
        "всплеск {start} — {end} UTC: негативных упоминаний — {n}",
        "spike {start} — {end} UTC: {n} negative mentions",
    ),
    # strftime / plotly (d3) formats of dates and times
    "date_axis": ("%d.%m", "%b %d"),
    "time": ("%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M"),
    "mentions_axis": ("Упоминаний", "Mentions"),
    "topic": ("Тема", "Topic"),
    "no_data": ("Нет данных", "No data"),
    # tonality legend
    "tone": ("Тональность (доля негатива)", "Tonality (negative share)"),
    "tone_negative": ("негатив ≥ 40%", "negative ≥ 40%"),
    "tone_mixed": ("смешанная 20–40%", "mixed 20–40%"),
    "tone_positive": ("негатив < 20%", "negative < 20%"),
    "tone_none": ("нет упоминаний", "no mentions"),
    "cjm_sheet": ("CJM", "CJM"),
    "comm_sheet": ("Коммуникации", "Communications"),
}


def text(key: str, language: str) -> str:
    ru, en = UI[key]
    return ru if language == "ru" else en


def brand_language(config: Any, brand: str, override: str | None = None) -> str:
    """The language a brand's people read: `--lang`, else the brand's `language` key,
    else its first `languages` entry; English when the report does not speak it."""
    if override:
        return override
    for b in getattr(config, "brands", None) or []:
        if b.name == brand:
            chosen = getattr(b, "language", None) or (b.languages[0] if b.languages else None)
            return chosen if chosen in LANGUAGES else FALLBACK_LANGUAGE
    return FALLBACK_LANGUAGE
