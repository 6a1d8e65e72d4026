"""The `file` source: CSV, JSON lines and Parquet into the record contracts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cjm.core.config import parse_config
from cjm.core.contracts import stable_id
from cjm.extractors import ExtractContext, ExtractError, get_extractor

BRANDS = [{"name": "Finly", "keywords": ["finly", "финли"]}]


def run(tmp_path: Path, source: dict, cursor: str | None = None):
    config = parse_config({"brands": BRANDS, "sources": [source]}, base_dir=tmp_path)
    ctx = ExtractContext(
        config, config.sources[0], "run-1", datetime(2026, 11, 1, tzinfo=UTC), cursor
    )
    result = get_extractor("file")(ctx)
    result.table  # noqa: B018 (files are read as their batches are: this reads them)
    return result


def rows(result) -> list[dict]:
    return result.table.to_pylist()


MENTION_CSV = {
    "name": "csv",
    "type": "file",
    "entity": "mention",
    "path": "in/*.csv",
    "columns": {"native_id": "id", "text": "body", "published_at": "date", "author": "who"},
    "timestamp_format": "%d.%m.%Y %H:%M",
    "timezone": "Europe/Moscow",
}


def test_csv_with_format_and_timezone(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text(
        "id,body,date,who,likes\n"
        "1,Финли — лучший,03.09.2026 10:00,ivan,5\n"
        "2,weather is nice,03.09.2026 11:00,bob,0\n"
        '3,"Finly, again",04.09.2026 00:30,ann,\n',
        encoding="utf-8",
    )
    result = run(tmp_path, MENTION_CSV)
    assert result.rows_seen == 3 and result.rows_off_brand == 1
    r = rows(result)
    assert [x["native_id"] for x in r] == ["1", "3"]
    assert r[0]["published_at"] == datetime(2026, 9, 3, 7, 0, tzinfo=UTC)  # MSK = UTC+3
    assert r[1]["published_at"] == datetime(2026, 9, 3, 21, 30, tzinfo=UTC)
    assert r[0]["mention_id"] == stable_id("csv", "1")
    assert r[0]["brand"] == "Finly" and r[0]["matched_keywords"] == ["финли"]
    assert r[0]["language"] == "ru" and r[1]["language"] == "en"
    assert json.loads(r[0]["attributes"]) == {"likes": "5"}  # unmapped columns are kept
    assert r[0]["_row"] == "in/a.csv:2"
    assert r[0]["source_type"] == "file" and r[0]["run_id"] == "run-1"


def test_bad_rows_carry_their_reason_and_line(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text(
        "id,body,date,who\n"
        "1,finly,31.02.2026 25:61,a\n"
        ",finly no id,03.09.2026 10:00,b\n"
        "3,,03.09.2026 10:00,c\n"
        "4,finly,03.09.2026 10:00,d,EXTRA\n",
        encoding="utf-8",
    )
    r = {x["_row"]: x for x in rows(run(tmp_path, MENTION_CSV))}
    assert "published_at: '31.02.2026 25:61' does not match format" in r["in/a.csv:2"]["_errors"]
    assert r["in/a.csv:2"]["published_at"] is None
    assert r["in/a.csv:3"]["mention_id"] is None  # no id → no stable id → quarantined later
    assert r["in/a.csv:4"]["text"] is None  # empty text is kept for validation, not dropped
    assert "5 fields, the header has 4" in r["in/a.csv:5"]["_errors"]


def test_missing_mapped_column_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text("id,text,date\n1,finly,x\n", encoding="utf-8")
    with pytest.raises(ExtractError, match=r"in/a.csv: column 'body' \(mapped to text\)"):
        run(tmp_path, MENTION_CSV)


def test_jsonl_iso_timestamps_and_constants(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    lines = [
        {"guid": "a", "summary": "Finly raises prices", "published": "2026-09-03T08:15:00+03:00"},
        {"guid": "b", "summary": "finly app", "published": "2026-09-03T08:15:00Z"},
        {"guid": "c", "summary": "finly naive", "published": "2026-09-03 08:15:00"},
    ]
    text = "\n".join(json.dumps(x) for x in lines) + "\n{not json}\n"
    (tmp_path / "in" / "m.jsonl").write_text(text, encoding="utf-8")
    src = {
        "name": "media",
        "type": "file",
        "entity": "mention",
        "path": "in/*.jsonl",
        "columns": {"native_id": "guid", "text": "summary", "published_at": "published"},
        "constants": {"channel": "media"},
        "timezone": "Europe/Moscow",
    }
    r = rows(run(tmp_path, src))
    assert [x["published_at"].hour for x in r[:3]] == [5, 8, 5]
    assert all(x["channel"] == "media" for x in r)
    assert "not valid JSON" in r[3]["_errors"] and r[3]["_row"] == "in/m.jsonl:4"
    assert json.loads(r[3]["attributes"])["__raw__"] == "{not json}"


def test_parquet_crm_events_hash_customers(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CJM_CUSTOMER_KEY_SECRET", "s3cret")
    (tmp_path / "in").mkdir()
    pq.write_table(
        pa.table(
            {
                "uid": [10, 11, 12],
                "email": ["a@example.org", "A@example.org", "b@example.org"],
                "type": ["lead", "Order_Paid", "lead"],
                "ts": [datetime(2026, 9, 1, 10, tzinfo=UTC)] * 3,
                "amount": ["1 200,50", "abc", None],
            }
        ),
        tmp_path / "in" / "e.parquet",
    )
    src = {
        "name": "crm",
        "type": "file",
        "entity": "crm_event",
        "path": "in/*.parquet",
        "columns": {
            "native_id": "uid",
            "customer_key": "email",
            "event_type": "type",
            "occurred_at": "ts",
            "amount": "amount",
        },
    }
    r = rows(run(tmp_path, src))
    assert [x["native_id"] for x in r] == ["10", "11", "12"]
    assert r[0]["customer_key"] == r[1]["customer_key"] != r[2]["customer_key"]
    assert "example" not in r[0]["customer_key"]
    assert r[1]["event_type"] == "order_paid"
    assert r[0]["amount"] == 1200.5
    assert "amount: 'abc' is not a number" in r[1]["_errors"]
    assert r[0]["brand"] == "Finly"


def test_cursor_skips_unchanged_files(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    a = tmp_path / "in" / "a.csv"
    a.write_text("id,body,date,who\n1,finly,03.09.2026 10:00,x\n", encoding="utf-8")
    first = run(tmp_path, MENTION_CSV)
    assert first.table.num_rows == 1
    again = run(tmp_path, MENTION_CSV, cursor=first.cursor)
    assert again.table.num_rows == 0 and again.cursor == first.cursor
    (tmp_path / "in" / "b.csv").write_text(
        "id,body,date,who\n2,finly,03.09.2026 10:00,x\n", encoding="utf-8"
    )
    a.write_text("id,body,date,who\n1,finly edited,03.09.2026 10:00,x\n", encoding="utf-8")
    third = run(tmp_path, MENTION_CSV, cursor=first.cursor)
    assert sorted(x["native_id"] for x in rows(third)) == ["1", "2"]


def test_a_file_touched_but_not_changed_is_hashed_not_read(tmp_path: Path) -> None:
    """Size and modification time decide whether a file is hashed again; its content
    whether it is read again. The price, as rsync's quick check: a rewrite keeping both
    the size and the modification time is not seen."""
    import os

    (tmp_path / "in").mkdir()
    a = tmp_path / "in" / "a.csv"
    a.write_text("id,body,date,who\n1,finly,03.09.2026 10:00,x\n", encoding="utf-8")
    first = run(tmp_path, MENTION_CSV)
    os.utime(a, ns=(a.stat().st_atime_ns, a.stat().st_mtime_ns + 10**9))  # touched
    touched = run(tmp_path, MENTION_CSV, cursor=first.cursor)
    assert touched.table.num_rows == 0
    assert json.loads(touched.cursor)["files"] == json.loads(first.cursor)["files"]
    mtime = a.stat().st_mtime_ns
    a.write_text("id,body,date,who\n1,finLy,03.09.2026 10:00,x\n", encoding="utf-8")
    os.utime(a, ns=(mtime, mtime))  # same size, same time: the quick check's blind spot
    blind = run(tmp_path, MENTION_CSV, cursor=touched.cursor)
    assert blind.table.num_rows == 0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2015-02-24 11:35:52 -0800", datetime(2015, 2, 24, 19, 35, 52, tzinfo=UTC)),
        ("2015-02-24T11:35:52.000+0000", datetime(2015, 2, 24, 11, 35, 52, tzinfo=UTC)),
        ("Tue, 24 Feb 2015 11:35:52 +0000", datetime(2015, 2, 24, 11, 35, 52, tzinfo=UTC)),
        ("2026-09-07 12:00:00", datetime(2026, 9, 7, 12, 0, tzinfo=UTC)),
        ("2026-13-45T99:00:00Z", None),
        ("07.09.2026 10:00", None),  # day-first without a format: refused, never guessed
    ],
)
def test_timestamps_without_a_format(raw: str, expected: datetime | None) -> None:
    from zoneinfo import ZoneInfo

    from cjm.extractors.records import parse_timestamp

    got, err = parse_timestamp(raw, None, ZoneInfo("UTC"))
    assert got == expected
    assert (err is None) == (expected is not None)


# ------------------------------------------------------------- encodings and bad files
CP1251_TEXT = "id,body,date,who\n1,Финли не отвечает,03.09.2026 10:00,иван\n"
# long enough for a detector to tell cp1251 from its neighbours (a few words are not)
CP1251_EXPORT = "id,body,date,who\n" + "".join(
    f"{i},Финли опять не отвечает на звонки и поддержка молчит третий день,03.09.2026 10:00,иван\n"
    for i in range(1, 21)
)


def _two_files(tmp_path: Path, bad: bytes) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a_bad.csv").write_bytes(bad)
    (tmp_path / "in" / "b_good.csv").write_text(
        "id,body,date,who\n2,Finly works,03.09.2026 11:00,bob\n", encoding="utf-8"
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (CP1251_TEXT.encode("cp1251"), "file: not valid utf-8 at byte 19"),
        (b"", "file: empty file (0 bytes)"),
        (b"PK\x03\x04\x00\x00binary", "file: binary, not text (a NUL byte at offset 4)"),
    ],
    ids=["cp1251-as-utf8", "empty", "binary"],
)
def test_a_file_that_cannot_be_read_is_one_quarantined_record(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    _two_files(tmp_path, content)
    result = run(tmp_path, MENTION_CSV)
    by_row = {r["_row"]: r for r in rows(result)}
    assert set(by_row) == {"in/a_bad.csv", "in/b_good.csv:2"}  # the good file still loads
    bad = by_row["in/a_bad.csv"]
    assert bad["_errors"].startswith(reason), bad["_errors"]
    assert json.loads(bad["attributes"]) == {"file": "in/a_bad.csv"}
    assert by_row["in/b_good.csv:2"]["_errors"] is None
    # both files are marked seen: the bad one is read again once its content changes
    assert set(json.loads(result.cursor)["files"]) == {"in/a_bad.csv", "in/b_good.csv"}


@pytest.mark.parametrize("encoding", ["cp1251", "auto"])
def test_encoding_option_reads_a_legacy_file(tmp_path: Path, encoding: str) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_bytes(CP1251_EXPORT.encode("cp1251"))
    got = rows(run(tmp_path, {**MENTION_CSV, "encoding": encoding}))
    assert len(got) == 20 and all(r["_errors"] is None for r in got)
    assert got[0]["text"].startswith("Финли опять") and got[0]["author"] == "иван"


def test_utf8_with_bom_reads_clean_headers(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_bytes(
        "\ufeffid,body,date,who\n1,Finly,03.09.2026 10:00,a\n".encode()
    )
    (r,) = rows(run(tmp_path, MENTION_CSV))
    assert r["native_id"] == "1" and r["_errors"] is None


def test_an_unknown_encoding_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"sources\[0\]\.encoding: unknown encoding 'utf-9'"):
        parse_config(
            {"brands": BRANDS, "sources": [{**MENTION_CSV, "encoding": "utf-9"}]},
            base_dir=tmp_path,
        )


def test_an_undecodable_file_lands_in_quarantine_and_its_neighbours_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb

    from cjm.refresh import tasks

    _two_files(tmp_path, CP1251_TEXT.encode("cp1251"))
    config = parse_config({"brands": BRANDS, "sources": [MENTION_CSV]}, base_dir=tmp_path)
    warehouse = str(tmp_path / "warehouse.duckdb")
    monkeypatch.setenv("CJM_LANDING", str(tmp_path / "landing"))
    tasks.extract("csv", "run-1", config, warehouse)
    validated = tasks.validate("csv", "run-1", config, warehouse)
    assert (validated["rows_passed"], validated["rows_quarantined"]) == (1, 1)
    assert tasks.load("run-1", config, warehouse)["failed"] == {}
    with duckdb.connect(warehouse, read_only=True) as con:
        (reason, row_ref) = con.execute("select reason, row_ref from ops.quarantine").fetchone()
        loaded = con.execute("select native_id from raw.mentions").fetchall()
    assert "file: not valid utf-8 at byte 19" in reason and row_ref == "in/a_bad.csv"
    assert loaded == [("2",)]


def test_json_values_of_the_wrong_kind_are_quarantined_not_stringified(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    lines = [
        {"id": "j1", "body": {"nested": "Finly"}, "date": "2026-09-03T10:00:00Z"},
        {"id": ["j7a", "j7b"], "body": "Finly list id", "date": "2026-09-03T10:00:00Z"},
        {"id": "j3", "body": True, "date": "2026-09-03T10:00:00Z"},
        {"id": "j4", "body": 12345, "date": "2026-09-03T10:00:00Z"},
        {"id": 5, "body": "Finly numeric id is fine", "date": "2026-09-03T10:00:00Z"},
    ]
    (tmp_path / "in" / "a.jsonl").write_text(
        "\n".join(json.dumps(x) for x in lines), encoding="utf-8"
    )
    source = {
        "name": "j",
        "type": "file",
        "entity": "mention",
        "path": "in/*.jsonl",
        "columns": {"native_id": "id", "text": "body", "published_at": "date"},
    }
    result = run(tmp_path, source)
    by_row = {r["_row"]: r for r in rows(result)}
    assert result.rows_off_brand == 0  # a numeric body is an error, not "no brand"
    assert by_row["in/a.jsonl:1"]["_errors"] == "text: expected string, got object"
    assert json.loads(by_row["in/a.jsonl:1"]["attributes"])["text_raw"] == {"nested": "Finly"}
    assert by_row["in/a.jsonl:2"]["_errors"] == "native_id: expected string, got array"
    assert by_row["in/a.jsonl:3"]["_errors"] == "text: expected string, got boolean"
    assert by_row["in/a.jsonl:4"]["_errors"] == "text: expected string, got number"
    assert by_row["in/a.jsonl:5"]["_errors"] is None and by_row["in/a.jsonl:5"]["native_id"] == "5"
    assert all(
        r["text"] is None for k, r in by_row.items() if k != "in/a.jsonl:5" and k != "in/a.jsonl:2"
    )
