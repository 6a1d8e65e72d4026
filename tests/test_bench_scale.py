"""`cjm bench scale` end to end at a tiny size, and its generator's promises.

No timing is asserted (speed is what the benchmark reports, not what a test checks):
the run must finish, every ratio must be computed and every row printed; the
generator must give the same files twice and not grow its memory with N.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cjm.bench import scale_data
from cjm.bench.scale import GROWTH, RATIOS, REFRESH_RUNS

SIZE = 2_000


@pytest.fixture(scope="module")
def scale_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    tmp = tmp_path_factory.mktemp("scale")
    out, md = tmp / "results.json", tmp / "BENCHMARKS.md"
    env = {**os.environ, "CJM_CUSTOMER_KEY_SECRET": "test-only"}
    command = [sys.executable, "-m", "cjm.cli", "bench", "scale", "--sizes", str(SIZE)]
    proc = subprocess.run(
        [*command, "--out", str(out), "--markdown", str(md), "--work", str(tmp / "work")],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8")), md.read_text(encoding="utf-8")


def test_every_ratio_is_measured(scale_run: tuple[dict[str, Any], str]) -> None:
    results, _ = scale_run
    (size,) = results["sizes"]
    assert size["n"] == SIZE and size["mention_rows"] == SIZE
    for label in REFRESH_RUNS:
        run = size["refresh"][label]
        assert run.get("ok") and "error" not in run, (label, run)
        # the identical re-run finds nothing dbt reads changed: no dbt process at all
        skipped = label == "nothing_new"
        assert bool(run["dbt"].get("skipped")) is skipped, (label, run["dbt"])
        assert run["peak_rss_mib"] > 0 and (run["dbt_peak_rss_mib"] > 0) is not skipped
    for name, peer in size["peers"].items():
        assert "error" not in peer, (name, peer)
        assert peer["peak_rss_mib"] > 0
    full = size["refresh"]["full"]["sources"]  # the refresh read the whole export
    assert full["listening"]["extracted"] + full["listening"]["off_brand"] == SIZE
    assert full["crm"]["extracted"] == size["crm_rows"]
    missing = {k for k in RATIOS if not isinstance(size["ratios"].get(k), float | int)}
    assert not missing, missing
    # the peers loaded what the export holds: every row, or one per id
    ids = size["peers"]["pk_insert"]["rows"]
    assert size["peers"]["ctas"]["rows"] == size["mention_rows"] + size["crm_rows"] > ids
    assert size["peers"]["dlt"]["rows"] == ids
    # one size: no exponent can be fitted, and none is made up
    assert set(results["growth"]) == set(GROWTH)
    assert all(v is None for v in results["growth"].values())
    assert {"cpus", "ram_gib", "python", "duckdb"} <= set(results["machine"])


def test_markdown_has_every_row(scale_run: tuple[dict[str, Any], str]) -> None:
    results, md = scale_run
    (size,) = results["sizes"]
    assert f"## {SIZE:,} mentions" in md
    assert "cjm bench scale --sizes 2000" in md
    for label, _goal in RATIOS.values():
        assert f"| {label} |" in md, label
    for label in REFRESH_RUNS:
        for row in size["steps"][label]:
            assert f"| {row['step']} |" in md, row["step"]
    for label in GROWTH.values():
        assert f"| {label} |" in md


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.parquet"))
    }


def test_generator_is_deterministic(tmp_path: Path) -> None:
    a = scale_data.write_exports(tmp_path / "a", 3_000, batch_rows=1_000)
    scale_data.write_exports(tmp_path / "b", 3_000, batch_rows=1_000)
    assert len(a.mentions) == 3 and a.mention_rows == 3_000
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    other = scale_data.write_exports(tmp_path / "c", 3_000, seed=16, batch_rows=1_000)
    assert _digests(tmp_path / "c") != _digests(tmp_path / "a") and other.mention_rows == 3_000


def test_generator_shares(tmp_path: Path) -> None:
    """Brand named in most mentions, both languages, re-exported and edited rows, months."""
    scale_data.write_exports(tmp_path, 5_000, batch_rows=2_500)
    scale_data.write_exports(
        tmp_path, 50, batch_rows=2_500, part="increment", offset=5_000, day0=180, days=7
    )
    con = duckdb.connect()
    full = f"read_parquet('{tmp_path}/mentions/mentions-full-*.parquet')"
    branded, ru, repeated, edited, days = con.execute(
        f"""select avg((regexp_matches(lower(body), 'acme|акме'))::int), avg((lang = 'ru')::int),
              count(*) - count(distinct id), count(*) filter (where body like '% UPD: %'),
              date_diff('day', min(date), max(date))
            from {full}"""
    ).fetchone()
    assert 0.8 < branded < 0.95 and 0.65 < ru < 0.85
    assert 0.01 * 5_000 < repeated < 0.05 * 5_000 and edited > 0
    assert days > 150
    new = f"read_parquet('{tmp_path}/mentions/mentions-increment-*.parquet')"
    clash, later = con.execute(
        f"select count(*) filter (where id in (select id from {full})), "
        f"min(date) > (select max(date) from {full}) - interval 1 day from {new}"
    ).fetchone()
    assert clash == 0 and later


def _peak(tmp: Path, n: int) -> int:
    tracemalloc.start()
    try:
        scale_data.write_exports(tmp / str(n), n, batch_rows=1_000)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_generator_memory_does_not_grow_with_n(tmp_path: Path) -> None:
    scale_data.write_exports(tmp_path / "warm", 100, batch_rows=1_000)  # vocabulary cached
    small, large = _peak(tmp_path, 2_000), _peak(tmp_path, 8_000)
    assert large < small * 1.3, (small, large)


def test_bad_sizes_are_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "cjm.cli", "bench", "scale", "--sizes", "1e5,lots"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "cjm bench scale: --sizes: 'lots' is not a number (e.g. 1e5,1e6)"
