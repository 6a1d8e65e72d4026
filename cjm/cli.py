"""`cjm` command line: check-config, run, demo (report and bench come with their issues).

Bad input ends with one line naming the file, field or row, and a non-zero exit;
tracebacks are for bugs, not for users' mistakes.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from cjm.config import DEFAULT_CONFIG, DEFAULT_WAREHOUSE, ConfigError, load_config

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = PROJECT_ROOT / "config" / "demo.yml"


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


def cmd_check_config(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        for err in exc.errors:
            print(f"{exc.path}: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(
        f"{args.config}: OK — {len(config.brands)} brand(s), {len(config.sources)} source(s), "
        f"stages {' → '.join(config.stages.order)}"
    )
    return 0


def _run(args: argparse.Namespace, config_path: str) -> int:
    from cjm.contracts import MissingSecretError
    from cjm.pipeline import run_refresh

    def on_step(step: str, msg: str) -> None:
        print(f"[{step}] {msg}", flush=True)

    try:
        report = run_refresh(config_path, args.warehouse, on_step=on_step)
    except ConfigError as exc:
        print(f"{exc.path}: {'; '.join(exc.errors)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except MissingSecretError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    steps = ", ".join(f"{k} {v:.2f} s" for k, v in report.steps.items())
    print(f"run {report.run_id}: {steps}")
    for name, why in report.failures.items():
        print(f"FAILED {name}: {why}", file=sys.stderr)
    return 0 if report.ok else EXIT_FAILED


def cmd_run(args: argparse.Namespace) -> int:
    return _run(args, args.config)


def cmd_demo(args: argparse.Namespace) -> int:
    """The bundled demo: offline sources, a demo key for hashing, the CJM table printed."""
    os.environ.setdefault("CJM_CUSTOMER_KEY_SECRET", "demo-only-not-a-secret")
    config = args.config if args.config_given else str(DEMO_CONFIG)
    code = _run(args, config)
    from cjm.show import print_cjm
    from cjm.warehouse import warehouse_path

    if warehouse_path(args.warehouse).exists():
        print_cjm(warehouse_path(args.warehouse))
    return code


def cmd_bench(args: argparse.Namespace) -> int:
    from cjm.bench import run_bench

    config = args.config if args.config_given else str(DEMO_CONFIG)
    run_bench(config, rows=args.rows, out=Path(args.out) if args.out else None)
    return 0


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
        ("bench", cmd_bench, "benchmark: refresh step costs, loader and validation ratios"),
    ):
        p = sub.add_parser(name, help=help_)
        p.set_defaults(func=fn)
        # Accept the global options after the command too (`cjm run --config x`).
        p.add_argument("--config", dest="sub_config", default=None, help=argparse.SUPPRESS)
        p.add_argument("--warehouse", dest="sub_warehouse", default=None, help=argparse.SUPPRESS)
        if name == "bench":
            p.add_argument("--rows", type=int, default=200_000, help="rows for load/validation")
            p.add_argument("--out", default=None, help="also write the results as JSON here")
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
