"""`cjm bench scale`: the refresh at 10^5 .. 10^7 mentions and CRM events, beside its peers.

Per size: deterministic exports (cjm.bench.scale_data), a fresh warehouse with two
`file` sources on the default settings, and in the same run, each in its own child
process so every peak RSS is that process's own:

- the refresh as `cjm run` does it (full), again with nothing new, then with 1% new data;
- the same files loaded by a raw DuckDB CREATE TABLE AS, by an INSERT into primary-keyed
  tables and by dlt's merge load;
- the GX checks as one SQL query over the same landing files;
- the marts' core (stage conversion, daily and hourly mention counts) as hand-written SQL.

The product is only called through its entry points (run_refresh, which runs dbt build),
so the figures follow the product's code as it changes. The machine may be shared: the
comparisons are ratios of work timed in the same run, and the load average is recorded.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cjm.bench import scale_data

DEFAULT_SIZES = (100_000, 1_000_000, 10_000_000)
INCREMENT_SHARE = 0.01
LOAD_PATH_STEPS = ("extract", "validate", "load")
REFRESH_RUNS = ("full", "nothing_new", "increment")

# Every ratio the JSON carries, with the goal where it sets one; the Markdown
# prints one row per entry, in this order.
RATIOS: dict[str, tuple[str, str]] = {
    "load_path_vs_ctas": ("load path (extract → validate → load) / raw DuckDB CREATE TABLE AS", ""),
    "load_path_vs_pk_insert": ("load path / INSERT into primary-keyed tables", "≤ 3"),
    "load_path_vs_dlt": ("load path / dlt merge load", "< 1 (moonshot ≤ 0.5)"),
    "load_step_vs_pk_insert": ("load step alone / INSERT into primary-keyed tables", ""),
    "gx_vs_sql": ("validation (GX, the validate step) / the same checks as SQL", ""),
    "validation_share_of_load_path": ("validation / load path", "≤ 0.2"),
    "dbt_vs_hand_sql": ("dbt build / the core marts as hand-written SQL", ""),
    "dbt_rest_vs_hand_sql": ("dbt build without enrichment / hand-written SQL", ""),
    "increment_vs_full": ("refresh with 1% new data / full refresh", "≤ 0.1"),
    "increment_dbt_vs_full_dbt": ("dbt build with 1% new data / full dbt build", "≤ 0.1"),
    "nothing_new_vs_full": ("refresh with nothing new / full refresh", ""),
    "peak_rss_vs_dlt": ("peak RSS of the refresh / of the dlt load", ""),
    "peak_rss_vs_ctas": ("peak RSS of the refresh / of the CREATE TABLE AS", ""),
}
GROWTH = {
    "full_refresh_seconds": "full refresh time",
    "load_path_seconds": "load path time",
    "dbt_seconds": "dbt build time",
    "peak_rss": "peak RSS of the refresh",
}


def parse_sizes(text: str) -> list[int]:
    """`1e5,1e6` or `100000,1000000` → [100000, 1000000]; one clear error otherwise."""
    sizes = []
    for part in text.split(","):
        try:
            value = float(part.strip())
        except ValueError:
            raise ValueError(f"--sizes: {part.strip()!r} is not a number (e.g. 1e5,1e6)") from None
        if value < 1 or value != int(value):
            raise ValueError(f"--sizes: {part.strip()!r} is not a whole number of rows ≥ 1")
        sizes.append(int(value))
    return sizes


def _child(task: str, args: dict[str, Any], work: Path) -> dict[str, Any]:
    """Run one task of cjm.bench.scale_child in a process of its own; add its peak RSS.

    os.wait4 gives the child's rusage, whose ru_maxrss is the largest of the child and
    of the processes it waited for (dbt), not the parent's."""
    result = work / f"{task}-{time.monotonic_ns()}.json"
    log = result.with_suffix(".log")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cjm.bench.scale_child", task, json.dumps(args), str(result)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        started = time.perf_counter()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = round(time.perf_counter() - started, 3)
    if proc.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
        return {
            "error": f"failed (exit code {proc.returncode}): " + " | ".join(tail),
            "wall_s": wall,
        }
    out_json = json.loads(result.read_text(encoding="utf-8"))
    out_json["wall_s"] = wall
    out_json["peak_rss_mib"] = round(usage.ru_maxrss / 1024, 1)
    return out_json


def _ratio(a: Any, b: Any) -> float | None:
    if not isinstance(a, int | float) or not isinstance(b, int | float) or b <= 0:
        return None
    return round(a / b, 3)


def _load_path(refresh: dict[str, Any]) -> float | None:
    steps = refresh.get("steps") or {}
    if not all(s in steps for s in LOAD_PATH_STEPS):
        return None
    return round(sum(steps[s] for s in LOAD_PATH_STEPS), 3)


def _rows(refresh: dict[str, Any], source: str, key: str = "extracted") -> int:
    return int((refresh.get("sources") or {}).get(source, {}).get(key) or 0)


def refresh_peak(refresh: dict[str, Any]) -> float | None:
    """The refresh's peak memory: the largest sum of its process and dbt's seen in any
    step, or the largest single process (os.wait4), whichever is higher."""
    values = [
        v
        for v in [
            refresh.get("peak_rss_mib"),
            *(refresh.get("peak_rss_mib_by_step") or {}).values(),
        ]
        if isinstance(v, int | float)
    ]
    return max(values) if values else None


def step_table(refresh: dict[str, Any], mentions_rows: int) -> list[dict[str, Any]]:
    """Per step of one refresh: seconds, rows handled, rows/s and the peak RSS in the step."""
    steps = refresh.get("steps") or {}
    peaks = refresh.get("peak_rss_mib_by_step") or {}
    extracted = _rows(refresh, "listening") + _rows(refresh, "crm")
    passed = _rows(refresh, "listening", "passed") + _rows(refresh, "crm", "passed")
    dbt = steps.get("dbt build")
    enrichment = refresh.get("enrichment_s")
    rest = None if dbt is None or enrichment is None else round(dbt - enrichment, 3)
    rows: list[tuple[str, float | None, int | None, float | None]] = [
        ("extract", steps.get("extract"), extracted, peaks.get("extract")),
        ("validate", steps.get("validate"), extracted, peaks.get("validate")),
        ("load", steps.get("load"), passed, peaks.get("load")),
        ("dbt build: enrichment", enrichment, mentions_rows, None),
        ("dbt build: the rest", rest, passed, None),
        ("dbt build (whole, dbt process included)", dbt, passed, peaks.get("dbt build")),
    ]
    for extra in ("publish", "report"):
        if extra in steps:
            rows.append((extra, steps[extra], None, peaks.get(extra)))
    rows.append(("whole refresh", refresh.get("total_s"), extracted, refresh_peak(refresh)))
    return [
        {
            "step": step,
            "seconds": seconds,
            "rows": n,
            "rows_per_s": round(n / seconds) if n and seconds else None,
            "peak_rss_mib": peak,
        }
        for step, seconds, n, peak in rows
    ]


def ratios(size: dict[str, Any]) -> dict[str, float | None]:
    full = size["refresh"]["full"]
    load_path = _load_path(full)
    steps = full.get("steps") or {}
    dbt = steps.get("dbt build")
    enrichment = full.get("enrichment_s")
    rest = None if dbt is None or enrichment is None else dbt - enrichment
    peers = size["peers"]
    inc = size["refresh"]["increment"]
    nothing = size["refresh"]["nothing_new"]
    out = {
        "load_path_vs_ctas": _ratio(load_path, peers["ctas"].get("seconds")),
        "load_path_vs_pk_insert": _ratio(load_path, peers["pk_insert"].get("seconds")),
        "load_path_vs_dlt": _ratio(load_path, peers["dlt"].get("seconds")),
        "load_step_vs_pk_insert": _ratio(steps.get("load"), peers["pk_insert"].get("seconds")),
        "gx_vs_sql": _ratio(steps.get("validate"), peers["sql_checks"].get("seconds")),
        "validation_share_of_load_path": _ratio(steps.get("validate"), load_path),
        "dbt_vs_hand_sql": _ratio(dbt, peers["hand_marts"].get("seconds")),
        "dbt_rest_vs_hand_sql": _ratio(rest, peers["hand_marts"].get("seconds")),
        "increment_vs_full": _ratio(inc.get("total_s"), full.get("total_s")),
        "increment_dbt_vs_full_dbt": _ratio((inc.get("steps") or {}).get("dbt build"), dbt),
        "nothing_new_vs_full": _ratio(nothing.get("total_s"), full.get("total_s")),
        "peak_rss_vs_dlt": _ratio(refresh_peak(full), peers["dlt"].get("peak_rss_mib")),
        "peak_rss_vs_ctas": _ratio(refresh_peak(full), peers["ctas"].get("peak_rss_mib")),
    }
    assert set(out) == set(RATIOS)
    return out


def growth(sizes: list[dict[str, Any]]) -> dict[str, float | None]:
    """The exponent b of cost ≈ a·N^b, least squares on log-log over the sizes run
    (1 is linear); None with fewer than two sizes."""

    def value(size: dict[str, Any], what: str) -> float | None:
        full = size["refresh"]["full"]
        if what == "full_refresh_seconds":
            return full.get("total_s")
        if what == "load_path_seconds":
            return _load_path(full)
        if what == "dbt_seconds":
            return (full.get("steps") or {}).get("dbt build")
        return refresh_peak(full)

    out: dict[str, float | None] = {}
    for what in GROWTH:
        points = [
            (math.log(s["n"]), math.log(v))
            for s in sizes
            if isinstance(v := value(s, what), int | float) and v > 0
        ]
        if len(points) < 2 or len({x for x, _ in points}) < 2:
            out[what] = None
            continue
        mx = sum(x for x, _ in points) / len(points)
        my = sum(y for _, y in points) / len(points)
        sxx = sum((x - mx) ** 2 for x, _ in points)
        out[what] = round(sum((x - mx) * (y - my) for x, y in points) / sxx, 3)
    return out


def machine() -> dict[str, Any]:
    import duckdb
    import psutil

    return {
        "cpus": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


DLT_MISSING = (
    "not run: dlt is not installed (the `bench` extra: make install, or pip install '.[bench]')"
)


def _dlt_version() -> str | None:
    """dlt's version, or None when it is not installed (the comparison is then skipped)."""
    try:
        import dlt
    except ImportError:
        return None
    return str(dlt.__version__)


def _refresh_config(work: Path, exports: Path) -> Path:
    import yaml

    path = work / "cjm.yml"
    path.write_text(
        yaml.safe_dump(scale_data.source_config(exports), allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    return path


def bench_size(n: int, work: Path, batch_rows: int, say: Any) -> dict[str, Any]:
    exports = work / "exports"
    started = time.perf_counter()
    written = scale_data.write_exports(exports, n, batch_rows=batch_rows)
    generated = round(time.perf_counter() - started, 2)
    say(
        f"{n:,}: {written.mention_rows:,} mentions, {written.crm_rows:,} CRM events "
        f"in {generated} s"
    )
    config = _refresh_config(work, exports)
    warehouse = work / "warehouse" / "warehouse.duckdb"
    logs = work / "logs"
    logs.mkdir()
    files = {
        "mentions": str(exports / "mentions" / "*.parquet"),
        "crm": str(exports / "crm" / "*.parquet"),
    }
    refresh: dict[str, Any] = {}

    def run(label: str) -> dict[str, Any]:
        args = {"config": str(config), "warehouse": str(warehouse), "run_id": f"bench-{label}"}
        result = _child("refresh", args, logs)
        steps = ", ".join(f"{k} {v:.1f}" for k, v in (result.get("steps") or {}).items())
        say(
            f"{n:,}: refresh ({label}) {result.get('total_s')} s [{steps}] "
            f"{result.get('error', '')}"
        )
        return result

    refresh["full"] = run("full")
    refresh["nothing_new"] = run("nothing_new")
    peers: dict[str, Any] = {}
    peer_dir = work / "peers"
    peer_dir.mkdir()
    peers["ctas"] = _child("ctas", {**files, "db": str(peer_dir / "ctas.duckdb")}, logs)
    peers["pk_insert"] = _child("pk_insert", {**files, "db": str(peer_dir / "pk.duckdb")}, logs)
    peers["dlt"] = (
        {"error": DLT_MISSING}
        if _dlt_version() is None
        else _child(
            "dlt",
            {
                **files,
                "db": str(peer_dir / "dlt.duckdb"),
                "pipelines_dir": str(peer_dir / "dlt-pipelines"),
                "batch_rows": batch_rows,
            },
            logs,
        )
    )
    landed = refresh["full"].get("landed") or {}
    peers["sql_checks"] = _child(
        "sql_checks",
        {"mention": landed.get("listening", []), "crm_event": landed.get("crm", [])},
        logs,
    )
    peers["hand_marts"] = _child("hand_marts", {"warehouse": str(warehouse)}, logs)
    for name, peer in peers.items():
        say(f"{n:,}: {name} {peer.get('seconds')} s {peer.get('error', '')}")
    increment = max(1, round(n * INCREMENT_SHARE))
    scale_data.write_exports(
        exports,
        increment,
        batch_rows=batch_rows,
        part="increment",
        offset=n,
        day0=scale_data.DAYS,
        days=7,
    )
    refresh["increment"] = run("increment")
    size = {
        "n": n,
        "mention_rows": written.mention_rows,
        "crm_rows": written.crm_rows,
        "increment_rows": increment,
        "generate_s": generated,
        "refresh": refresh,
        "peers": peers,
    }
    # the raw figures first: what the tables below are computed from, kept if they fail
    (work / "size.json").write_text(json.dumps(size, indent=2, default=str), encoding="utf-8")
    return derive(size)


def derive(size: dict[str, Any]) -> dict[str, Any]:
    """The step tables and the ratios of one size, from its raw figures."""
    size["steps"] = {
        label: step_table(
            size["refresh"][label], _rows(size["refresh"][label], "listening", "passed")
        )
        for label in REFRESH_RUNS
    }
    size["ratios"] = ratios(size)
    return size


def partial_size(folder: Path, n: int) -> dict[str, Any]:
    """What a size stopped midway had measured, from its children's result files (the
    refreshes in the order they ran); what did not run is marked so in the tables."""
    import pyarrow.parquet as pq

    stopped = {"error": "not run (the benchmark was stopped before)"}
    done: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(
        (folder / "logs").glob("*.json"), key=lambda p: int(p.stem.rsplit("-", 1)[1])
    ):
        task = path.stem.rsplit("-", 1)[0]
        done.setdefault(task, []).append(json.loads(path.read_text(encoding="utf-8")))
    refreshes = done.get("refresh", [])
    exports = folder / "exports"

    def rows(pattern: str) -> int:
        return sum(pq.ParquetFile(p).metadata.num_rows for p in exports.glob(pattern))

    size = {
        "n": n,
        "mention_rows": rows("mentions/mentions-full-*.parquet"),
        "crm_rows": rows("crm/crm-full-*.parquet"),
        "increment_rows": max(1, round(n * INCREMENT_SHARE)),
        "generate_s": None,
        "refresh": {
            label: refreshes[i] if i < len(refreshes) else dict(stopped)
            for i, label in enumerate(REFRESH_RUNS)
        },
        "peers": {
            task: (done[task][-1] if task in done else dict(stopped))
            for task in ("ctas", "pk_insert", "dlt", "sql_checks", "hand_marts")
        },
    }
    return derive(size)


def rerender(
    results_json: Path,
    markdown: Path,
    partial: dict[int, Path] | None = None,
    command: str | None = None,
    notes: list[str] | None = None,
) -> None:
    """The JSON and Markdown again from a run's JSON, after a change to the tables;
    `partial` adds sizes the run was stopped in (size → its folder)."""
    if results_json.exists():
        results = json.loads(results_json.read_text(encoding="utf-8"))
    else:  # stopped in its first size: the machine as it is now
        results = _header(sorted(partial or {}), command, notes)
        results["machine"]["load_average_at_start"] = ["not recorded"]
    results["sizes"] = [derive(size) for size in results["sizes"]]
    for n, folder in (partial or {}).items():
        results["sizes"].append(partial_size(folder, n))
        results["notes"].append(f"{n:,}: stopped before the end; the rows marked not run")
    results["growth"] = growth(results["sizes"])
    results_json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    markdown.write_text(render_markdown(results), encoding="utf-8")


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        text = f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    else:
        text = f"{value:,}"
    return f"{text}{unit}"


def render_markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Figures of `cjm bench scale`: the refresh pipeline at growing sizes, beside a raw",
        "DuckDB load, a primary-keyed INSERT, dlt's merge load and hand-written SQL, all",
        "measured in the same run. Absolute times depend on the machine and on what else it",
        "ran; compare the ratios.",
        "",
        f"- command: `{results['command']}`",
        f"- date: {results['date']}",
        f"- machine: {m['cpus']} CPUs, {m['ram_gib']} GiB RAM, Python {m['python']}, "
        f"DuckDB {m['duckdb']}, {m['platform']}; load average at start "
        f"{' / '.join(str(x) for x in m['load_average_at_start'])}",
    ]
    if results.get("dlt"):
        lines.append(f"- dlt: {results['dlt']}")
    for note in results.get("notes") or []:
        lines.append(f"- note: {note}")
    lines.append("")
    for size in results["sizes"]:
        n = size["n"]
        lines += [
            f"## {n:,} mentions + {size['crm_rows']:,} CRM events",
            "",
            "| run | step | seconds | rows | rows/s | peak RSS, process + dbt (MiB) |",
            "| --- | --- | ---: | ---: | ---: | ---: |",
        ]
        for label in REFRESH_RUNS:
            title = {
                "full": "first refresh",
                "nothing_new": "identical re-run",
                "increment": f"1% new data (+{size['increment_rows']:,} mentions)",
            }[label]
            error = size["refresh"][label].get("error")
            if error:
                lines.append(f"| {title} | {error} | | | | |")
                continue
            for row in size["steps"][label]:
                lines.append(
                    f"| {title} | {row['step']} | {_fmt(row['seconds'])} | {_fmt(row['rows'])} "
                    f"| {_fmt(row['rows_per_s'])} | {_fmt(row['peak_rss_mib'])} |"
                )
        lines += [
            "",
            "| peer on the same data | seconds | rows | peak RSS (MiB) |",
            "| --- | ---: | ---: | ---: |",
        ]
        names = {
            "ctas": "raw DuckDB CREATE TABLE AS",
            "pk_insert": "INSERT into primary-keyed tables",
            "dlt": "dlt merge load (duckdb, primary key)",
            "sql_checks": "the GX checks as one SQL query",
            "hand_marts": "core marts as hand-written SQL",
        }
        for key, name in names.items():
            peer = size["peers"][key]
            if peer.get("error"):
                lines.append(f"| {name} | {peer['error']} | | |")
                continue
            rows = peer.get("rows")
            if isinstance(rows, dict):
                rows = sum(rows.values())
            lines.append(
                f"| {name} | {_fmt(peer.get('seconds'))} | {_fmt(rows)} "
                f"| {_fmt(peer.get('peak_rss_mib'))} |"
            )
        lines += ["", "| ratio | value | goal |", "| --- | ---: | --- |"]
        for key, (label, goal) in RATIOS.items():
            lines.append(f"| {label} | {_fmt(size['ratios'][key])} | {goal} |")
        lines.append("")
    sizes = [s["n"] for s in results["sizes"]]
    span = f"{min(sizes):,} → {max(sizes):,}" if sizes else "—"
    lines += [
        f"## Cost growth ({span})",
        "",
        "The exponent b of cost ≈ a·N^b fitted over the sizes run (1 is linear; goal ≤ 1).",
        "",
        "| cost | exponent |",
        "| --- | ---: |",
    ]
    for key, label in GROWTH.items():
        lines.append(f"| {label} | {_fmt(results['growth'][key])} |")
    lines.append("")
    return "\n".join(lines)


def _header(sizes: list[int], command: str | None, notes: list[str] | None) -> dict[str, Any]:
    return {
        "command": command or "cjm bench scale --sizes " + ",".join(str(s) for s in sizes),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "dlt": f"dlt {_dlt_version()}" if _dlt_version() else DLT_MISSING,
        "notes": list(notes or []),
        "sizes": [],
    }


def run_scale(
    sizes: list[int],
    out: Path | None = None,
    markdown: Path | None = None,
    work: Path | None = None,
    batch_rows: int = scale_data.DEFAULT_BATCH_ROWS,
    notes: list[str] | None = None,
    command: str | None = None,
    say: Any = None,
) -> dict[str, Any]:
    """Every size in turn in a fresh folder (removed after unless `work` is given)."""
    say = say or (lambda line: print(line, flush=True))
    # absolute: the config's relative paths would resolve from the config's own folder
    base = (Path(work) if work else Path(tempfile.mkdtemp(prefix="cjm-bench-scale-"))).resolve()
    results = _header(sizes, command, notes)
    if out:  # from the start: a run stopped in its first size still has its header
        out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    try:
        for n in sizes:
            folder = base / f"n{n}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            results["sizes"].append(bench_size(n, folder, batch_rows, say))
            if not work:
                shutil.rmtree(folder, ignore_errors=True)
            # written after every size: a long run that is stopped keeps what it measured
            results["growth"] = growth(results["sizes"])
            if out:
                out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
            if markdown:
                markdown.write_text(render_markdown(results), encoding="utf-8")
    finally:
        if not work:
            shutil.rmtree(base, ignore_errors=True)
    return results
