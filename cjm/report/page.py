"""One self-contained HTML page per brand: the board, the funnel, the sentiment timeline
with spikes, the channel → stage flow, the topic map and the communication map.

Self-contained means nothing is fetched when the page is opened: plotly.js is inlined
once (with the first chart), styles are inline, no fonts or images are linked. A page
can be mailed, opened from a file share or from the BI server as it is.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pandas as pd
import plotly.graph_objects as go

from cjm.report.marts import NO_TONE, TONES, BrandMarts, shown, tone
from cjm.report.tables import CJM_COLUMNS, COMM_COLUMNS, Row, cjm_rows, comm_rows, headers, pct
from cjm.report.texts import text

TONE_COLOURS = {"positive": "#2e7d32", "neutral": "#9e9e9e", "negative": "#c62828"}
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}

STYLE = """
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:24px;color:#212121;background:#fff}
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:32px 0 8px}
.meta{color:#616161;font-size:13px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border:1px solid #bdbdbd;padding:6px;vertical-align:top;text-align:left;white-space:pre-line}
thead th{background:#37474f;color:#fff}
th.row-head{background:#eceff1;width:140px}
.legend span{display:inline-block;padding:2px 8px;margin-right:6px;
  border:1px solid #bdbdbd;font-size:12px}
nav a{margin-right:12px}
"""


def _esc(v: object) -> str:
    return html.escape(str(v))


def _legend(language: str) -> str:
    bands = [*((n, c) for _, n, c in TONES), NO_TONE]
    spans = "".join(
        f'<span class="tone-{n}" style="background:{c}">{_esc(text(f"tone_{n}", language))}</span>'
        for n, c in bands
    )
    return f'<p class="legend">{_esc(text("tone", language))}: {spans}</p>'


def _board(m: BrandMarts, language: str) -> str:
    rows = cjm_rows(m, language)
    head = "".join(
        f'<th class="stage-col" data-stage="{_esc(r.stage)}">{_esc(r.cells["stage"])}</th>'
        for r in rows
    )
    body = []
    for key in CJM_COLUMNS[1:]:
        cells = "".join(
            f'<td class="tone-{r.tone}" data-stage="{_esc(r.stage)}" '
            f'style="background:{r.fill}">{_esc(r.cells.get(key, "—"))}</td>'
            for r in rows
        )
        body.append(f'<tr data-row="{key}"><th class="row-head">{_esc(text(key, language))}</th>'
                    f"{cells}</tr>")  # fmt: skip
    return (
        f'<table id="cjm-board"><thead><tr><th>{_esc(text("stage", language))}</th>{head}'
        f"</tr></thead><tbody>{''.join(body)}</tbody></table>{_legend(language)}"
    )


def _comm_map(m: BrandMarts, language: str) -> str:
    rows: list[Row] = comm_rows(m, language)
    if not rows:
        return f"<p>{_esc(text('no_data', language))}</p>"
    head = "".join(f"<th>{_esc(h)}</th>" for h in headers(COMM_COLUMNS, language))
    body = "".join(
        f'<tr class="tone-{r.tone}" data-stage="{_esc(r.stage)}" style="background:{r.fill}">'
        + "".join(f"<td>{_esc(r.cells.get(c, '—'))}</td>" for c in COMM_COLUMNS)
        + "</tr>"
        for r in rows
    )
    return f'<table id="comm-map"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _funnel(m: BrandMarts, language: str) -> go.Figure:
    f = m.funnel
    stages = [*f["from_stage"], *f["to_stage"].tail(1)]
    entered = [*f["entered"], *f["converted"].tail(1)]
    names = [m.stage_labels.get(s, s) for s in stages]
    fig = go.Figure(
        go.Funnel(
            y=names,
            x=entered,
            textinfo="value+percent initial",
            marker={"color": "#37474f"},
            name=text("customers_entered", language),
        )
    )
    # Between two bars: the step's conversion and its median time to convert.
    for i, r in f.reset_index(drop=True).iterrows():
        h = r["hours_to_convert"]
        when = "—" if pd.isna(h) else f"{h:.0f} {text('hours', language)}"
        fig.add_annotation(
            x=1.0, xref="paper", xanchor="left", y=i + 0.5, yref="y", showarrow=False,
            text=f"↓ {text('converted', language)} {pct(r['conversion_rate'])}, "
                 f"{text('time_to_convert', language)} {when}",
        )  # fmt: skip
    fig.update_layout(margin={"l": 160, "r": 360, "t": 20, "b": 20}, height=420)
    return fig


def _timeline(m: BrandMarts, language: str) -> go.Figure:
    s = m.sentiment
    fig = go.Figure()
    for key in ("positive", "neutral", "negative"):
        fig.add_trace(
            go.Scatter(
                x=s["day"], y=s[key], mode="lines", stackgroup="tone",
                name=text(key, language), line={"color": TONE_COLOURS[key]},
            )
        )  # fmt: skip
    spikes = m.spikes
    for _, r in spikes.iterrows():
        fig.add_vrect(
            x0=r["start"], x1=r["end"],
            fillcolor="#c62828", opacity=0.25, line_width=0,
        )  # fmt: skip
    if len(spikes):
        fig.add_trace(
            go.Scatter(
                x=spikes["start"], y=[s["mentions"].max() if len(s) else 0] * len(spikes),
                mode="markers+text", marker={"symbol": "triangle-down", "size": 14,
                                             "color": "#c62828"},
                text=[text("spike", language)] * len(spikes), textposition="top center",
                name=text("spike", language),
            )
        )  # fmt: skip
    fig.update_layout(
        height=380, margin={"l": 60, "r": 20, "t": 30, "b": 40},
        xaxis_title=text("day", language), yaxis_title=text("mentions_axis", language),
        xaxis_tickformat=text("date_axis", language),
    )  # fmt: skip
    return fig


def _flow(m: BrandMarts, language: str) -> go.Figure:
    """Channels (left) feed the stages where customers touch them or talk on them; each
    stage flows on to the next with the customers who converted."""
    t = m.flow.assign(weight=m.flow["touches"].fillna(0) + m.flow["mentions"].fillna(0))
    t = t.assign(channel_name=shown(t, "channel"))
    by = t.groupby(["channel_name", "stage"], as_index=False)["weight"].sum()
    by = by[by["weight"] > 0]
    channels = sorted(set(by["channel_name"]))
    stages = list(m.stage_labels)
    nodes = channels + [m.stage_labels[s] for s in stages]
    idx_c = {c: i for i, c in enumerate(channels)}
    idx_s = {s: len(channels) + i for i, s in enumerate(stages)}
    src, dst, val = [], [], []
    for _, r in by.iterrows():
        if r["stage"] in idx_s:
            src.append(idx_c[r["channel_name"]])
            dst.append(idx_s[r["stage"]])
            val.append(float(r["weight"]))
    for _, r in m.funnel.iterrows():
        if r["from_stage"] in idx_s and r["to_stage"] in idx_s and r["converted"] > 0:
            src.append(idx_s[r["from_stage"]])
            dst.append(idx_s[r["to_stage"]])
            val.append(float(r["converted"]))
    fig = go.Figure(
        go.Sankey(
            node={"label": nodes, "pad": 14, "thickness": 16,
                  "color": ["#90a4ae"] * len(channels) + ["#37474f"] * len(stages)},
            link={"source": src, "target": dst, "value": val},
        )
    )  # fmt: skip
    fig.update_layout(height=520, margin={"l": 20, "r": 20, "t": 20, "b": 20})
    return fig


def _keywords(m: BrandMarts, language: str) -> go.Figure:
    k = m.keywords
    names = list(shown(k, "topic")) if len(k) else []
    fig = go.Figure(
        go.Treemap(
            labels=names,
            parents=[""] * len(names),
            values=list(k["mentions"]) if len(k) else [],
            marker={"colors": [tone(v)[1] for v in k["negative_share"]] if len(k) else []},
            customdata=[pct(v) for v in k["negative_share"]] if len(k) else [],
            texttemplate="%{label}<br>%{value} · " + text("negative", language) + " %{customdata}",
            hovertemplate="%{label}: %{value}<extra></extra>",
        )
    )
    fig.update_layout(height=460, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


def _spike_line(r: pd.Series, language: str) -> str:
    when = text("time", language)
    return text("spike_row", language).format(
        start=r["start"].strftime(when),
        end=r["end"].strftime(when),
        n=int(r["negative_mentions"]),
    )


def render_page(m: BrandMarts, language: str, source: str, index_href: str | None) -> str:
    """The brand's page as one HTML string."""
    figures = [
        ("funnel", _funnel(m, language)),
        ("timeline", _timeline(m, language)),
        ("flow", _flow(m, language)),
        ("keywords", _keywords(m, language)),
    ]
    charts: dict[str, str] = {}
    for i, (key, fig) in enumerate(figures):
        # plotly.js goes into the page once, with the first chart; the rest reuse it.
        charts[key] = fig.to_html(
            full_html=False, include_plotlyjs=(i == 0), config=PLOTLY_CONFIG,
            div_id=f"chart-{key}",
        )  # fmt: skip
    spikes = (
        "".join(f"<li>{_esc(_spike_line(r, language))}</li>" for _, r in m.spikes.iterrows())
        or f"<li>{_esc(text('spikes_none', language))}</li>"
    )
    title = f"{text('title', language)} — {m.brand}"
    sections = [
        ("board", _board(m, language)),
        ("funnel", charts["funnel"]),
        ("timeline", charts["timeline"] + f'<ul id="spikes">{spikes}</ul>'),
        ("flow", charts["flow"]),
        ("keywords", charts["keywords"]),
        ("comm_map", _comm_map(m, language)),
    ]
    nav = "".join(f'<a href="#{k}">{_esc(text(k, language))}</a>' for k, _ in sections)
    if index_href:
        nav = f'<a href="{_esc(index_href)}">{_esc(text("brands", language))}</a>' + nav
    body = "".join(
        f'<section id="{k}"><h2>{_esc(text(k, language))}</h2>{content}</section>'
        for k, content in sections
    )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
        f"<title>{_esc(title)}</title><style>{STYLE}</style></head><body>"
        f'<h1>{_esc(title)}</h1><p class="meta">{_esc(text("generated", language))} '
        f"{generated} · {_esc(text('source', language))}: {_esc(source)}</p>"
        f"<nav>{nav}</nav>{body}</body></html>"
    )
