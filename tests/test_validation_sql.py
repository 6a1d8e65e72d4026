"""The SQL screen over a landing file flags at least every row GX fails.

GX judges only what the screen flags (expectations/sql.py), so a row GX would fail
and the screen passes would be loaded unchecked: these tricky rows pin that down.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cjm.core.contracts import landing_schema
from cjm.expectations.runner import DEFAULT_FUTURE_TOLERANCE, validate_frame
from cjm.expectations.sql import UntranslatedExpectation, python_regex_in_re2, screen

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
OK_TS = datetime(2026, 10, 1, tzinfo=UTC)


def _mention(i: int, **over: object) -> dict:
    row = {
        "mention_id": f"m{i}", "source": "s", "source_type": "file", "channel": "vk",
        "native_id": str(i), "url": None, "author": None, "title": None, "text": "finly",
        "published_at": OK_TS, "fetched_at": NOW, "language": "ru", "brand": "Finly",
        "matched_keywords": ["finly"], "attributes": None, "run_id": "r", "_row": f"f:{i}",
        "_errors": None,
    }  # fmt: skip
    row.update(over)
    return row


MENTIONS = [
    _mention(0),
    _mention(1, text="\u00a0\u2003 "),  # Python's \S finds nothing here, RE2's would
    _mention(2, text="   \t"),
    _mention(3, text=None),
    _mention(4, language="en\n"),  # Python's `$` accepts a trailing newline
    _mention(5, language="EN"),
    _mention(6, language=None),
    _mention(7, source_type="fax"),
    _mention(8, published_at=datetime(1989, 12, 31, 23, 59, tzinfo=UTC)),
    _mention(9, published_at=NOW + timedelta(hours=2)),
    _mention(10, published_at=NOW + timedelta(minutes=59)),
    _mention(11, published_at=None, _errors="published_at: 'x' does not match ISO-8601"),
    _mention(12, _errors=""),
    _mention(13, mention_id=None, native_id=None),
    _mention(14, mention_id="dup"),
    _mention(15, mention_id="dup"),  # a repeat: dropped, the last one wins
    _mention(16, text="é"),
    _mention(17, published_at=datetime(1990, 1, 1, tzinfo=UTC)),
]


def _crm(i: int, **over: object) -> dict:
    row = {
        "event_id": f"e{i}", "source": "c", "native_id": str(i), "customer_key": "k",
        "brand": "Finly", "event_type": "visit", "channel": None, "touchpoint": None,
        "campaign": None, "message": None, "occurred_at": OK_TS, "amount": 1.0,
        "attributes": None, "run_id": "r", "_row": f"c:{i}", "_errors": None,
    }  # fmt: skip
    row.update(over)
    return row


CRM = [
    _crm(0),
    _crm(1, amount=-0.01),
    _crm(2, amount=0.0),
    _crm(3, amount=float("nan")),
    _crm(4, amount=None),
    _crm(5, customer_key=None),
    _crm(6, event_type=None),
    _crm(7, occurred_at=NOW + timedelta(days=1)),
    _crm(8, _errors="amount: 'x' is not a number"),
]


@pytest.mark.parametrize(("entity", "rows"), [("mention", MENTIONS), ("crm_event", CRM)])
def test_screen_flags_every_row_gx_fails(tmp_path: Path, entity: str, rows: list) -> None:
    path = tmp_path / "landing.parquet"
    table = pa.Table.from_pylist(rows, schema=landing_schema(entity))
    pq.write_table(table, path)
    found = screen(entity, str(path), NOW + DEFAULT_FUTURE_TOLERANCE)
    repeated = found.repeated.tolist()
    kept = [i for i in range(len(rows)) if i not in repeated]
    frame = table.take(kept).to_pandas()
    outcome = validate_frame(entity, frame, now=NOW)
    gx_failed = {kept[i] for i in outcome.quarantined.index}
    flagged = set(found.flagged.tolist())
    assert gx_failed <= flagged
    # Stricter only where RE2 reads a pattern more strictly (the trailing newline).
    assert flagged - gx_failed == ({4} if entity == "mention" else set())
    if entity == "mention":
        assert repeated == [14]
        assert gx_failed == {1, 2, 3, 5, 7, 8, 9, 11, 12, 13}
    else:
        assert repeated == [] and gx_failed == {1, 5, 6, 7, 8}


def test_regexes_without_a_python_meaning_in_re2_are_refused() -> None:
    assert python_regex_in_re2(r"^[a-z]{2}$") == r"^[a-z]{2}$"
    for pattern in (r"\W", r"\D+", r"(?<=a)b", r"\bx"):
        with pytest.raises(UntranslatedExpectation):
            python_regex_in_re2(pattern)


def test_a_screen_past_its_memory_limit_spills_and_finds_the_same_rows(tmp_path: Path) -> None:
    """300,000 rows with long ids under a 40 MB limit: the repeat search (a window over
    every id) spills beside the landing file, gives what the unlimited screen gives, and
    leaves no spill files behind."""
    n = 300_000
    ids = [f"{i % (n - 7):064d}" for i in range(n)]  # the last 7 repeat the first 7
    table = pa.table(
        {name: [None] * n for name in landing_schema("mention").names}
        | {"mention_id": ids, "text": ["finly"] * n, "published_at": [OK_TS] * n},
        schema=landing_schema("mention"),
    )
    path = tmp_path / "landing" / "batch.parquet"
    path.parent.mkdir()
    pq.write_table(table, path)
    latest = NOW + DEFAULT_FUTURE_TOLERANCE
    bounded = screen("mention", str(path), latest, memory_limit="60MB")
    free = screen("mention", str(path), latest)
    assert bounded.repeated.tolist() == free.repeated.tolist() == list(range(7))
    assert bounded.flagged.tolist() == free.flagged.tolist()
    assert sorted(p.name for p in path.parent.iterdir()) == ["batch.parquet"]
