"""Landing files: the immutable hand-over between extract, validate and load.

One folder per source, one set of files per run, named after the run id. A
retried task overwrites its own files (written to a temp name, then renamed),
so a half-written file is never read and a retry never duplicates.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


def safe_run_id(run_id: str) -> str:
    """Airflow run ids carry ':' and '+'; keep file names portable."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)


class Landing:
    def __init__(self, root: str | Path, source: str, run_id: str):
        self.dir = Path(root) / source
        self.stem = safe_run_id(run_id)

    def path(self, kind: str) -> Path:
        suffix = "json" if kind.endswith("manifest") else "parquet"
        name = f"{self.stem}.parquet" if kind == "extracted" else f"{self.stem}.{kind}.{suffix}"
        return self.dir / name

    def _replace(self, kind: str, write: Callable[[Path], object]) -> Path:
        """Write under a temp name, then rename: readers never see half a file."""
        target = self.path(kind)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        write(tmp)
        os.replace(tmp, target)
        return target

    def write_table(self, kind: str, table: pa.Table) -> Path:
        return self._replace(kind, lambda tmp: pq.write_table(table, tmp, compression="zstd"))

    @contextmanager
    def writer(self, kind: str, schema: pa.Schema) -> Iterator[pq.ParquetWriter]:
        """A Parquet writer (a row group per batch written) whose file appears, renamed,
        only when the block ends without an error; memory stays at one batch."""
        target = self.path(kind)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
                yield writer
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def write_batches(
        self, kind: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch]
    ) -> tuple[Path, int]:
        """Stream record batches into one file; returns its path and the row count."""
        rows = 0
        with self.writer(kind, schema) as writer:
            for batch in batches:
                if batch.num_rows:
                    writer.write_batch(batch)
                    rows += batch.num_rows
        return self.path(kind), rows

    def write_manifest(self, kind: str, data: dict[str, Any]) -> Path:
        text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
        return self._replace(kind, lambda tmp: tmp.write_text(text, encoding="utf-8"))

    def read_manifest(self, kind: str) -> dict[str, Any] | None:
        p = self.path(kind)
        return json.loads(p.read_text(encoding="utf-8")) if p.exists() else None


_TEMP = re.compile(r"^\..+\.(?P<pid>\d+)\.tmp$")


def remove_dead_temp_files(root: str | Path) -> list[Path]:
    """Temp files (`_replace`'s `.<name>.<pid>.tmp`) whose writer is no longer alive on
    this machine: what a `kill -9` mid-write leaves. A live writer's file (an Airflow
    task next door) is left alone."""
    removed: list[Path] = []
    for tmp in Path(root).glob("*/.*.tmp"):
        m = _TEMP.match(tmp.name)
        if m is None:
            continue
        try:
            os.kill(int(m["pid"]), 0)
            continue  # its writer is still running
        except ProcessLookupError:
            pass
        except PermissionError:
            continue  # alive, another user's
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed
