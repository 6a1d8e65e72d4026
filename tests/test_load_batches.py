"""The load path in bounded batches: a landing file of several row groups, repeats
across batches, quarantine, and a re-run that updates only the edited row."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from cjm.core.config import parse_config
from cjm.core.contracts import stable_id
from cjm.refresh import tasks

SOURCE = {
    "name": "export",
    "type": "file",
    "entity": "mention",
    "path": "in/*.csv",
    "columns": {"native_id": "id", "text": "body", "published_at": "date"},
}
ROWS = [
    "1,finly one,2026-09-01T10:00:00Z",
    "2,finly two,2026-09-01T11:00:00Z",
    "3,finly three,not a date",
    "4,finly four,2026-09-01T12:00:00Z",
    "1,finly one again,2026-09-01T10:30:00Z",  # a repeat in a later batch: it wins
    "5,finly five,2026-09-01T13:00:00Z",
    "6,   ,2026-09-01T14:00:00Z",
]


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[object, str]:
    monkeypatch.setenv("CJM_LANDING", str(tmp_path / "landing"))
    (tmp_path / "in").mkdir()
    config = parse_config(
        {
            "brands": [{"name": "Finly", "keywords": ["finly"]}],
            "sources": [SOURCE],
            "load": {"batch_rows": 2},
        },
        base_dir=tmp_path,
    )
    return config, str(tmp_path / "wh.duckdb")


def _run(config: object, warehouse: str, run_id: str) -> dict:
    extracted = tasks.extract("export", run_id, config, warehouse)
    validated = tasks.validate("export", run_id, config, warehouse)
    loaded = tasks.load(run_id, config, warehouse)
    return {"extracted": extracted, "validated": validated, "loaded": loaded}


def test_batches_end_to_end_and_rerun(setup: tuple[object, str], tmp_path: Path) -> None:
    config, warehouse = setup
    export = tmp_path / "in" / "a.csv"
    export.write_text("id,body,date\n" + "\n".join(ROWS) + "\n", encoding="utf-8")
    first = _run(config, warehouse, "run-1")
    landing = pq.ParquetFile(first["extracted"]["landing_path"])
    assert landing.metadata.num_row_groups == 4  # 7 rows, 2 a batch
    v = first["validated"]
    assert (v["rows_extracted"], v["rows_duplicate"], v["rows_passed"]) == (7, 1, 4)
    assert v["rows_quarantined"] == 2
    assert first["loaded"]["batches"]["export"]["inserted"] == 4
    con = duckdb.connect(warehouse, read_only=True)
    try:
        texts = dict(con.execute("select native_id, text from raw.mentions").fetchall())
        reasons = dict(con.execute("select row_ref, reason from ops.quarantine").fetchall())
        ids = {r[0] for r in con.execute("select mention_id from raw.mentions").fetchall()}
    finally:
        con.close()
    assert texts == {"1": "finly one again", "2": "finly two", "4": "finly four", "5": "finly five"}
    assert ids == {stable_id("export", n) for n in texts}
    assert reasons["in/a.csv:4"].startswith("published_at: missing or unparseable")
    assert reasons["in/a.csv:8"] == "text: missing"

    export.write_text(
        "id,body,date\n" + "\n".join(ROWS).replace("finly two", "finly 2") + "\n",
        encoding="utf-8",
    )
    second = _run(config, warehouse, "run-2")
    counts = second["loaded"]["batches"]["export"]
    assert (counts["inserted"], counts["updated"], counts["unchanged"]) == (0, 1, 3)
    con = duckdb.connect(warehouse, read_only=True)
    try:
        changed = con.execute(
            "select text, loaded_at < updated_at from raw.mentions where native_id = '2'"
        ).fetchone()
        assert con.execute("select count(*) from raw.mentions").fetchone() == (4,)
    finally:
        con.close()
    assert changed == ("finly 2", True)
