"""The CJM table and the communication map as rows of display text, in the seed article's
template layout: what the HTML board, the XLSX sheets and `cjm show` all print."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cjm.report.marts import BrandMarts, shown, tone
from cjm.report.texts import text

# The template's columns, in order (headers come from cjm.report.texts.UI).
CJM_COLUMNS = (
    "stage",
    "customer_actions",
    "emotions",
    "touchpoints",
    "barriers",
    "opportunities",
    "metrics",
)
COMM_COLUMNS = ("stage", "channel", "touchpoint", "message", "goal", "metrics", "recommendation")
EMPTY = "—"


@dataclass
class Row:
    """One printed row: its cells by column key, and the tonality it is coloured by."""

    cells: dict[str, str]
    negative_share: float | None
    stage: str  # the stage code, for joins and test lookups

    @property
    def tone(self) -> str:
        return tone(self.negative_share)[0]

    @property
    def fill(self) -> str:
        return tone(self.negative_share)[1]


def _num(v: object) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def pct(v: object) -> str:
    f = _num(v)
    return EMPTY if f is None else f"{f:.0%}"


def hours(v: object, language: str) -> str:
    f = _num(v)
    return EMPTY if f is None else f"{f:.0f} {text('hours', language)}"


def _cell(v: object) -> str:
    return EMPTY if v is None or (not isinstance(v, str) and pd.isna(v)) or v == "" else str(v)


def headers(columns: tuple[str, ...], language: str) -> list[str]:
    return [text(c, language) for c in columns]


def cjm_rows(m: BrandMarts, language: str) -> list[Row]:
    df = m.cjm
    if df.empty:
        return []
    values = {c: shown(df, c) for c in CJM_COLUMNS if c in df.columns}
    out = []
    for i, r in df.iterrows():
        metrics = "\n".join(
            (
                f"{text('m_customers', language)} {int(r['customers'] or 0)}",
                f"{text('m_mentions', language)} {int(r['mentions'] or 0)}",
                f"{text('m_negative', language)} {pct(r['negative_share'])}",
                f"{text('m_next', language)} {pct(r['conversion_to_next'])}",
                f"{text('m_median', language)} {hours(r['median_hours_in_stage'], language)}",
            )
        )
        cells = {c: _cell(values[c][i]) for c in CJM_COLUMNS if c in values}
        cells["metrics"] = metrics
        out.append(Row(cells=cells, negative_share=_num(r["negative_share"]), stage=r["stage"]))
    return out


def comm_rows(m: BrandMarts, language: str) -> list[Row]:
    df = m.comm_map
    if df.empty:
        return []
    values = {c: shown(df, c) for c in COMM_COLUMNS if c in df.columns}
    # The map's own stage labels where it has them, else the CJM's (same config labels).
    stage_names = (
        values["stage"]
        if "stage_label" in df.columns
        else df["stage"].map(m.stage_labels).fillna(df["stage"])
    )
    # A map split by journey_map.segment_by holds one map per segment: each row names
    # its segment beside the stage (no 'all' row then), so a reader never mixes them.
    split = "segment" in df.columns and bool((df["segment"] != "all").any())
    out = []
    for i, r in df.iterrows():
        net = _num(r["net_sentiment"])
        metrics = "\n".join(
            (
                f"{text('m_conversion', language)} {pct(r['conversion_rate'])}",
                f"{text('m_net', language)} {EMPTY if net is None else f'{net:+.2f}'}",
                f"{text('m_mentions', language)} {int(r['mentions'] or 0)}",
                f"{text('m_customers', language)} {int(r['customers'] or 0)}",
            )
        )
        cells = {c: _cell(values[c][i]) for c in COMM_COLUMNS if c in values}
        cells["stage"] = str(stage_names[i])
        if split:
            segment = r["segment"]
            if segment == "unknown":
                segment = text("segment_unknown", language)
            cells["stage"] = f"{cells['stage']} · {segment}"
        cells["metrics"] = metrics
        out.append(Row(cells=cells, negative_share=_num(r["negative_share"]), stage=r["stage"]))
    return out
