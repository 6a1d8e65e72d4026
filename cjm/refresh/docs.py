"""The BI table reference (docs/TABLES.md), generated from the dbt docs.

The dbt `.yml` files are where each mart and column is described (and from where the
descriptions reach the warehouse, the BI file and PostgreSQL as COMMENTs); a second,
hand-written reference would drift from them. `cjm docs` writes the Markdown page
BI users read, and a test keeps the committed page equal to what it would write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cjm.core.paths import dbt_project_dir
from cjm.refresh.marts import MART_TABLES

HEADER = """# Table reference

Generated from the dbt docs (`dbt_project/models/marts/_marts__models.yml`) by
`cjm docs --out docs/TABLES.md`; do not edit by hand. Every table is in schema `marts`
of the warehouse, of the published DuckDB file (`data/bi/marts.duckdb`), of the
PostgreSQL target, and a file of the Parquet set. Each published table also has
`refresh_id` (see `published_refresh`). *Sums* says whether summing the column over
rows counts anything twice: "yes" columns add up, "no" columns (rates, shares,
medians, distinct counts per cell) must not be summed.
"""


def _flat(text: Any) -> str:
    return " ".join(str(text or "").split()).replace("|", "\\|")


def _first_sentence(text: Any) -> str:
    flat = _flat(text)
    end = flat.find(". ")
    return flat if end < 0 else flat[: end + 1]


def _models() -> dict[str, dict[str, Any]]:
    path = dbt_project_dir() / "models" / "marts" / "_marts__models.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {m["name"]: m for m in doc.get("models", [])}


def table_reference() -> str:
    """The page, in the order BI users meet the marts (cjm.refresh.marts.MART_TABLES)."""
    models = _models()
    missing = [t for t in MART_TABLES if t not in models]
    if missing:
        raise KeyError(f"marts without dbt docs: {missing}")
    parts = [HEADER]
    parts.append("| table | what it holds |\n| --- | --- |")
    parts += [
        f"| [`marts.{t}`](#marts{t}) | {_first_sentence(models[t].get('description'))} |"
        for t in MART_TABLES
    ]
    for t in MART_TABLES:
        parts.append(f"\n## `marts.{t}`\n\n{_flat(models[t].get('description'))}\n")
        parts.append("| column | description | sums |\n| --- | --- | --- |")
        for col in models[t].get("columns", []):
            additive = (col.get("meta") or {}).get("additive")
            sums = {True: "yes", False: "no"}.get(additive, "")
            parts.append(f"| `{col['name']}` | {_flat(col.get('description'))} | {sums} |")
    return "\n".join(parts) + "\n"


def write_table_reference(out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table_reference(), encoding="utf-8")
    return out
