"""Alert texts in English and Russian, rendered for each kind of target.

One `Message` holds every rendering (plain text, HTML for e-mail and Telegram,
Slack blocks, a JSON body for webhooks) so a target picks what it can show and
all targets say the same thing.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from cjm.alerts.incidents import Incident
from cjm.core.labels import Labels, count_of

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "subject": "Negative spike: {brand}, {negatives} since {start}",
        "subject_update": "Update, negative spike over: {brand}, {negatives}",
        "headline": "{brand}: {negatives} in {hours} h from {start}, ≈{baseline} expected.",
        "headline_update": (
            "Update: the {brand} incident from {start} is over: {negatives} in {hours} h "
            "(≈{baseline} expected); the first alert counted {first_negatives}."
        ),
        "peak": "Peak: {peak} at {peak_at} (expected ≈{peak_baseline}, threshold {threshold}).",
        "stage": "Stage",
        "topics": "Top negative topics",
        "sites": "Where",
        "reach": "Reach",
        "examples": "Examples",
        "report": "Report",
        "none": "none",
    },
    "ru": {
        "subject": "Всплеск негатива: {brand}, {negatives} с {start}",
        "subject_update": "Обновление, всплеск негатива закончился: {brand}, {negatives}",
        "headline": "{brand}: {negatives} за {hours} ч с {start}, обычно ≈{baseline}.",
        "headline_update": (
            "Обновление: инцидент {brand} с {start} закончился: {negatives} за {hours} ч "
            "(обычно ≈{baseline}); в первом оповещении было {first_negatives}."
        ),
        "peak": "Пик: {peak} в {peak_at} (обычно ≈{peak_baseline}, порог {threshold}).",
        "stage": "Этап",
        "topics": "Главные темы негатива",
        "sites": "Площадки",
        "reach": "Охват",
        "examples": "Примеры",
        "report": "Отчёт",
        "none": "нет",
    },
}

# The counted nouns, in the form count_of agrees with the number.
NOUNS: dict[str, dict[str, str]] = {
    "en": {"negatives": "negative mention", "views": "view"},
    "ru": {"negatives": "негативное упоминание", "views": "просмотр"},
}


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str
    slack_blocks: list[dict[str, Any]]
    body: dict[str, Any]  # the webhook's JSON


def report_link(base_url: str | None, brand: str) -> str | None:
    """The brand's page of the CJM report (`cjm report` writes one `<brand>.html` per
    brand) under the configured base URL; no link when none is configured."""
    if not base_url:
        return None
    return f"{base_url.rstrip('/')}/{quote(brand)}.html"


def local_time(at: datetime, timezone: str) -> str:
    """A time as the team reads it: wall clock of the reporting zone, with its name."""
    local = at.astimezone(ZoneInfo(timezone))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def _short(text: str, limit: int = 200) -> str:
    one_line = " ".join((text or "").split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def render(
    incident: Incident,
    language: str,
    kind: str,
    report_base_url: str | None,
    first_negatives: int | None = None,
    labels: Labels | None = None,
    timezone: str = "UTC",
) -> Message:
    """Render one alert. kind is 'incident' (the first alert) or 'update' (once, when an
    incident that grew after its first alert is over). Codes are shown as `labels` of
    the message's language, times in `timezone`."""
    language = language if language in TEXTS else "en"
    t = TEXTS[language]
    label = labels if labels is not None else Labels(language)
    hours = incident.spike_buckets * incident.bucket_hours
    fmt = {
        "brand": incident.brand,
        "negatives": count_of(incident.negative_mentions, NOUNS[language]["negatives"], language),
        "start": local_time(incident.start, timezone),
        "hours": hours,
        "baseline": _num(round(incident.baseline, 1)),
        "first_negatives": first_negatives if first_negatives is not None else "?",
        "peak": incident.peak_negative_mentions,
        "peak_at": local_time(incident.peak_at, timezone),
        "peak_baseline": _num(round(incident.peak_baseline, 1)),
        "threshold": _num(round(incident.threshold, 1)),
    }
    update = kind == "update"
    subject = t["subject_update" if update else "subject"].format(**fmt)
    headline = t["headline_update" if update else "headline"].format(**fmt)
    peak = t["peak"].format(**fmt)
    topics = ", ".join(f"{label('topic', name)} ({n})" for name, n in incident.topics) or t["none"]
    sites = ", ".join(f"{label('channel', name)} ({n})" for name, n in incident.sites) or t["none"]
    facts = []
    if incident.stage:
        facts.append(f"{t['stage']}: {label('stage', incident.stage)}")
    facts += [f"{t['topics']}: {topics}", f"{t['sites']}: {sites}"]
    if incident.reach is not None:
        facts.append(
            f"{t['reach']}: {count_of(incident.reach, NOUNS[language]['views'], language)}"
        )
    link = report_link(report_base_url, incident.brand)

    lines = [headline, peak, *facts]
    if incident.examples:
        lines.append(f"{t['examples']}:")
        for e in incident.examples:
            lines.append(
                f"— «{_short(e.text)}» ({label('channel', e.site)}) {e.url or ''}".rstrip()
            )
    if link:
        lines.append(f"{t['report']}: {link}")
    text = "\n".join(lines)

    esc = html.escape
    html_lines = [
        f"<b>{esc(headline)}</b>",
        esc(peak),
        *(esc(fact) for fact in facts),
    ]
    if incident.examples:
        html_lines.append(f"{esc(t['examples'])}:")
        for e in incident.examples:
            quote_ = f"«{esc(_short(e.text))}» ({esc(label('channel', e.site))})"
            html_lines.append(
                f'— <a href="{esc(e.url, quote=True)}">{quote_}</a>' if e.url else f"— {quote_}"
            )
    if link:
        html_lines.append(f'<a href="{esc(link, quote=True)}">{esc(t["report"])}</a>')
    html_text = "\n".join(html_lines)

    def mrkdwn(s: str) -> str:  # Slack escapes only these three
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    example_lines = [
        f"• <{e.url}|{mrkdwn(_short(e.text, 150))}> ({mrkdwn(label('channel', e.site))})"
        if e.url
        else f"• {mrkdwn(_short(e.text, 150))} ({mrkdwn(label('channel', e.site))})"
        for e in incident.examples
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{mrkdwn(headline)}*"}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "\n".join([mrkdwn(peak), *(mrkdwn(fact) for fact in facts)]),
            },
        },
    ]
    if example_lines:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"*{t['examples']}:*\n" + "\n".join(example_lines),
                },
            }
        )
    if link:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": f"<{link}|{t['report']}>"}}
        )

    body = {
        "event": "negative_spike.update" if update else "negative_spike",
        "language": language,
        "subject": subject,
        "text": text,
        "report_url": link,
        "incident": incident.to_json(),
    }
    return Message(subject=subject, text=text, html=html_text, slack_blocks=blocks, body=body)
