"""Expectation suites for the landing batches, defined in code.

Why in code: a suite is part of the record contract (cjm.contracts), so it is
versioned, reviewed and unit-tested with it, not kept in a GX project folder.

Each expectation carries, in its `meta`, the human-readable reason the runner puts
on a quarantined row, so the check and its explanation live in one place:
- `reason`: a template with `{value}` (the offending value, shown short);
- for `expect_column_values_to_be_between`, `reason_above` / `reason_below`, with
  `{value}`, `{min}` and `{max}`, because "in the future" and "before 1990" need
  different words.

Suites are timeless: the upper bound of event timestamps ("now + tolerance") is
the suite parameter `LATEST_ALLOWED_PARAMETER`, supplied per run by the runner,
so a cached suite never carries a stale clock and tests pin "now".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cjm.core.contracts import ERRORS_COLUMN
from cjm.core.sources import source_types

from ._gx import load_gx

if TYPE_CHECKING:
    import great_expectations as gx

# Suite parameter: the latest acceptable event time (now + future tolerance).
LATEST_ALLOWED_PARAMETER = "latest_allowed_at"
# Nothing this project ingests predates it; earlier values are sentinels
# (1900-01-01, the 1970 epoch) or day/month mix-ups, and would poison journey windows.
EARLIEST_ALLOWED = datetime(1990, 1, 1, tzinfo=UTC)
# At least one non-whitespace character (search semantics: anywhere in the value).
NOT_BLANK_REGEX = r"\S"
# ISO 639-1: two lower-case letters. Extractors normalise "en-US" to "en".
LANGUAGE_REGEX = r"^[a-z]{2}$"

# Keys of an expectation's `meta` that the runner reads.
REASON = "reason"
REASON_ABOVE = "reason_above"
REASON_BELOW = "reason_below"


def check_key(expectation_type: str, column: str) -> str:
    """Name of one check in `failed_expectations` and in logs: `<expectation>/<column>`.

    Every suite keeps these unique (asserted when it is built), so a count can be
    traced back to exactly one expectation.
    """
    return f"{expectation_type}/{column}"


def mention_suite() -> gx.ExpectationSuite:
    """Checks every mention batch must pass before it is loaded into raw.mentions."""
    _, gxe = load_gx()
    return _suite(
        "cjm.mention",
        [
            _not_null(gxe, "mention_id"),
            _unique(gxe, "mention_id"),
            _not_null(gxe, "source"),
            _not_null(gxe, "source_type"),
            gxe.ExpectColumnValuesToBeInSet(
                column="source_type",
                value_set=list(source_types()),  # the registry as it is when the suite is built
                meta={
                    REASON: f"unknown value {{value}} (expected one of {', '.join(source_types())})"
                },
            ),
            _not_null(gxe, "native_id"),
            _not_null(gxe, "text"),
            gxe.ExpectColumnValuesToMatchRegex(
                column="text", regex=NOT_BLANK_REGEX, meta={REASON: "empty or whitespace only"}
            ),
            _not_null(gxe, "published_at", "missing or unparseable"),
            _timestamp_window(gxe, "published_at"),
            gxe.ExpectColumnValuesToMatchRegex(
                column="language",
                regex=LANGUAGE_REGEX,
                meta={REASON: "{value} is not an ISO 639-1 two-letter code"},
            ),
            _no_parse_errors(gxe),
        ],
    )


def crm_event_suite() -> gx.ExpectationSuite:
    """Checks every CRM event batch must pass before it is loaded into raw.crm_events."""
    _, gxe = load_gx()
    return _suite(
        "cjm.crm_event",
        [
            _not_null(gxe, "event_id"),
            _unique(gxe, "event_id"),
            _not_null(gxe, "source"),
            _not_null(gxe, "native_id"),
            _not_null(gxe, "customer_key"),
            _not_null(gxe, "event_type"),
            _not_null(gxe, "occurred_at", "missing or unparseable"),
            _timestamp_window(gxe, "occurred_at"),
            gxe.ExpectColumnValuesToBeBetween(
                column="amount",
                min_value=0,
                meta={REASON_BELOW: "negative ({value})", REASON_ABOVE: "above {max} ({value})"},
            ),
            _no_parse_errors(gxe),
        ],
    )


SUITES: dict[str, Callable[[], gx.ExpectationSuite]] = {
    "mention": mention_suite,
    "crm_event": crm_event_suite,
}


def suite_for(entity: str) -> gx.ExpectationSuite:
    """The suite of an entity named as in cjm.contracts.ENTITIES."""
    try:
        return SUITES[entity]()
    except KeyError:
        known = sorted(SUITES)
        raise ValueError(f"no expectation suite for entity {entity!r}; known: {known}") from None


def _suite(name: str, expectations: list[Any]) -> gx.ExpectationSuite:
    gx, _ = load_gx()
    keys = [check_key(e.expectation_type, e.column) for e in expectations]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:  # a programming error: the counts would be ambiguous
        raise AssertionError(f"suite {name}: checks must be unique, repeated: {duplicates}")
    return gx.ExpectationSuite(name=name, expectations=expectations)


def _not_null(gxe: Any, column: str, reason: str = "missing") -> Any:
    return gxe.ExpectColumnValuesToNotBeNull(column=column, meta={REASON: reason})


def _unique(gxe: Any, column: str) -> Any:
    # GX flags *every* row of a repeated value (not only the later ones) and ignores
    # nulls. The loader drops exact id repeats before validation, so what is left here
    # is a bug (two records hashed to one id): quarantine them all and look.
    return gxe.ExpectColumnValuesToBeUnique(
        column=column, meta={REASON: "duplicate id {value} within the batch"}
    )


def _timestamp_window(gxe: Any, column: str) -> Any:
    # Nulls are skipped by GX's column-map expectations; the not-null check covers them.
    return gxe.ExpectColumnValuesToBeBetween(
        column=column,
        min_value=EARLIEST_ALLOWED,
        max_value={"$PARAMETER": LATEST_ALLOWED_PARAMETER},
        meta={
            REASON_ABOVE: "in the future ({value} is later than now + tolerance, {max})",
            REASON_BELOW: "implausibly early ({value} is before {min})",
        },
    )


def _no_parse_errors(gxe: Any) -> Any:
    # The runner folds the text into the reason of the field it names, when that
    # field failed too (e.g. a null published_at), and shows the rest as is.
    return gxe.ExpectColumnValuesToBeNull(column=ERRORS_COLUMN, meta={REASON: "{raw}"})
