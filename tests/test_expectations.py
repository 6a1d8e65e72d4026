"""The validation layer: GX suites decide, row by row, what loads and what is quarantined.

Frames are built with the exact landing columns and types of cjm.contracts, and
"now" is pinned, so every outcome here is deterministic.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from cjm.core.contracts import ENTITIES, landing_schema
from cjm.expectations import (
    ValidationError,
    ValidationOutcome,
    crm_event_suite,
    mention_suite,
    suite_for,
    validate_frame,
)

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
PARSE_ERROR = "published_at: '31.02.2024 10:00' does not match format '%d.%m.%Y %H:%M'"


def mention(n: int, **overrides: Any) -> dict[str, Any]:
    """A mention that passes every check; overrides make it bad in one way."""
    row: dict[str, Any] = {
        "mention_id": f"m{n}",
        "source": "habr_rss",
        "source_type": "rss",
        "channel": "habr",
        "native_id": f"n{n}",
        "url": f"https://example.org/{n}",
        "author": "a",
        "title": "t",
        "text": f"Brand mention number {n}",
        "published_at": NOW - timedelta(days=1, minutes=n),
        "fetched_at": NOW,
        "language": "ru",
        "brand": "acme",
        "matched_keywords": ["acme"],
        "attributes": "{}",
        "run_id": "r1",
        "_row": f"inbox/a.csv:{n + 1}",
        "_errors": None,
    }
    row.update(overrides)
    return row


def crm_event(n: int, **overrides: Any) -> dict[str, Any]:
    """A CRM event that passes every check."""
    row: dict[str, Any] = {
        "event_id": f"e{n}",
        "source": "crm",
        "native_id": f"n{n}",
        "customer_key": f"c{n % 3}",
        "brand": "acme",
        "event_type": "purchase",
        "channel": "web",
        "touchpoint": "checkout",
        "campaign": None,
        "message": None,
        "occurred_at": NOW - timedelta(hours=n),
        "amount": 10.0 * n,
        "attributes": "{}",
        "run_id": "r1",
        "_row": f"crm/page1.json:{n}",
        "_errors": None,
    }
    row.update(overrides)
    return row


def frame(entity: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows typed by the landing contract, as an extractor hands them over."""
    return pa.Table.from_pylist(rows, schema=landing_schema(entity)).to_pandas()


def id_of(entity: str) -> str:
    return ENTITIES[entity]["id"]


def assert_reconciles(outcome: ValidationOutcome, df: pd.DataFrame) -> None:
    assert outcome.rows_in == len(df)
    assert outcome.rows_passed == len(outcome.passed)
    assert outcome.rows_quarantined == len(outcome.quarantined)
    assert outcome.rows_in == outcome.rows_passed + outcome.rows_quarantined
    assert list(outcome.passed.columns) == list(df.columns)
    assert list(outcome.quarantined.columns) == [*df.columns, "reason"]
    assert outcome.success == (outcome.rows_quarantined == 0)


# --- good batches ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "make"),
    [("mention", mention), ("crm_event", crm_event)],
)
def test_good_rows_pass(entity: str, make: Any) -> None:
    df = frame(entity, [make(i) for i in range(5)])
    outcome = validate_frame(entity, df, now=NOW)
    assert_reconciles(outcome, df)
    assert outcome.success
    assert outcome.failed_expectations == {}
    assert outcome.rows_passed == 5
    pd.testing.assert_frame_equal(outcome.passed, df)


def test_optional_fields_may_be_null() -> None:
    df_m = frame("mention", [mention(1, language=None, author=None, url=None, title=None)])
    df_c = frame("crm_event", [crm_event(1, amount=None), crm_event(2, amount=0.0)])
    assert validate_frame("mention", df_m, now=NOW).success
    assert validate_frame("crm_event", df_c, now=NOW).success


@pytest.mark.parametrize(
    ("entity", "make"),
    [("mention", mention), ("crm_event", crm_event)],
)
def test_empty_frame_is_a_success(entity: str, make: Any) -> None:
    df = landing_schema(entity).empty_table().to_pandas()
    outcome = validate_frame(entity, df, now=NOW)
    assert_reconciles(outcome, df)
    assert outcome.success
    assert (outcome.rows_in, outcome.rows_passed, outcome.rows_quarantined) == (0, 0, 0)
    assert outcome.failed_expectations == {}


def test_rows_appended_to_the_empty_landing_frame_validate() -> None:
    """The brief's way of building a frame: empty landing table, then rows added."""
    base = landing_schema("mention").empty_table().to_pandas()
    df = pd.concat([base, pd.DataFrame([mention(1), mention(2, text=" ")])], ignore_index=True)
    outcome = validate_frame("mention", df, now=NOW)
    assert outcome.rows_passed == 1
    assert outcome.quarantined["mention_id"].tolist() == ["m2"]


# --- each kind of bad row -------------------------------------------------------------

MENTION_CASES = [
    pytest.param(
        {"mention_id": None},
        "mention_id: missing",
        "expect_column_values_to_not_be_null/mention_id",
        id="missing-id",
    ),
    pytest.param(
        {"native_id": None},
        "native_id: missing",
        "expect_column_values_to_not_be_null/native_id",
        id="missing-native-id",
    ),
    pytest.param(
        {"source": None},
        "source: missing",
        "expect_column_values_to_not_be_null/source",
        id="missing-source",
    ),
    pytest.param(
        {"text": None}, "text: missing", "expect_column_values_to_not_be_null/text", id="null-text"
    ),
    pytest.param(
        {"text": ""},
        "text: empty or whitespace only",
        "expect_column_values_to_match_regex/text",
        id="empty-text",
    ),
    pytest.param(
        {"text": " \t\n "},
        "text: empty or whitespace only",
        "expect_column_values_to_match_regex/text",
        id="blank-text",
    ),
    pytest.param(
        {"published_at": None},
        "published_at: missing or unparseable",
        "expect_column_values_to_not_be_null/published_at",
        id="null-timestamp",
    ),
    pytest.param(
        {"published_at": NOW + timedelta(hours=2)},
        "published_at: in the future",
        "expect_column_values_to_be_between/published_at",
        id="future-timestamp",
    ),
    pytest.param(
        {"published_at": datetime(1970, 1, 1, tzinfo=UTC)},
        "published_at: implausibly early",
        "expect_column_values_to_be_between/published_at",
        id="epoch-timestamp",
    ),
    pytest.param(
        {"source_type": "twitter"},
        "source_type: unknown value 'twitter'",
        "expect_column_values_to_be_in_set/source_type",
        id="unknown-source-type",
    ),
    pytest.param(
        {"source_type": None},
        "source_type: missing",
        "expect_column_values_to_not_be_null/source_type",
        id="null-source-type",
    ),
    pytest.param(
        {"language": "english"},
        "language: 'english' is not an ISO 639-1",
        "expect_column_values_to_match_regex/language",
        id="bad-language",
    ),
    pytest.param(
        {"_errors": "views: 'many' is not an integer"},
        "_errors: views: 'many' is not an integer",
        "expect_column_values_to_be_null/_errors",
        id="extractor-error",
    ),
]

CRM_CASES = [
    pytest.param(
        {"event_id": None},
        "event_id: missing",
        "expect_column_values_to_not_be_null/event_id",
        id="missing-id",
    ),
    pytest.param(
        {"native_id": None},
        "native_id: missing",
        "expect_column_values_to_not_be_null/native_id",
        id="missing-native-id",
    ),
    pytest.param(
        {"customer_key": None},
        "customer_key: missing",
        "expect_column_values_to_not_be_null/customer_key",
        id="missing-customer",
    ),
    pytest.param(
        {"event_type": None},
        "event_type: missing",
        "expect_column_values_to_not_be_null/event_type",
        id="missing-event-type",
    ),
    pytest.param(
        {"occurred_at": None},
        "occurred_at: missing or unparseable",
        "expect_column_values_to_not_be_null/occurred_at",
        id="null-timestamp",
    ),
    pytest.param(
        {"occurred_at": NOW + timedelta(days=3)},
        "occurred_at: in the future",
        "expect_column_values_to_be_between/occurred_at",
        id="future-timestamp",
    ),
    pytest.param(
        {"amount": -5.0},
        "amount: negative (-5.0)",
        "expect_column_values_to_be_between/amount",
        id="negative-amount",
    ),
]


def _one_bad_row(entity: str, make: Any, overrides: dict[str, Any], reason: str, key: str) -> None:
    df = frame(entity, [make(1), make(2, **overrides), make(3)])
    outcome = validate_frame(entity, df, now=NOW)
    assert_reconciles(outcome, df)
    assert not outcome.success
    assert outcome.passed[id_of(entity)].tolist() == [df[id_of(entity)][0], df[id_of(entity)][2]]
    assert outcome.rows_quarantined == 1
    assert reason in outcome.quarantined["reason"].iloc[0]
    assert outcome.quarantined["_row"].iloc[0] == df["_row"][1]  # points back at the source
    assert outcome.failed_expectations == {key: 1}


@pytest.mark.parametrize(("overrides", "reason", "key"), MENTION_CASES)
def test_bad_mention_is_quarantined_with_a_reason(
    overrides: dict[str, Any], reason: str, key: str
) -> None:
    _one_bad_row("mention", mention, overrides, reason, key)


@pytest.mark.parametrize(("overrides", "reason", "key"), CRM_CASES)
def test_bad_crm_event_is_quarantined_with_a_reason(
    overrides: dict[str, Any], reason: str, key: str
) -> None:
    _one_bad_row("crm_event", crm_event, overrides, reason, key)


def test_unparseable_timestamp_carries_the_extractor_error() -> None:
    df = frame("mention", [mention(1), mention(2, published_at=None, _errors=PARSE_ERROR, text="")])
    outcome = validate_frame("mention", df, now=NOW)
    (reason,) = outcome.quarantined["reason"].tolist()
    # The parse error sits next to the field it explains, and is not repeated.
    assert f"published_at: missing or unparseable ({PARSE_ERROR})" in reason
    assert "text: empty or whitespace only" in reason
    assert reason.count("31.02.2024") == 1
    assert outcome.failed_expectations == {
        "expect_column_values_to_match_regex/text": 1,
        "expect_column_values_to_not_be_null/published_at": 1,
        "expect_column_values_to_be_null/_errors": 1,
    }


def test_extractor_errors_for_other_fields_are_kept() -> None:
    errors = f"{PARSE_ERROR}; amount: 'ten' is not a number"
    df = frame("mention", [mention(1, published_at=None, _errors=errors)])
    (reason,) = validate_frame("mention", df, now=NOW).quarantined["reason"].tolist()
    assert reason == (
        f"published_at: missing or unparseable ({PARSE_ERROR}); "
        "_errors: amount: 'ten' is not a number"
    )


def test_duplicate_ids_quarantine_every_copy() -> None:
    """The loader drops exact id repeats first, so a repeat here is a bug: keep none."""
    df = frame("mention", [mention(1), mention(2), mention(3, mention_id="m1"), mention(4)])
    outcome = validate_frame("mention", df, now=NOW)
    assert_reconciles(outcome, df)
    assert outcome.passed["mention_id"].tolist() == ["m2", "m4"]
    assert outcome.quarantined["native_id"].tolist() == ["n1", "n3"]
    assert all("mention_id: duplicate id 'm1'" in r for r in outcome.quarantined["reason"])
    assert outcome.failed_expectations == {"expect_column_values_to_be_unique/mention_id": 2}


def test_null_ids_are_missing_not_duplicates() -> None:
    df = frame("crm_event", [crm_event(1, event_id=None), crm_event(2, event_id=None)])
    outcome = validate_frame("crm_event", df, now=NOW)
    assert outcome.failed_expectations == {"expect_column_values_to_not_be_null/event_id": 2}


def test_every_failed_check_is_named_in_suite_order() -> None:
    bad = mention(
        1,
        mention_id=None,
        source_type="fax",
        text=" ",
        published_at=None,
        _errors=PARSE_ERROR,
        language="xx-yy",
    )
    outcome = validate_frame("mention", frame("mention", [bad]), now=NOW)
    reason = outcome.quarantined["reason"].iloc[0]
    fields = [part.split(":", 1)[0] for part in reason.split("; ")]
    assert fields == ["mention_id", "source_type", "text", "published_at", "language"]


def test_fully_bad_batch_fails_with_all_rows_quarantined() -> None:
    rows = [
        mention(1, mention_id=None),
        mention(2, text=""),
        mention(3, published_at=None, _errors=PARSE_ERROR),
        mention(4, published_at=NOW + timedelta(days=1)),
        mention(5, source_type="myspace"),
    ]
    df = frame("mention", rows)
    outcome = validate_frame("mention", df, now=NOW)
    assert_reconciles(outcome, df)
    assert outcome.success is False
    assert outcome.rows_passed == 0
    assert outcome.rows_quarantined == 5
    assert outcome.passed.empty
    assert sum(outcome.failed_expectations.values()) == 6  # row 3 fails two checks


def test_order_and_index_are_preserved() -> None:
    rows = [mention(i, text="" if i % 3 == 0 else f"text {i}") for i in range(12)]
    df = frame("mention", rows)
    df.index = pd.Index([100 - i for i in range(12)])  # a caller's own, non-range index
    outcome = validate_frame("mention", df, now=NOW)
    expected = [f"m{i}" for i in range(12) if i % 3]
    assert outcome.passed["mention_id"].tolist() == expected
    assert outcome.passed.index.tolist() == [100 - i for i in range(12) if i % 3]
    assert outcome.quarantined["mention_id"].tolist() == ["m0", "m3", "m6", "m9"]


def test_repeated_index_labels_do_not_confuse_row_positions() -> None:
    df = frame("mention", [mention(1), mention(2, text=""), mention(3)])
    df.index = pd.Index([0, 0, 0])
    outcome = validate_frame("mention", df, now=NOW)
    assert outcome.quarantined["mention_id"].tolist() == ["m2"]
    assert outcome.passed["mention_id"].tolist() == ["m1", "m3"]


# --- the clock ------------------------------------------------------------------------


def test_future_tolerance_is_honoured() -> None:
    df = frame("mention", [mention(1, published_at=NOW + timedelta(minutes=30))])
    assert validate_frame("mention", df, now=NOW).success  # default: 1 hour
    strict = validate_frame("mention", df, now=NOW, future_tolerance=timedelta(0))
    assert not strict.success
    assert "2024-06-01T12:00:00+00:00" in strict.quarantined["reason"].iloc[0]


def test_now_is_per_call_not_cached() -> None:
    df = frame("crm_event", [crm_event(1, occurred_at=NOW + timedelta(hours=5))])
    assert not validate_frame("crm_event", df, now=NOW).success
    assert validate_frame("crm_event", df, now=NOW + timedelta(hours=5)).success
    assert not validate_frame("crm_event", df, now=NOW).success


def test_naive_timestamps_are_read_as_utc() -> None:
    df = frame("mention", [mention(1), mention(2, published_at=NOW + timedelta(hours=3))])
    df["published_at"] = df["published_at"].dt.tz_localize(None)
    outcome = validate_frame("mention", df, now=NOW)
    assert outcome.quarantined["mention_id"].tolist() == ["m2"]
    assert outcome.passed["published_at"].dt.tz is None  # the caller's data is untouched


# --- misuse fails loudly --------------------------------------------------------------


def test_naive_now_is_rejected() -> None:
    df = frame("mention", [mention(1)])
    with pytest.raises(ValueError, match="timezone-aware"):
        validate_frame("mention", df, now=datetime(2024, 6, 1))


def test_missing_checked_column_is_rejected() -> None:
    df = frame("mention", [mention(1)]).drop(columns=["_errors"])
    with pytest.raises(ValueError, match="_errors"):
        validate_frame("mention", df, now=NOW)


def test_a_check_gx_cannot_evaluate_fails_the_call_not_the_rows() -> None:
    """A contract break (amount as text) must not pass as "no failing rows"."""
    df = frame("crm_event", [crm_event(1)])
    df["amount"] = df["amount"].astype(object)
    df.loc[0, "amount"] = "ten"
    with pytest.raises(ValidationError, match="amount"):
        validate_frame("crm_event", df, now=NOW)


def test_unknown_entity_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown entity"):
        validate_frame("tweet", pd.DataFrame(), now=NOW)
    with pytest.raises(ValueError, match="no expectation suite"):
        suite_for("tweet")


# --- the suites themselves ------------------------------------------------------------


def test_suites_are_plain_gx_suites_with_unique_checks() -> None:
    import great_expectations as gx

    for suite, columns in (
        (mention_suite(), landing_schema("mention").names),
        (crm_event_suite(), landing_schema("crm_event").names),
    ):
        assert isinstance(suite, gx.ExpectationSuite)
        keys = [(e.expectation_type, e.column) for e in suite.expectations]
        assert len(keys) == len(set(keys))
        assert {column for _, column in keys} <= set(columns)
        assert all(e.meta for e in suite.expectations)  # every check explains itself


def test_no_gx_project_folder_is_written(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    validate_frame("mention", frame("mention", [mention(1, text="")]), now=NOW)
    assert list(tmp_path.iterdir()) == []
