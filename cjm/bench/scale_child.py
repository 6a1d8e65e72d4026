"""The work `cjm bench scale` measures, one task per child process.

Each task runs in its own process so its peak RSS is its own (the parent reads it with
os.wait4) and no task warms a cache for the next. `python -m cjm.bench.scale_child TASK
ARGS_JSON RESULT_JSON`: the task's figures are written to RESULT_JSON.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from cjm.bench import journey_data
from cjm.bench.scale_data import CRM_COLUMNS, MENTION_COLUMNS

# dbt nodes that are the enrichment (scoring the mentions' text), timed apart from the
# rest of the build; a refresh step of that name counts too, should enrichment become
# a step of its own before dbt.
ENRICHMENT_MARK = "enrich"
SAMPLE_SECONDS = 0.1
# The peers load the export files as they are, keyed on the columns the bench config
# maps to native_id.
ID_COLUMNS = {
    entity: next(column for column, field in columns.items() if field == "native_id")
    for entity, columns in (("mention", MENTION_COLUMNS), ("crm_event", CRM_COLUMNS))
}


def _mib(kib: int) -> float:
    return round(kib / 1024, 1)


class TreeSampler:
    """Peak RSS of this process and of its children (dbt), per step of the refresh.

    The pipeline announces each piece of work when it ends (`on_step`), so the peak seen
    since the previous announcement belongs to the step just announced.
    """

    def __init__(self) -> None:
        import psutil

        self._me = psutil.Process()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._window_tree = self._window_self = 0
        self.tree: dict[str, float] = {}
        self.own: dict[str, float] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> tuple[int, int]:
        import psutil

        own = self._me.memory_info().rss
        tree = own
        for child in self._me.children(recursive=True):
            with contextlib.suppress(psutil.Error):  # ended between listing and reading
                tree += child.memory_info().rss
        return own, tree

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            own, tree = self._sample()
            with self._lock:
                self._window_self = max(self._window_self, own)
                self._window_tree = max(self._window_tree, tree)

    def start(self) -> None:
        self._thread.start()

    def step_ended(self, step: str, _message: str = "") -> None:
        own, tree = self._sample()
        with self._lock:
            tree = max(tree, self._window_tree)
            own = max(own, self._window_self)
            self.tree[step] = max(self.tree.get(step, 0.0), round(tree / 2**20, 1))
            self.own[step] = max(self.own.get(step, 0.0), round(own / 2**20, 1))
            self._window_tree = self._window_self = 0

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _dbt_nodes(warehouse: Path) -> list[dict[str, Any]]:
    from cjm.refresh.dbt import dbt_target_dir

    results = Path(dbt_target_dir(warehouse)) / "run_results.json"
    if not results.exists():
        return []
    rows = json.loads(results.read_text(encoding="utf-8")).get("results", [])
    return [
        {
            "node": r["unique_id"],
            "status": r["status"],
            "seconds": round(float(r.get("execution_time") or 0.0), 3),
        }
        for r in rows
    ]


def _landed(landing: Path, run_id: str) -> dict[str, list[str]]:
    """The landing files each source's extract wrote in this run, from its manifest."""
    from cjm.core.landing import safe_run_id

    out: dict[str, list[str]] = {}
    for manifest in landing.glob(f"*/{safe_run_id(run_id)}.extract.manifest.json"):
        m = json.loads(manifest.read_text(encoding="utf-8"))
        paths = m.get("landing_paths") or [m.get("landing_path")]
        out[m["source"]] = [p for p in paths if p and Path(p).exists()]
    return out


def task_refresh(args: dict[str, Any]) -> dict[str, Any]:
    """One refresh as `cjm run` does it, with no alert step (a benchmark pages no one)."""
    from cjm.refresh import tasks
    from cjm.refresh.pipeline import run_refresh
    from cjm.refresh.settings import config_of

    os.environ.setdefault("CJM_CUSTOMER_KEY_SECRET", "bench-only")
    warehouse = Path(args["warehouse"])
    sampler = TreeSampler()
    sampler.start()
    started = time.perf_counter()
    report = run_refresh(
        args["config"],
        str(warehouse),
        run_id=args["run_id"],
        on_step=sampler.step_ended,
        alert_step=None,
    )
    total = time.perf_counter() - started
    sampler.stop()
    # a skipped build (nothing dbt reads changed) ran no node: the file is the last build's
    nodes = [] if report.dbt.get("skipped") else _dbt_nodes(warehouse)
    enrichment = sum(n["seconds"] for n in nodes if ENRICHMENT_MARK in n["node"].split(".")[-1])
    enrichment += sum(s for k, s in report.steps.items() if ENRICHMENT_MARK in k)
    landing = tasks.landing_root(config_of(args["config"]), str(warehouse))
    return {
        "ok": report.ok,
        "failures": report.failures,
        "total_s": round(total, 3),
        "steps": report.steps,
        "enrichment_s": round(enrichment, 3),
        "sources": report.sources,
        "dbt": report.dbt,
        "slowest_nodes": sorted(nodes, key=lambda n: -n["seconds"])[:8],
        "peak_rss_mib_by_step": sampler.tree,
        "own_rss_mib_by_step": sampler.own,
        "own_peak_rss_mib": _mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss),
        "dbt_peak_rss_mib": _mib(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss),
        "landed": _landed(landing, args["run_id"]),
    }


def _timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return round(time.perf_counter() - started, 3)


def _newest_first(key: str, order: str) -> str:
    """One row per id: the last version of the export (an edited re-export wins)."""
    return f"qualify row_number() over (partition by {key} order by {order} desc) = 1"


def task_ctas(args: dict[str, Any]) -> dict[str, Any]:
    """The floor: DuckDB reading the same files into plain tables, no keys, no checks."""
    con = duckdb.connect(args["db"])
    seconds = _timed(
        lambda: (
            con.execute(
                f"create table mentions as select * from read_parquet('{args['mentions']}')"
            ),
            con.execute(f"create table crm_events as select * from read_parquet('{args['crm']}')"),
        )
    )
    rows = sum(
        con.execute(f"select count(*) from {t}").fetchone()[0] for t in ("mentions", "crm_events")
    )
    con.close()
    return {"seconds": seconds, "rows": rows}


def _arrow_ddl(schema: pa.Schema, key: str) -> str:
    con = duckdb.connect()
    con.register("empty", schema.empty_table())
    cols = con.execute("describe empty").fetchall()
    con.close()
    body = ", ".join(f'"{name}" {kind}' for name, kind, *_ in cols)
    return f"({body}, primary key ({key}))"


def task_pk_insert(args: dict[str, Any]) -> dict[str, Any]:
    """What a hand-rolled loader does: INSERT into primary-keyed tables, last version per id."""
    from cjm.bench.scale_data import CRM_SCHEMA, MENTION_SCHEMA

    con = duckdb.connect(args["db"])
    con.execute(f"create table mentions {_arrow_ddl(MENTION_SCHEMA, ID_COLUMNS['mention'])}")
    con.execute(f"create table crm_events {_arrow_ddl(CRM_SCHEMA, ID_COLUMNS['crm_event'])}")
    seconds = _timed(
        lambda: (
            con.execute(
                f"insert into mentions select * from read_parquet('{args['mentions']}') "
                + _newest_first(ID_COLUMNS["mention"], "views, likes, length(body)")
            ),
            con.execute(
                f"insert into crm_events select * from read_parquet('{args['crm']}') "
                + _newest_first(ID_COLUMNS["crm_event"], "coalesce(amount, 0)")
            ),
        )
    )
    rows = sum(
        con.execute(f"select count(*) from {t}").fetchone()[0] for t in ("mentions", "crm_events")
    )
    con.close()
    return {"seconds": seconds, "rows": rows}


def task_dlt(args: dict[str, Any]) -> dict[str, Any]:
    """dlt's merge load (duckdb destination, primary key) of the same files: the peer."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    import dlt
    from dlt.destinations import duckdb as dlt_duckdb

    def batches(pattern: str) -> Any:
        for path in sorted(Path(pattern).parent.glob(Path(pattern).name)):
            for batch in pq.ParquetFile(path).iter_batches(batch_size=args["batch_rows"]):
                yield pa.Table.from_batches([batch])

    mentions = dlt.resource(
        batches(args["mentions"]),
        name="mentions",
        write_disposition="merge",
        primary_key=ID_COLUMNS["mention"],
    )
    crm = dlt.resource(
        batches(args["crm"]),
        name="crm_events",
        write_disposition="merge",
        primary_key=ID_COLUMNS["crm_event"],
    )
    pipeline = dlt.pipeline(
        pipeline_name="cjm_bench",
        destination=dlt_duckdb(args["db"]),
        dataset_name="raw",
        pipelines_dir=args["pipelines_dir"],
    )
    seconds = _timed(lambda: pipeline.run([mentions, crm]))
    con = duckdb.connect(args["db"], read_only=True)
    rows = sum(
        con.execute(f"select count(*) from raw.{t}").fetchone()[0]
        for t in ("mentions", "crm_events")
    )
    con.close()
    return {"seconds": seconds, "rows": rows, "version": dlt.__version__}


def _files(paths: list[str]) -> str:
    return "[" + ", ".join(f"'{p}'" for p in paths) + "]"


def task_sql_checks(args: dict[str, Any]) -> dict[str, Any]:
    """The GX suites' checks as one SQL query per entity over the same landing files."""
    from cjm.core.sources import source_types
    from cjm.expectations.runner import DEFAULT_FUTURE_TOLERANCE
    from cjm.expectations.suites import EARLIEST_ALLOWED

    types = ", ".join(f"'{t}'" for t in source_types())
    ahead = f"interval {int(DEFAULT_FUTURE_TOLERANCE.total_seconds())} second"
    con = duckdb.connect()
    queries = {
        "mention": f"""
            select count(*) filter (where mention_id is null or source is null
                or source_type is null or source_type not in ({types}) or native_id is null
                or text is null or trim(text) = '' or published_at is null
                or published_at < '{EARLIEST_ALLOWED}'::timestamptz
                or published_at > now() + {ahead}
                or (language is not null and not regexp_full_match(language, '[a-z]{{2}}'))
                or _errors is not null),
              count(mention_id) - count(distinct mention_id)
            from read_parquet({_files(args["mention"])})""",
        "crm_event": f"""
            select count(*) filter (where event_id is null or source is null
                or native_id is null or customer_key is null or event_type is null
                or occurred_at is null or occurred_at < '{EARLIEST_ALLOWED}'::timestamptz
                or occurred_at > now() + {ahead} or amount < 0 or _errors is not null),
              count(event_id) - count(distinct event_id)
            from read_parquet({_files(args["crm_event"])})""",
    }
    failing: dict[str, list[int]] = {}

    def run() -> None:
        for entity, sql in queries.items():
            if args.get(entity):
                failing[entity] = list(con.execute(sql).fetchone())

    seconds = _timed(run)
    con.close()
    return {"seconds": seconds, "failing_and_repeated": failing}


def task_hand_marts(args: dict[str, Any]) -> dict[str, Any]:
    """Stage conversion (window, per first-touch channel) and daily/hourly mention counts
    written by hand over the warehouse's raw tables: what the dbt marts cost at least."""
    stages = ", ".join(
        f"('{event}', '{stage}', {journey_data.STAGES.index(stage)})"
        for event, stage in journey_data.EVENT_STAGES.items()
    )
    window = journey_data.WINDOW_DAYS
    con = duckdb.connect()
    con.execute(f"attach '{args['warehouse']}' as w (read_only)")
    statements = [
        f"""create table stage_entries as
            select e.brand, e.customer_key, s.stage, s.pos, min(e.occurred_at) as entered_at
            from w.raw.crm_events e join (values {stages}) s(event_type, stage, pos)
              using (event_type)
            group by all""",
        """create table first_touch as
            select brand, customer_key, arg_min(channel, occurred_at) as channel
            from w.raw.crm_events group by all""",
        f"""create table stage_conversion as
            select a.brand, f.channel, a.stage as from_stage, count(*) as entered,
              count(b.customer_key) as converted, count(b.customer_key) / count(*) as rate
            from stage_entries a join first_touch f using (brand, customer_key)
            left join stage_entries b on b.brand = a.brand
              and b.customer_key = a.customer_key and b.pos = a.pos + 1
              and b.entered_at between a.entered_at and a.entered_at + interval {window} day
            group by all""",
        """create table mentions_daily as
            select brand, channel, date_trunc('day', published_at) as day, count(*) as mentions
            from w.raw.mentions group by all""",
        """create table mentions_hourly as
            select brand, channel, date_trunc('hour', published_at) as hour, count(*) as mentions
            from w.raw.mentions group by all""",
    ]
    seconds = _timed(lambda: [con.execute(s) for s in statements])
    rows = {
        t: con.execute(f"select count(*) from {t}").fetchone()[0]
        for t in ("stage_conversion", "mentions_daily", "mentions_hourly")
    }
    con.close()
    return {"seconds": seconds, "rows": rows}


TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "refresh": task_refresh,
    "ctas": task_ctas,
    "pk_insert": task_pk_insert,
    "dlt": task_dlt,
    "sql_checks": task_sql_checks,
    "hand_marts": task_hand_marts,
}


def main(argv: list[str]) -> int:
    task, args_json, result_json = argv
    result = TASKS[task](json.loads(args_json))
    Path(result_json).write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
