"""The package works outside a checkout: build the wheel, install it into a fresh
virtual environment in a temp dir, and run `cjm demo` from a folder outside the
repository against a temp warehouse. The warehouse it leaves is then held to the
documented contract (docs/CONTRACT.md): every table and column listed there exists.

The fresh environment gets the project's already-installed third-party packages through
a path file (installing Airflow and dbt again would cost minutes and prove nothing about
our packaging) but not the editable `cjm`: a path file does not run the other path
files of the folder it adds, so the checkout's editable finder stays out and `cjm`,
the dbt project, the configs and the demo data can only come from the wheel.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class DemoRun:
    stdout: str
    warehouse: Path
    outside: Path


@pytest.fixture(scope="module")
def demo_from_wheel(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    tmp_path = tmp_path_factory.mktemp("wheel")
    # a copy of the working tree: building in place would leave build/ in the checkout
    src = tmp_path / "src"
    shutil.copytree(
        ROOT, src, symlinks=True,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", ".airflow", "data", "build", "*.egg-info", "__pycache__",
            "target", "dbt_target", "logs", ".pytest_cache", ".ruff_cache",
        ),
    )  # fmt: skip
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "-q", "-w", str(dist), str(src)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = dist.glob("cjm_warehouse-*.whl")

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    site = Path(
        sysconfig.get_path("purelib", vars={"base": str(env_dir), "platbase": str(env_dir)})
    )
    (site / "project_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    bin_dir = env_dir / "bin"
    uv = Path(sys.executable).with_name("uv")
    installed = subprocess.run(
        [str(uv), "pip", "install", "--python", str(bin_dir / "python"), "--no-deps",
         "-q", str(wheel)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    # dbt's console script belongs to the project venv; the fresh one gets its own, so
    # the Python model imports `cjm.enrichment` from the wheel too
    dbt = bin_dir / "dbt"
    dbt.write_text(f"#!{bin_dir / 'python'}\nfrom dbt.cli.main import cli\ncli()\n")
    dbt.chmod(0o755)

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CJM_", "PYTHON"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    where = subprocess.run(
        [str(bin_dir / "python"), "-c",
         "import cjm, cjm.extractors, cjm.core.paths as p; "
         "print(cjm.__file__); print(p.dbt_project_dir())"],
        capture_output=True, text=True, check=False, cwd=outside, env=env,
    )  # fmt: skip
    assert where.returncode == 0, where.stderr
    for line in where.stdout.splitlines():
        assert str(env_dir) in line and str(ROOT) not in line, where.stdout

    warehouse = tmp_path / "wh" / "warehouse.duckdb"
    demo = subprocess.run(
        [str(bin_dir / "cjm"), "demo", "--warehouse", str(warehouse)],
        capture_output=True, text=True, check=False, cwd=outside, env=env, timeout=900,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    return DemoRun(demo.stdout, warehouse, outside)


def test_wheel_runs_the_demo_outside_the_checkout(demo_from_wheel: DemoRun) -> None:
    # the CJM table printed, in the demo brand's language, and the report's path
    assert "Карта пути клиента — Finly" in demo_from_wheel.stdout
    assert "[demo] report: " in demo_from_wheel.stdout
    con = duckdb.connect(str(demo_from_wheel.warehouse), read_only=True)
    try:
        stages = con.execute(
            "select stage, mentions from marts.cjm where brand = 'Finly' order by stage_order"
        ).fetchall()
    finally:
        con.close()
    assert [s for s, _ in stages][:2] == ["awareness", "consideration"], stages
    assert sum(n for _, n in stages) > 100, stages
    assert not list(demo_from_wheel.outside.iterdir()), "the demo wrote into the working dir"


def documented_tables() -> dict[str, list[str]]:
    """`schema.table` → columns, from the table rows of docs/CONTRACT.md."""
    text = (ROOT / "docs" / "CONTRACT.md").read_text(encoding="utf-8")
    tables: dict[str, list[str]] = {}
    for line in text.splitlines():
        m = re.match(r"\| `(\w+\.\w+)` \|[^|]*\| (.*) \|$", line)
        if m:
            tables[m.group(1)] = re.findall(r"`(\w+)`", m.group(2))
    return tables


def test_the_documented_contract_holds(demo_from_wheel: DemoRun) -> None:
    documented = documented_tables()
    assert {"raw.mentions", "marts.cjm", "marts.negative_spikes"} <= set(documented)
    con = duckdb.connect(str(demo_from_wheel.warehouse), read_only=True)
    try:
        actual: dict[str, set[str]] = {}
        for schema, table, column in con.execute(
            "select table_schema, table_name, column_name from information_schema.columns"
        ).fetchall():
            actual.setdefault(f"{schema}.{table}", set()).add(column)
    finally:
        con.close()
    missing = {
        table: sorted(set(columns) - actual.get(table, set()))
        for table, columns in documented.items()
        if set(columns) - actual.get(table, set())
    }
    assert not missing, f"documented in docs/CONTRACT.md but not in the warehouse: {missing}"
    undocumented = sorted(t for t in actual if t.split(".")[0] == "marts" and t not in documented)
    assert not undocumented, f"marts missing from docs/CONTRACT.md: {undocumented}"


def test_every_sub_package_is_in_the_wheel() -> None:
    """A new folder under cjm/ (cjm.publish, cjm.report …) ships only when pyproject names
    it: the wheel test above catches a missing one late, this one at once."""
    import tomllib

    root = Path(__file__).parents[1]
    listed = set(
        tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
            "packages"
        ]
    )
    code = {
        ".".join(init.parent.relative_to(root).parts)
        for init in (root / "cjm").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert code - listed == set(), sorted(code - listed)
