"""Where the shipped project files are, and every path derived from the warehouse.

The dbt project, the default configs and the demo data ship inside the package (see
`[tool.setuptools.package-dir]` in pyproject.toml), so `cjm` works from a wheel as it
does from a checkout: an editable install maps the same package names to the
checkout's top-level folders. Everything a refresh writes (landing zone, dbt target and
logs, the BI copy, the demo's served files) sits next to the warehouse file, so
`--warehouse` moves all of it together.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

DBT_PROJECT_ENV = "CJM_DBT_PROJECT_DIR"


def _shipped(package: str) -> Path:
    return Path(str(files(package)))


def dbt_project_dir() -> Path:
    """The dbt project: `CJM_DBT_PROJECT_DIR` when set (a customised copy), else the
    shipped one."""
    override = os.environ.get(DBT_PROJECT_ENV)
    return Path(override).resolve() if override else _shipped("cjm.dbt_project")


def seeds_dir() -> Path:
    """The rule seeds the enrichment reads outside dbt (the same files dbt loads)."""
    return dbt_project_dir() / "seeds"


def shipped_config(name: str) -> Path:
    """A config that ships with the package: `cjm.yml` (the default) or `demo.yml`."""
    return _shipped("cjm.defaults") / name


def demo_bundle_dir() -> Path:
    """The bundled demo data: `inbox/` (the sources) and `truth/` (what was planted)."""
    return _shipped("cjm.demo.bundle")


def landing_dir(warehouse: Path) -> Path:
    return Path(warehouse).resolve().parent / "landing"


def dbt_target_dir(warehouse: Path) -> Path:
    return Path(warehouse).resolve().parent / "dbt_target"


def dbt_log_dir(warehouse: Path) -> Path:
    return Path(warehouse).resolve().parent / "logs"


def demo_sources_dir(warehouse: Path) -> Path:
    return Path(warehouse).resolve().parent / "demo_sources"


def run_lock_file(warehouse: Path) -> Path:
    """The lock `cjm run` holds while it refreshes the warehouse (cjm/refresh/lock.py)."""
    path = Path(warehouse).resolve()
    return path.with_name(path.name + ".lock")


def demo_alerts_file(warehouse: Path) -> Path:
    """Where `cjm demo`'s local webhook receiver writes the alerts it got."""
    return Path(warehouse).resolve().parent / "demo_alerts.jsonl"


def report_dir_for(warehouse: Path) -> Path:
    """Where each refresh writes the HTML report unless `report.dir` names a place."""
    return Path(warehouse).resolve().parent / "report"


def bi_dir_for(warehouse: Path) -> Path:
    """The BI copy (a DuckDB file and Parquet marts) unless `publish` names other places."""
    return Path(warehouse).resolve().parent / "bi"
