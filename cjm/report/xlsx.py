"""marts.cjm and marts.communication_map as an Excel workbook in the seed article's
template: one sheet per brand and table, headers in the brand's language, every row
filled by its tonality, header row frozen, filters on."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from cjm.report.marts import BrandMarts
from cjm.report.tables import CJM_COLUMNS, COMM_COLUMNS, Row, cjm_rows, comm_rows, headers
from cjm.report.texts import text

HEADER_FILL = PatternFill("solid", fgColor="37474F")
HEADER_FONT = Font(bold=True, color="FFFFFF")
WIDTHS = {"stage": 18, "channel": 16, "touchpoint": 18, "metrics": 30}
DEFAULT_WIDTH = 40
MAX_SHEET_NAME = 31  # Excel's limit


def sheet_name(kind: str, brand: str, language: str, taken: set[str]) -> str:
    """`CJM Finly`, `Коммуникации Finly`: unique, without the characters Excel refuses."""
    base = re.sub(r"[\[\]:*?/\\]", " ", f"{text(kind, language)} {brand}")[:MAX_SHEET_NAME]
    name, n = base, 2
    while name in taken:
        suffix = f" ({n})"
        name, n = base[: MAX_SHEET_NAME - len(suffix)] + suffix, n + 1
    taken.add(name)
    return name


def _sheet(wb: Workbook, title: str, columns: tuple[str, ...], rows: list[Row], language: str):
    ws = wb.create_sheet(title)
    ws.append(headers(columns, language))
    for cell in ws[1]:
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
        cell.alignment = Alignment(vertical="top", wrap_text=True)
    for r in rows:
        ws.append([r.cells.get(c, "—") for c in columns])
        fill = PatternFill("solid", fgColor=r.fill.lstrip("#").upper())
        for cell in ws[ws.max_row]:
            cell.fill = fill
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    for i, c in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = WIDTHS.get(c, DEFAULT_WIDTH)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(ws.max_row, 1)}"
    return ws


def write_xlsx(
    marts: list[BrandMarts], out: Path, language_of: Callable[[str], str]
) -> dict[str, int]:
    """Write the workbook (atomically: a temp file renamed in); sheet name → data rows."""
    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    counts: dict[str, int] = {}
    for m in marts:
        language = language_of(m.brand)
        for kind, columns, rows in (
            ("cjm_sheet", CJM_COLUMNS, cjm_rows(m, language)),
            ("comm_sheet", COMM_COLUMNS, comm_rows(m, language)),
        ):
            name = sheet_name(kind, m.brand, language, taken)
            _sheet(wb, name, columns, rows, language)
            counts[name] = len(rows)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    wb.save(tmp)
    tmp.replace(out)
    return counts
