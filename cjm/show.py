"""Print the CJM table (or the communication map) on a terminal: `cjm show`, and the
demo's proof that the whole pipeline ran.

The rows are the report's and the XLSX export's (cjm.report.tables), in the brand's
language, so the three never disagree on what a cell says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from cjm.report.marts import read_marts
from cjm.report.tables import CJM_COLUMNS, COMM_COLUMNS, cjm_rows, comm_rows, headers
from cjm.report.texts import brand_language, text


def print_cjm(
    warehouse: Path,
    console: Console | None = None,
    brand: str | None = None,
    language: str | None = None,
    config: Any = None,
    comm_map: bool = False,
) -> int:
    """Print every brand's table (or one brand's); returns the rows printed."""
    console = console or Console(width=200)
    printed = 0
    for m in read_marts(Path(warehouse), brand):
        lang = brand_language(config, m.brand, language)
        columns, rows, title = (
            (COMM_COLUMNS, comm_rows(m, lang), "comm_map")
            if comm_map
            else (CJM_COLUMNS, cjm_rows(m, lang), "title")
        )
        table = Table(title=f"{text(title, lang)} — {m.brand}", show_lines=True)
        for h in headers(columns, lang):
            table.add_column(h, overflow="fold")
        for r in rows:
            table.add_row(*(r.cells.get(c, "—") for c in columns))
        console.print(table)
        printed += len(rows)
    return printed
