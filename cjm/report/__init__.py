"""The CJM report people open: one HTML page per brand (and an index), and the XLSX
export of the CJM table and the communication map.

Reads a warehouse or its published BI copy (cjm.report.marts); writes each file under a
temp name and renames it in, so a reader following an alert's link never opens half a
page.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from cjm.report.marts import MartsMissing, read_marts
from cjm.report.page import render_page
from cjm.report.texts import brand_language, text
from cjm.report.xlsx import write_xlsx

__all__ = ["MartsMissing", "brand_page_name", "export_xlsx", "write_reports"]

INDEX = "index.html"  # alerts.report_url points here (?brand=...)


def brand_page_name(brand: str) -> str:
    """`Finly` → `finly.html`: letters (any alphabet) and digits, the rest as dashes."""
    slug = re.sub(r"[^\w]+", "-", brand.casefold()).strip("-_") or "brand"
    return f"{slug}.html"


def _write(path: Path, content: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(content, encoding="utf-8")
    tmp.replace(path)


def _index(pages: dict[str, str], language: str) -> str:
    """Links to every brand's page; `index.html?brand=X` (the alerts' link) opens X's."""
    links = "".join(
        f'<li><a href="{html.escape(p)}">{html.escape(b)}</a></li>' for b, p in pages.items()
    )
    script = (
        "<script>(function(){var p=new URLSearchParams(location.search).get('brand');"
        f"var pages={json.dumps(pages, ensure_ascii=False)};"
        "if(p&&pages[p]){location.replace(pages[p]);}})();</script>"
    )
    title = html.escape(text("title", language))
    return (
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body><h1>{title}</h1>"
        f"<h2>{html.escape(text('brands', language))}</h2><ul>{links}</ul>{script}</body></html>"
    )


def write_reports(
    source: Path,
    out_dir: Path,
    config: Any = None,
    brand: str | None = None,
    language: str | None = None,
) -> dict[str, Any]:
    """Write `<brand>.html` for every brand (or one) and `index.html` into out_dir."""
    marts = read_marts(source, brand)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pages: dict[str, str] = {}
    for m in marts:
        lang = brand_language(config, m.brand, language)
        name = brand_page_name(m.brand)
        _write(out_dir / name, render_page(m, lang, str(source), index_href=INDEX))
        pages[m.brand] = name
    first = marts[0].brand
    _write(out_dir / INDEX, _index(pages, brand_language(config, first, language)))
    return {
        "index": str(out_dir / INDEX),
        "pages": {b: str(out_dir / p) for b, p in pages.items()},
    }


def export_xlsx(
    source: Path,
    out: Path,
    config: Any = None,
    brand: str | None = None,
    language: str | None = None,
) -> dict[str, int]:
    """The CJM table and the communication map of every brand (or one) as one workbook."""
    marts = read_marts(source, brand)
    return write_xlsx(marts, Path(out), lambda b: brand_language(config, b, language))
