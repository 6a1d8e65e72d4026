"""Print the CJM table on a terminal: the demo's proof that the whole pipeline ran."""

from __future__ import annotations

from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.0%}"


def print_cjm(warehouse: Path, console: Console | None = None) -> int:
    console = console or Console(width=200)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            """select brand, stage, coalesce(stage_label, stage), customer_actions, emotions,
                      touchpoints, barriers, opportunities, mentions, negative_share,
                      conversion_to_next, median_hours_in_stage
               from marts.cjm order by brand, stage_order"""
        ).fetchall()
    finally:
        con.close()
    by_brand: dict[str, list[tuple]] = {}
    for r in rows:
        by_brand.setdefault(r[0], []).append(r)
    for brand, stages in by_brand.items():
        table = Table(title=f"Customer Journey Map — {brand}", show_lines=True)
        for col in (
            "Stage",
            "Customer actions",
            "Emotions",
            "Touchpoints",
            "Barriers",
            "Opportunities",
            "Metrics",
        ):
            table.add_column(col, overflow="fold")
        for (
            _,
            _,
            label,
            actions,
            emotions,
            touchpoints,
            barriers,
            opportunities,
            mentions,
            neg,
            conv,
            hours,
        ) in stages:
            metrics = (
                f"mentions {mentions or 0}\nnegative {_pct(neg)}\n"
                f"→ next {_pct(conv)}\nmedian {'—' if hours is None else f'{hours:.0f} h'}"
            )
            table.add_row(
                label,
                actions or "—",
                emotions or "—",
                touchpoints or "—",
                barriers or "—",
                opportunities or "—",
                metrics,
            )
        console.print(table)
    return len(rows)
