"""Validate one landing batch with Great Expectations and split it into good and bad rows.

Why row-level: a refresh must not stop because one record of ten thousand is bad,
nor load it silently. GX runs the entity's suite with result_format COMPLETE, which
lists the index of every failing row per expectation (`unexpected_index_list`);
those rows go to quarantine with a reason, the rest are loaded.

Why pandas: GX 1.24's SQL datasource on a DuckDB file (through duckdb-engine) fails on
this stack — every metric bundle raises `IndexError` in
`SqlAlchemyExecutionEngine.resolve_metric_bundle` — so batches are validated as
DataFrames before they load. A landing file is screened by DuckDB first (sql.py: the
same suite as SQL), and only the rows it flags, plus a canary of the others, reach GX.

The GX context, suites, validation definitions and checkpoints are built once per
process and reused: a refresh validates once per source, and building them costs
more than validating a small batch.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from cjm.core.contracts import ENTITIES, ERRORS_COLUMN
from cjm.core.sources import source_types

from ._gx import load_gx
from .suites import (
    LATEST_ALLOWED_PARAMETER,
    REASON,
    REASON_ABOVE,
    REASON_BELOW,
    check_key,
    suite_for,
)

log = logging.getLogger(__name__)

REASON_COLUMN = "reason"
DEFAULT_FUTURE_TOLERANCE = timedelta(hours=1)
# COMPLETE is what lists every failing row (`unexpected_index_list`), not only the
# first 20. The rest is switched off because the runner reads the values from the
# frame itself: the failing values, their counts and a pandas filter expression
# naming every failing index would be built, deep-copied and JSON-converted by GX
# for each check, which took longer than the checks on a batch with many bad rows.
RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "exclude_unexpected_values": True,
    "partial_unexpected_count": 0,
    "return_unexpected_index_query": False,
}
_BETWEEN = "expect_column_values_to_be_between"
# "published_at: '31.02.2024' does not match ...; amount: ..." -> one entry per field.
_ERROR_SPLIT = re.compile(r";\s*(?=[A-Za-z_][\w.]*:\s)")
_ERROR_FIELD = re.compile(r"^([A-Za-z_][\w.]*):\s")
_MAX_SHOWN = 80


class ValidationError(RuntimeError):
    """GX could not evaluate a check (wrong column type, GX bug): nothing is decided."""


@dataclass
class ValidationOutcome:
    """The result of validating one batch.

    `passed` and `quarantined` keep the caller's columns, index and row order;
    `quarantined` has one more column, `reason`. rows_in == rows_passed +
    rows_quarantined always holds.
    """

    entity: str
    passed: pd.DataFrame
    quarantined: pd.DataFrame
    failed_expectations: dict[str, int] = field(default_factory=dict)
    success: bool = True
    rows_in: int = 0
    rows_passed: int = 0
    rows_quarantined: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class _Prepared:
    """What validating an entity needs, built once per process."""

    checkpoint: Any
    columns: tuple[str, ...]  # the columns the suite reads, in suite order
    order: dict[str, int]  # check key -> position in the suite (order of reasons)


_run_lock = threading.Lock()


def validate_frame(
    entity: str,
    df: pd.DataFrame,
    *,
    now: datetime | None = None,
    future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE,
) -> ValidationOutcome:
    """Run the entity's suite on `df`; return good rows and quarantined rows with reasons.

    `now` is the reference for "not in the future" and should be passed by the
    caller (the run's fetch time) so results are reproducible; it must be
    timezone-aware. When omitted the current UTC time is used.

    Raises ValueError when a column the suite reads is missing, and
    ValidationError when GX cannot evaluate a check: in both cases the batch is
    not judged at all, rather than passed by accident.
    """
    started = time.perf_counter()
    if now is None:
        now = datetime.now(UTC)
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (UTC), got a naive datetime")
    prepared = _prepare(entity, source_types())
    missing = [c for c in prepared.columns if c not in df.columns]
    if missing:
        raise ValueError(f"{entity} batch lacks columns the suite checks: {missing}")

    frame = _frame_for_gx(entity, df, prepared.columns)
    params = {LATEST_ALLOWED_PARAMETER: pd.Timestamp(now + future_tolerance).tz_convert("UTC")}
    with _run_lock:  # one shared context per process; GX makes no thread-safety promise
        result = prepared.checkpoint.run(
            batch_parameters={"dataframe": frame}, expectation_parameters=params
        )
    (suite_result,) = result.run_results.values()

    failures: dict[int, list[tuple[int, str, str]]] = {}  # row -> [(order, column, text)]
    failed_expectations: dict[str, int] = {}
    for er in suite_result.results:
        cfg = er.expectation_config
        column = cfg.kwargs["column"]
        key = check_key(cfg.type, column)
        rows = _failing_rows(key, er)
        if not rows:
            continue
        failed_expectations[key] = len(rows)
        # Only the failing values: materialising a whole datetime column as Python
        # objects would cost seconds on a million rows.
        values = frame[column].take(rows).tolist()
        texts: dict[Any, str] = {}  # bad values repeat (the same wrong source_type...)
        for pos, value in zip(rows, values, strict=True):
            text = texts.get(value)
            if text is None:
                text = texts[value] = _describe(cfg, value, params)
            failures.setdefault(pos, []).append((prepared.order[key], column, text))

    bad = np.zeros(len(df), dtype=bool)
    bad_rows = sorted(failures)
    bad[bad_rows] = True
    passed = df.iloc[~bad]
    quarantined = df.iloc[bad].copy()
    quarantined[REASON_COLUMN] = pd.Series(
        [_reason(failures[pos]) for pos in bad_rows], index=quarantined.index, dtype=object
    )
    outcome = ValidationOutcome(
        entity=entity,
        passed=passed,
        quarantined=quarantined,
        failed_expectations=failed_expectations,
        success=not bad_rows,
        rows_in=len(df),
        rows_passed=len(passed),
        rows_quarantined=len(quarantined),
        seconds=time.perf_counter() - started,
    )
    log.info(
        "validated %s: %d in, %d passed, %d quarantined in %.2fs %s",
        entity,
        outcome.rows_in,
        outcome.rows_passed,
        outcome.rows_quarantined,
        outcome.seconds,
        failed_expectations or "",
    )
    return outcome


@cache
def _context() -> Any:
    """One ephemeral GX context per process: nothing is written to disk (no gx/ folder)."""
    gx, _ = load_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # tqdm bars on stderr would interleave with every task log line.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


@cache
def _prepare(entity: str, types: tuple[str, ...]) -> _Prepared:
    """Datasource, dataframe asset, whole-frame batch, suite, definition and checkpoint.

    Built again (under new names) only when the source-type registry changed, since the
    suite's accepted `source_type` values come from it."""
    tag = hashlib.sha256(",".join(types).encode()).hexdigest()[:8]
    if entity not in ENTITIES:
        raise ValueError(f"unknown entity {entity!r}; known: {sorted(ENTITIES)}")
    gx, _ = load_gx()
    context = _context()
    fresh = suite_for(entity)
    fresh.name = f"{fresh.name}.{tag}"
    suite = context.suites.add(fresh)
    batch = (
        context.data_sources.add_pandas(name=f"cjm_{entity}_{tag}")
        .add_dataframe_asset(name=f"{entity}_landing_{tag}")
        .add_batch_definition_whole_dataframe(name="whole_batch")
    )
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{entity}_landing_{tag}", data=batch, suite=suite)
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"{entity}_landing_{tag}",
            validation_definitions=[definition],
            result_format=RESULT_FORMAT,
        )
    )
    columns: list[str] = []
    order: dict[str, int] = {}
    for i, expectation in enumerate(suite.expectations):
        order[check_key(expectation.expectation_type, expectation.column)] = i
        if expectation.column not in columns:
            columns.append(expectation.column)
    return _Prepared(checkpoint=checkpoint, columns=tuple(columns), order=order)


def _frame_for_gx(entity: str, df: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """The checked columns only, indexed 0..n-1, timestamps as UTC datetimes.

    A RangeIndex makes `unexpected_index_list` row positions whatever index the
    caller's frame has (even a repeated one). Leaving out the unchecked columns keeps
    GX from copying and fingerprinting data it never reads: it hashes every batch,
    and a list column such as matched_keywords is unhashable, which makes it pickle
    the whole frame instead.
    """
    frame = df.loc[:, list(columns)].reset_index(drop=True)
    ts = ENTITIES[entity]["ts"]
    if not isinstance(frame[ts].dtype, pd.DatetimeTZDtype):
        # Naive values are UTC by contract; anything unparseable becomes NaT and is
        # reported as "missing or unparseable", the same as an extractor's failed parse.
        frame[ts] = pd.to_datetime(frame[ts], utc=True, errors="coerce")
    return frame


def _failing_rows(key: str, er: Any) -> list[int]:
    """Row positions that failed one expectation; refuse results GX could not compute."""
    info = er.exception_info or {}
    problems = [info] if "raised_exception" in info else list(info.values())
    for problem in problems:
        if isinstance(problem, dict) and problem.get("raised_exception"):
            message = problem.get("exception_message")
            raise ValidationError(f"{key}: GX could not evaluate it: {message}")
    result = er.result or {}
    rows = result.get("unexpected_index_list") or []
    count = result.get("unexpected_count") or 0
    if len(rows) != count:  # never judge from a truncated list
        raise ValidationError(f"{key}: {count} failing rows but {len(rows)} indices returned")
    return [int(r) for r in rows]


def _describe(cfg: Any, value: Any, params: dict[str, Any]) -> str:
    """The reason text of one failed check for one value, from the expectation's meta."""
    meta = cfg.meta or {}
    low, high = cfg.kwargs.get("min_value"), cfg.kwargs.get("max_value")
    low, high = _resolve(low, params), _resolve(high, params)
    template = meta.get(REASON, "failed {value}")
    if cfg.type == _BETWEEN:
        template = meta.get(
            REASON_ABOVE if high is not None and value > high else REASON_BELOW, template
        )
    return template.format(
        value=_show(value),
        raw=str(value),
        min=_show(low, quote=False),
        max=_show(high, quote=False),
    )


def _resolve(bound: Any, params: dict[str, Any]) -> Any:
    if isinstance(bound, dict) and "$PARAMETER" in bound:
        return params[bound["$PARAMETER"]]
    return bound


def _show(value: Any, *, quote: bool = True) -> str:
    """A short printable form: ISO times, quoted and cut strings."""
    if isinstance(value, datetime):
        return value.isoformat()
    text = repr(value) if quote and isinstance(value, str) else str(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def _reason(failed: list[tuple[int, str, str]]) -> str:
    """Join a row's failures in suite order; put the extractor's parse error next to its field.

    "published_at: missing or unparseable (published_at: '31.02.2024 10:00' does not
    match format '%d.%m.%Y %H:%M'); text: empty or whitespace only"
    """
    failed = sorted(failed)
    errors = [t for _, c, t in failed if c == ERRORS_COLUMN]
    entries = [e.strip() for e in _ERROR_SPLIT.split(errors[0])] if errors else []
    parts: list[str] = []
    for _, column, text in failed:
        if column == ERRORS_COLUMN:
            continue
        own = [e for e in entries if _field_of(e) == column]
        entries = [e for e in entries if e not in own]
        parts.append(f"{column}: {text}" + (f" ({'; '.join(own)})" if own else ""))
    if entries:
        parts.append(f"{ERRORS_COLUMN}: {'; '.join(entries)}")
    return "; ".join(parts)


def _field_of(entry: str) -> str | None:
    match = _ERROR_FIELD.match(entry)
    return match.group(1) if match else None
