"""Validation layer: Great Expectations suites for landing batches, and the runner
that splits a batch into rows to load and rows to quarantine.

Importing this package is cheap; Great Expectations itself is imported on first use
(see `_gx`), so DAG files can import it at top level.
"""

from .runner import DEFAULT_FUTURE_TOLERANCE, ValidationError, ValidationOutcome, validate_frame
from .suites import SUITES, crm_event_suite, mention_suite, suite_for

__all__ = [
    "DEFAULT_FUTURE_TOLERANCE",
    "SUITES",
    "ValidationError",
    "ValidationOutcome",
    "crm_event_suite",
    "mention_suite",
    "suite_for",
    "validate_frame",
]
