"""Alert texts in English and Russian, rendered for each kind of target.

One `Message` holds every rendering (plain text, HTML for e-mail and Telegram,
Slack blocks, a JSON body for webhooks) so a target picks what it can show and
all targets say the same thing.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from cjm.alerts.incidents import Incident

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "subject": "Negative spike: {brand}, {negatives} negative mentions since {start} UTC",
        "subject_update": "Update, negative spike over: {brand}, {negatives} negative mentions",
        "headline": (
            "{brand}: {negatives} negative mentions in {hours} h from {start} UTC, "
            "≈{baseline} expected."
        ),
        "headline_update": (
            "Update: the {brand} incident from {start} UTC is over: {negatives} negative "
            "mentions in {hours} h (≈{baseline} expected); the first alert counted "
            "{first_negatives}."
        ),
        "peak": "Peak: {peak} at {peak_at} UTC (expected ≈{peak_baseline}, threshold {threshold}).",
        "topics": "Top negative topics",
        "sources": "Sources",
        "examples": "Examples",
        "report": "Report",
        "none": "none",
    },
    "ru": {
        "subject": "Всплеск негатива: {brand}, {negatives} негативных упоминаний с {start} UTC",
        "subject_update": (
            "Обновление, всплеск негатива закончился: {brand}, {negatives} упоминаний"
        ),
        "headline": (
            "{brand}: {negatives} негативных упоминаний за {hours} ч с {start} UTC, "
            "обычно ≈{baseline}."
        ),
        "headline_update": (
            "Обновление: инцидент {brand} с {start} UTC закончился: {negatives} негативных "
            "упоминаний за {hours} ч (обычно ≈{baseline}); в первом оповещении было "
            "{first_negatives}."
        ),
        "peak": "Пик: {peak} в {peak_at} UTC (обычно ≈{peak_baseline}, порог {threshold}).",
        "topics": "Главные темы негатива",
        "sources": "Источники",
        "examples": "Примеры",
        "report": "Отчёт",
        "none": "нет",
    },
}


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str
    slack_blocks: list[dict[str, Any]]
    body: dict[str, Any]  # the webhook's JSON


def report_link(template: str | None, incident: Incident) -> str | None:
    """The configured report URL with {brand} and {date} filled in (URL-quoted)."""
    if not template:
        return None
    return template.replace("{brand}", quote(incident.brand)).replace(
        "{date}", incident.start.strftime("%Y-%m-%d")
    )


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def _short(text: str, limit: int = 200) -> str:
    one_line = " ".join((text or "").split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def render(
    incident: Incident,
    language: str,
    kind: str,
    report_url: str | None,
    first_negatives: int | None = None,
) -> Message:
    """Render one alert. kind is 'incident' (the first alert) or 'update' (once, when an
    incident that grew after its first alert is over)."""
    t = TEXTS.get(language, TEXTS["en"])
    hours = incident.spike_buckets * incident.bucket_hours
    fmt = {
        "brand": incident.brand,
        "negatives": incident.negative_mentions,
        "start": incident.start.strftime("%Y-%m-%d %H:%M"),
        "hours": hours,
        "baseline": _num(round(incident.baseline, 1)),
        "first_negatives": first_negatives if first_negatives is not None else "?",
        "peak": incident.peak_negative_mentions,
        "peak_at": incident.peak_at.strftime("%Y-%m-%d %H:%M"),
        "peak_baseline": _num(round(incident.peak_baseline, 1)),
        "threshold": _num(round(incident.threshold, 1)),
    }
    update = kind == "update"
    subject = t["subject_update" if update else "subject"].format(**fmt)
    headline = t["headline_update" if update else "headline"].format(**fmt)
    peak = t["peak"].format(**fmt)
    topics = ", ".join(f"{name} ({n})" for name, n in incident.topics) or t["none"]
    sources = ", ".join(f"{name} ({n})" for name, n in incident.sources) or t["none"]
    link = report_link(report_url, incident)

    lines = [headline, peak, f"{t['topics']}: {topics}", f"{t['sources']}: {sources}"]
    if incident.examples:
        lines.append(f"{t['examples']}:")
        for e in incident.examples:
            lines.append(f"— «{_short(e.text)}» ({e.source}) {e.url or ''}".rstrip())
    if link:
        lines.append(f"{t['report']}: {link}")
    text = "\n".join(lines)

    esc = html.escape
    html_lines = [
        f"<b>{esc(headline)}</b>",
        esc(peak),
        f"{esc(t['topics'])}: {esc(topics)}",
        f"{esc(t['sources'])}: {esc(sources)}",
    ]
    if incident.examples:
        html_lines.append(f"{esc(t['examples'])}:")
        for e in incident.examples:
            quote_ = f"«{esc(_short(e.text))}» ({esc(e.source)})"
            html_lines.append(
                f'— <a href="{esc(e.url, quote=True)}">{quote_}</a>' if e.url else f"— {quote_}"
            )
    if link:
        html_lines.append(f'<a href="{esc(link, quote=True)}">{esc(t["report"])}</a>')
    html_text = "\n".join(html_lines)

    def mrkdwn(s: str) -> str:  # Slack escapes only these three
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    example_lines = [
        f"• <{e.url}|{mrkdwn(_short(e.text, 150))}> ({mrkdwn(e.source)})"
        if e.url
        else f"• {mrkdwn(_short(e.text, 150))} ({mrkdwn(e.source)})"
        for e in incident.examples
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{mrkdwn(headline)}*"}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "\n".join(
                    [
                        mrkdwn(peak),
                        f"*{t['topics']}:* {mrkdwn(topics)}",
                        f"*{t['sources']}:* {mrkdwn(sources)}",
                    ]
                ),
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
