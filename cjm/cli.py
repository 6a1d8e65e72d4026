"""`cjm` command line: check-config, run, demo, report, export, show, bench, model.

Bad input ends with one line naming the file, field or row, and a non-zero exit;
tracebacks are for bugs, not for users' mistakes.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cjm.core.config import DEFAULT_CONFIG, DEFAULT_WAREHOUSE, ConfigError
from cjm.core.paths import demo_alerts_file, demo_sources_dir, shipped_config
from cjm.refresh import settings
from cjm.report.texts import LANGUAGES

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
EXIT_LOCKED = 3  # another refresh (--wait) or a reader (CJM_WAREHOUSE_LOCK_WAIT) kept the warehouse
DEMO_CONFIG = shipped_config("demo.yml")


def _quiet_libraries() -> None:
    for name in ("great_expectations", "airflow", "cosmos", "snscrape", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _setup_logging(verbose: bool) -> None:
    level = logging.DEBUG if verbose else logging.INFO
    if sys.stderr.isatty():
        from rich.logging import RichHandler

        logging.basicConfig(
            level=level,
            format="%(message)s",
            handlers=[RichHandler(show_path=False, rich_tracebacks=False)],
        )
    else:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _quiet_libraries()
    if not verbose:
        # `cjm run` prints one line per step itself; the per-task log lines would repeat it.
        for name in ("cjm", "expectations", "extractors"):
            logging.getLogger(name).setLevel(logging.WARNING)


def cmd_check_config(args: argparse.Namespace) -> int:
    try:
        config = settings.load(args.config)
    except ConfigError as exc:
        for err in exc.errors:
            print(f"{exc.path}: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    errors, warnings = settings.environment_problems(config)
    for line in errors:
        print(f"{args.config}: {line}", file=sys.stderr)
    for line in warnings:
        print(f"{args.config}: warning: {line}", file=sys.stderr)
    if errors:
        return EXIT_BAD_INPUT
    print(
        f"{args.config}: OK — {len(config.brands)} brand(s), {len(config.sources)} source(s), "
        f"stages {' → '.join(config.stages.order)}"
    )
    # How mentions will be read for this journey, so a user sees which cues their stage
    # names got (by name, by position or as mapped) before a run, not after.
    from cjm.enrichment.stages import resolve, seed_catalogue

    cues = resolve(config.stages.order, config.stages.stage_cues, seed_catalogue())
    packs = config.enrichment.topic_packs
    print(f"stage cues: {cues.describe()}")
    print(
        "topic packs: "
        + (", ".join(packs) if packs is not None else "all (set enrichment.topic_packs to pick)")
        + "".join(
            f"; {brand}: {', '.join(p)}"
            for brand, p in config.enrichment.topic_packs_by_brand.items()
        )
    )
    return 0


def _run(args: argparse.Namespace, config_path: str, **kwargs: object) -> int:
    from cjm.core.contracts import MissingSecretError
    from cjm.refresh.pipeline import run_refresh

    def on_step(step: str, msg: str) -> None:
        print(f"[{step}] {msg}", flush=True)

    from cjm.core.warehouse import WarehouseBusy
    from cjm.refresh.lock import RunLocked

    try:
        report = run_refresh(
            config_path,
            args.warehouse,
            on_step=on_step,
            lock_wait=args.wait,
            build_always=args.always_build,
            **kwargs,
        )
    except (RunLocked, WarehouseBusy) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_LOCKED
    except ConfigError as exc:
        print(f"{exc.path}: {'; '.join(exc.errors)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except MissingSecretError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    steps = ", ".join(f"{k} {v:.2f} s" for k, v in report.steps.items())
    print(f"run {report.run_id}: {steps}")
    for name, why in report.degraded.items():  # loaded, not failed: the exit code stays
        print(f"DEGRADED {name}: {why}", file=sys.stderr)
    for name, why in report.failures.items():
        print(f"FAILED {name}: {why}", file=sys.stderr)
    return 0 if report.ok else EXIT_FAILED


def cmd_run(args: argparse.Namespace) -> int:
    return _run(args, args.config)


@contextmanager
def demo_sources(warehouse: str) -> Iterator[str]:
    """The demo's live-format sources on 127.0.0.1 for the duration of a block.

    The server (RSS, t.me/s pages, a CRM API) lives only for this run; its URL, a
    per-run CRM token and the folder of the remaining file export reach the config
    through the environment (`${CJM_DEMO_BASE_URL}` etc. in config/demo.yml).
    """
    import secrets

    from cjm.core.warehouse import warehouse_path
    from cjm.demo.server import DemoServer

    os.environ.setdefault("CJM_CUSTOMER_KEY_SECRET", "demo-only-not-a-secret")
    # Next to the warehouse, so the file source's cursor sees the same file on a re-run.
    workdir = demo_sources_dir(warehouse_path(warehouse))
    with DemoServer(token=secrets.token_urlsafe(24), workdir=workdir) as server:
        saved = {k: os.environ.get(k) for k in server.env()}
        os.environ.update(server.env())
        try:
            yield server.base_url
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def cmd_demo(args: argparse.Namespace) -> int:
    """The bundled demo: live-format sources, a demo key, alerts to a local receiver,
    and the CJM table printed."""
    from cjm.core.warehouse import warehouse_path
    from cjm.demo.receiver import run_demo_alerts
    from cjm.show import print_cjm

    config = args.config if args.config_given else str(DEMO_CONFIG)
    received = demo_alerts_file(warehouse_path(args.warehouse))

    def alert_step(cfg: object, warehouse: str | None) -> object:
        return run_demo_alerts(cfg, warehouse, out=received)

    with demo_sources(args.warehouse) as base_url:
        print(f"[demo] sources served on {base_url}", flush=True)
        code = _run(args, config, alert_step=alert_step)
    if received.exists():
        print(f"[demo] alerts received by the local webhook: {received}")
    if warehouse_path(args.warehouse).exists():
        cfg = settings.load(config)
        print_cjm(warehouse_path(args.warehouse), config=cfg)
        from cjm.refresh.tasks import report_dir

        index = report_dir(cfg, args.warehouse) / "index.html"
        if index.exists():
            print(f"[demo] report: {index}")
    return code


def _reading(args: argparse.Namespace, what: Any) -> int:
    """Run a command that reads the marts; bad input (no file, no brand, no marts, a
    broken config) is one line and exit 2."""
    from cjm.report import MartsMissing

    try:
        config = settings.load(args.config)
        return what(config)
    except ConfigError as exc:
        print(f"{exc.path}: {'; '.join(exc.errors)}", file=sys.stderr)
    except (FileNotFoundError, MartsMissing) as exc:
        print(f"cjm {args.command}: {exc}", file=sys.stderr)
    except KeyError as exc:
        print(f"cjm {args.command}: {exc.args[0]}", file=sys.stderr)
    return EXIT_BAD_INPUT


def cmd_report(args: argparse.Namespace) -> int:
    """The HTML report (and with --xlsx the workbook) of any warehouse or BI copy."""
    from cjm.core.warehouse import warehouse_path
    from cjm.refresh.tasks import report_dir
    from cjm.report import export_xlsx, write_reports

    def run(config: Any) -> int:
        out = Path(args.out) if args.out else report_dir(config, args.warehouse)
        source = warehouse_path(args.warehouse)
        written = write_reports(source, out, config, brand=args.brand, language=args.lang)
        for brand, page in written["pages"].items():
            print(f"{brand}: {page}")
        print(f"report: {written['index']}")
        if args.xlsx:
            export_xlsx(source, Path(args.xlsx), config, brand=args.brand, language=args.lang)
            print(f"xlsx: {args.xlsx}")
        return 0

    return _reading(args, run)


def cmd_export(args: argparse.Namespace) -> int:
    """marts.cjm and marts.communication_map in the template layout, one sheet each."""
    from cjm.core.warehouse import warehouse_path
    from cjm.report import export_xlsx

    def run(config: Any) -> int:
        sheets = export_xlsx(
            warehouse_path(args.warehouse), Path(args.out), config, args.brand, args.lang
        )
        print(f"{args.out}: " + ", ".join(f"{n} ({rows} rows)" for n, rows in sheets.items()))
        return 0

    return _reading(args, run)


def cmd_show(args: argparse.Namespace) -> int:
    from cjm.core.warehouse import warehouse_path
    from cjm.show import print_cjm

    def run(config: Any) -> int:
        print_cjm(
            warehouse_path(args.warehouse),
            brand=args.brand,
            language=args.lang,
            config=config,
            comm_map=args.map,
        )
        return 0

    return _reading(args, run)


def cmd_docs(args: argparse.Namespace) -> int:
    """The BI table reference, generated from the dbt docs."""
    from cjm.refresh.docs import table_reference, write_table_reference

    if args.out:
        print(f"written {write_table_reference(Path(args.out))}")
    else:
        print(table_reference(), end="")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from cjm.bench.run import run_bench

    if args.suite == "eval":
        return cmd_eval(args)
    if args.suite == "scale":
        return cmd_bench_scale(args)

    config = args.config if args.config_given else str(DEMO_CONFIG)
    out = Path(args.out) if args.out else None
    if args.config_given:
        run_bench(config, rows=args.rows, out=out)
    else:  # the demo config reads its live sources from the local demo server
        import tempfile

        with (
            tempfile.TemporaryDirectory(prefix="cjm-bench-src-") as tmp,
            demo_sources(str(Path(tmp) / "warehouse.duckdb")),
        ):
            run_bench(config, rows=args.rows, out=out, demo=True)
    return 0


def cmd_bench_scale(args: argparse.Namespace) -> int:
    """The refresh at growing sizes beside its peers (cjm.bench.scale)."""
    from cjm.bench.scale import DEFAULT_SIZES, parse_sizes, run_scale

    try:
        sizes = parse_sizes(args.sizes) if args.sizes else list(DEFAULT_SIZES)
    except ValueError as exc:
        print(f"cjm bench scale: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    results = run_scale(
        sizes,
        out=Path(args.out) if args.out else None,
        markdown=Path(args.markdown) if args.markdown else None,
        work=Path(args.work) if args.work else None,
        notes=args.note,
        command="cjm bench " + " ".join(sys.argv[sys.argv.index("scale") :])
        if "scale" in sys.argv
        else None,
    )
    failed = [
        f"{size['n']}: {where}"
        for size in results["sizes"]
        for where, run in size["refresh"].items()
        if run.get("error") or not run.get("ok")
    ]
    for line in failed:
        print(f"cjm bench scale: refresh failed at {line}", file=sys.stderr)
    return EXIT_FAILED if failed else 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Quality on the real labelled dev data (sentiment, relevance, spikes)."""
    from cjm.bench.evaluation import default_data_dir
    from cjm.bench.evaluation.harness import run_eval

    data = Path(args.data) if args.data else default_data_dir()
    try:
        run_eval(data, sample=args.sample, out=Path(args.out) if args.out else None)
    except FileNotFoundError as exc:
        print(f"cjm bench eval: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_model(args: argparse.Namespace) -> int:
    """Rebuild (or --check) the shipped sentiment models from the dev data."""
    from cjm.bench.evaluation import default_data_dir
    from cjm.enrichment.train import build

    data = Path(args.data) if args.data else default_data_dir()
    try:
        report = build(data, check=args.check)
    except (FileNotFoundError, RuntimeError) as exc:
        print(f"cjm model build: {exc}", file=sys.stderr)
        return 2
    for language, entry in report.items():
        state = (
            ("same as the shipped file" if entry["same"] else "DIFFERS from the shipped file")
            if args.check
            else f"written to {entry['path']}"
        )
        print(
            f"{language}: {entry['training_rows']} training rows, {entry['features']} "
            f"features, {entry['fingerprint'][:12]} — {state}"
        )
    return 0 if not args.check or all(e["same"] for e in report.values()) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cjm", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config", default=None, help=f"config file (default {DEFAULT_CONFIG}, env CJM_CONFIG)"
    )
    parser.add_argument(
        "--warehouse",
        default=None,
        help=f"DuckDB warehouse (default {DEFAULT_WAREHOUSE}, env CJM_WAREHOUSE)",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, fn, help_ in (
        ("check-config", cmd_check_config, "validate the config and print every error"),
        ("run", cmd_run, "one full refresh: extract → validate → load → dbt build → publish"),
        ("demo", cmd_demo, "run the pipeline on the bundled demo data and print the CJM"),
        ("report", cmd_report, "write the HTML report (one page per brand) of a warehouse"),
        ("export", cmd_export, "export marts.cjm and the communication map as XLSX"),
        ("show", cmd_show, "print the CJM table (--map: the communication map) of a brand"),
        ("bench", cmd_bench, "benchmark: refresh step costs, loader and validation ratios"),
        ("model", cmd_model, "rebuild the shipped sentiment models from the dev data"),
        ("docs", cmd_docs, "print (--out: write) the BI table reference from the dbt docs"),
    ):
        p = sub.add_parser(name, help=help_)
        p.set_defaults(func=fn)
        # Accept the global options after the command too (`cjm run --config x`).
        p.add_argument("--config", dest="sub_config", default=None, help=argparse.SUPPRESS)
        p.add_argument("--warehouse", dest="sub_warehouse", default=None, help=argparse.SUPPRESS)
        if name in ("run", "demo"):
            p.add_argument(
                "--wait",
                type=float,
                default=None,
                help="seconds to wait for another refresh of the warehouse to finish "
                "(default 600, env CJM_RUN_LOCK_WAIT); then exit 3",
            )
            p.add_argument(
                "--always-build",
                action="store_true",
                help="run dbt even when nothing it reads changed since its last build",
            )
        if name in ("report", "export", "show"):
            p.add_argument("--brand", default=None, help="only this brand (default: every brand)")
            p.add_argument(
                "--lang",
                choices=list(LANGUAGES),
                default=None,
                help="the language of the page (default: the brand's language in the config)",
            )
        if name == "report":
            p.add_argument(
                "--out",
                default=None,
                help="folder for the pages (default: report.dir, data/report)",
            )
            p.add_argument("--xlsx", default=None, help="also write the XLSX export to this file")
        if name == "docs":
            p.add_argument("--out", default=None, help="write the page here (docs/TABLES.md)")
        if name == "export":
            p.add_argument("format", choices=["xlsx"], help="xlsx: an Excel workbook")
            p.add_argument("--out", required=True, help="the file to write")
        if name == "show":
            p.add_argument("--map", action="store_true", help="the communication map instead")
        if name == "bench":
            p.add_argument(
                "suite",
                nargs="?",
                choices=["refresh", "eval", "scale"],
                default="refresh",
                help="refresh: step costs and ratios (default); eval: quality on real data; "
                "scale: the refresh at 10^5..10^7 rows beside raw DuckDB and dlt",
            )
            p.add_argument(
                "--sizes", default=None, help="scale: rows per size (default 1e5,1e6,1e7)"
            )
            p.add_argument("--markdown", default=None, help="scale: also write Markdown here")
            p.add_argument(
                "--work", default=None, help="scale: keep the exports and warehouses here"
            )
            p.add_argument(
                "--note", action="append", default=None, help="scale: a note for the Markdown"
            )
            p.add_argument("--rows", type=int, default=200_000, help="rows for load/validation")
            p.add_argument("--out", default=None, help="also write the results as JSON here")
        if name in ("bench", "model"):
            p.add_argument(
                "--data", default=None, help="the labelled dev data (default ../shared/data)"
            )
        if name == "bench":
            p.add_argument("--sample", type=int, default=None, help="eval: rows per set")
        if name == "model":
            p.add_argument("action", choices=["build"], help="build: fit and write the models")
            p.add_argument("--check", action="store_true", help="compare with the shipped files")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    given = args.sub_config or args.config
    args.config_given = bool(given or os.environ.get("CJM_CONFIG"))
    args.config = given or os.environ.get("CJM_CONFIG") or DEFAULT_CONFIG
    args.warehouse = (
        args.sub_warehouse or args.warehouse or os.environ.get("CJM_WAREHOUSE") or DEFAULT_WAREHOUSE
    )
    _setup_logging(args.verbose)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
