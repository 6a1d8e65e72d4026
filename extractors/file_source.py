"""File exports from other tools (CSV, JSON lines, Parquet) as mentions or CRM events.

Analysts drop exports into a folder; the source picks up files it has not seen
(or that changed) by content hash, so a re-run reads nothing twice and an edited
file is re-read whole (its rows update in place by stable id).
"""

from __future__ import annotations

import csv
import glob
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq

from cjm.core.config import FileSource
from cjm.core.contracts import ERRORS_COLUMN, ROW_COLUMN
from cjm.extractors.base import ExtractContext, Extracted, ExtractError
from cjm.extractors.records import (
    as_id,
    canonical_brand,
    finish_crm_events,
    finish_mentions,
    parse_amount,
    parse_timestamp,
    with_mapped_attributes,
)

TIMESTAMP_FIELD = {"mention": "published_at", "crm_event": "occurred_at"}
csv.field_size_limit(10 * 1024 * 1024)


def file_format(path: Path, configured: str | None) -> str:
    if configured:
        return configured
    suffix = "".join(path.suffixes[-2:]).lower()
    if suffix.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if suffix.endswith(".parquet"):
        return "parquet"
    if suffix.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    raise ExtractError(
        f"{path}: cannot tell the format from the extension; set `format:` to csv, jsonl or parquet"
    )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class FileProblem(Exception):
    """A whole file cannot be read (empty, binary, undecodable, unparseable): it is
    quarantined as one record naming the file and why, and the source's other files
    still load."""


_SNIFF_BYTES = 1 << 16


def text_encoding(path: Path, configured: str) -> str:
    """The codec to read a text file with, after checking the whole file decodes with it
    (streamed: memory stays at one chunk whatever the file's size)."""
    import codecs

    with path.open("rb") as f:
        head = f.read(_SNIFF_BYTES)
        if not head:
            raise FileProblem("empty file (0 bytes)")
        if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise FileProblem(f"binary, not text (a NUL byte at offset {head.index(0)})")
        if configured == "auto":
            from charset_normalizer import from_bytes

            best = from_bytes(head).best()
            if best is None:
                raise FileProblem("cannot tell its text encoding; set `encoding:` on the source")
            encoding = best.encoding
        else:
            encoding = "utf-8-sig" if codecs.lookup(configured).name == "utf-8" else configured
        decoder = codecs.getincrementaldecoder(encoding)()
        offset, chunk = 0, head
        while chunk:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                bad = offset + exc.start
                raise FileProblem(
                    f"not valid {configured if configured != 'auto' else encoding} at byte "
                    f"{bad} ({chunk[exc.start : exc.start + 4]!r}); set `encoding:` on the "
                    "source (e.g. cp1251, or auto)"
                ) from None
            offset += len(chunk)
            chunk = f.read(1 << 20)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise FileProblem(f"ends inside a character (not valid {encoding})") from None
    return encoding


def _read_csv(
    path: Path, delimiter: str, label: str, encoding: str = "utf-8-sig"
) -> tuple[list[str], Iterator[tuple[str, dict]]]:
    f = path.open(encoding=encoding, newline="")
    reader = csv.reader(f, delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        f.close()
        return [], iter(())

    def rows() -> Iterator[tuple[str, dict]]:
        with f:
            for fields in reader:
                if not fields or all(not x.strip() for x in fields):
                    continue
                ref = f"{label}:{reader.line_num}"
                row: dict[str, Any] = dict(zip(header, fields, strict=False))
                if len(fields) != len(header):
                    row["__error__"] = (
                        f"line has {len(fields)} fields, the header has {len(header)}"
                    )
                    row["__raw__"] = delimiter.join(fields)
                yield ref, row

    return header, rows()


def _read_jsonl(
    path: Path, label: str, encoding: str = "utf-8-sig"
) -> tuple[list[str] | None, Iterator[tuple[str, dict]]]:
    def rows() -> Iterator[tuple[str, dict]]:
        with path.open(encoding=encoding) as f:
            for n, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                ref = f"{label}:{n}"
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield ref, {"__error__": f"not valid JSON ({exc.msg})", "__raw__": line.strip()}
                    continue
                if not isinstance(obj, dict):
                    yield (
                        ref,
                        {"__error__": "a JSON line must be an object", "__raw__": line.strip()},
                    )
                    continue
                yield ref, obj

    return None, rows()


def _read_parquet(
    path: Path, label: str, batch_rows: int
) -> tuple[list[str], Iterator[tuple[str, dict]]]:
    """Row groups are read `batch_rows` rows at a time: a big export never sits in
    memory whole."""
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:
        raise FileProblem(f"not a readable Parquet file ({exc})") from None

    def rows() -> Iterator[tuple[str, dict]]:
        offset = 0
        with parquet:
            for batch in parquet.iter_batches(batch_size=batch_rows):
                for n, row in enumerate(batch.to_pylist(), start=1):
                    yield f"{label}:row {offset + n}", row
                offset += batch.num_rows

    return parquet.schema_arrow.names, rows()


def matching_files(pattern: str) -> list[Path]:
    """The files a source's `path` glob names (folders skipped), in a stable order."""
    return sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())


def _file_problem(label: str, why: str) -> dict[str, Any]:
    """The one record that stands for a file nothing could be read from."""
    return {ROW_COLUMN: label, "attributes": {"file": label}, ERRORS_COLUMN: [f"file: {why}"]}


def _drafts(src: FileSource, path: Path, label: str, batch_rows: int) -> Iterator[dict[str, Any]]:
    fmt = file_format(path, src.format)
    try:
        if fmt == "parquet":
            header, rows = _read_parquet(path, label, batch_rows)
        else:
            encoding = text_encoding(path, src.encoding)
            if fmt == "csv":
                header, rows = _read_csv(path, src.csv_delimiter, label, encoding)
            else:
                header, rows = _read_jsonl(path, label, encoding)
    except FileProblem as exc:
        yield _file_problem(label, str(exc))
        return
    if header is not None:
        missing = [
            f"{col!r} (mapped to {field})"
            for field, col in src.columns.items()
            if col not in header
        ]
        if missing:
            raise ExtractError(
                f"{label}: column {', '.join(missing)} not in the file; its columns are {header}"
            )
    tz = ZoneInfo(src.timezone)
    ts_field = TIMESTAMP_FIELD[src.entity]
    mapped_cols = set(src.columns.values())
    for ref, row in rows:
        draft: dict[str, Any] = {ROW_COLUMN: ref}
        errors: list[str] = []
        if "__error__" in row:
            errors.append(row.pop("__error__"))
        for field, col in src.columns.items():
            draft[field] = row.get(col)
        for field, value in src.constants.items():
            draft[field] = value
        # Nothing is lost: columns the mapping does not use travel in `attributes`.
        extras = {k: v for k, v in row.items() if k not in mapped_cols and v not in (None, "")}
        draft["attributes"] = with_mapped_attributes(extras, draft.get("attributes"))
        ts, err = parse_timestamp(draft.get(ts_field), src.timestamp_format, tz)
        draft[ts_field] = ts
        if err:
            errors.append(f"{ts_field}: {err}")
        if src.entity == "crm_event":
            amount, err = parse_amount(draft.get("amount"))
            draft["amount"] = amount
            if err:
                errors.append(f"amount: {err}")
        for field in ("native_id", "customer_key"):
            if field in draft:
                draft[field] = as_id(draft[field])
        draft[ERRORS_COLUMN] = errors
        yield draft


def extract(ctx: ExtractContext) -> Extracted:
    src = ctx.source
    assert isinstance(src, FileSource)
    pattern = str(ctx.config.resolve(src.path))
    paths = matching_files(pattern)
    if not paths and src.required:
        raise ExtractError(f"source {src.name!r}: no file matches {pattern} (required: true)")
    before = json.loads(ctx.cursor) if ctx.cursor else {}
    seen: dict[str, str] = before.get("files", {})
    # (size, mtime in ns) of each file when it was hashed: an export left as it was is
    # not read again to be hashed (a 10^6-row export took 6 s per run), as rsync's quick
    # check; a file whose size or modification time moved is hashed, and re-read when its
    # content changed.
    stamps: dict[str, list[int]] = before.get("stamps", {})
    base = Path(ctx.config.base_dir).resolve()
    todo: list[tuple[Path, str, str]] = []
    new_seen = dict(seen)
    new_stamps = dict(stamps)
    for p in paths:
        try:
            label = str(p.resolve().relative_to(base))
        except ValueError:
            label = str(p)
        stat = p.stat()
        stamp = [stat.st_size, stat.st_mtime_ns]
        unchanged = label in seen and stamps.get(label) == stamp
        digest = seen[label] if unchanged else _sha256(p)
        new_seen[label] = digest
        new_stamps[label] = stamp
        if seen.get(label) != digest:
            todo.append((p, label, digest))

    brand_names = [b.name for b in ctx.config.brands]

    def drafts() -> Iterator[dict[str, Any]]:
        for p, label, _ in todo:
            for d in _drafts(src, p, label, ctx.config.load.batch_rows):
                d["brand"] = canonical_brand(brand_names, d.get("brand"))
                yield d

    cursor = json.dumps({"files": new_seen, "stamps": new_stamps}, sort_keys=True)
    finish = finish_mentions if src.entity == "mention" else finish_crm_events
    out = finish(drafts(), ctx, cursor=cursor)
    if not paths:
        out.note(f"WARNING: no file matches {pattern}")
    out.note(f"{len(todo)} new or changed file(s) of {len(paths)}")
    return out
