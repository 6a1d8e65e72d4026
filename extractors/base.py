"""What every extractor receives and returns.

Extractors only *read* a source and shape records into the contract; they never
touch the warehouse. That keeps them safe to run on many workers at once: the
single loader is the only writer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import pyarrow as pa

from cjm.core.http import SourceError

if TYPE_CHECKING:
    from cjm.core.config import Config, Source


# A source that cannot be read at all (unreachable, unparseable, misconfigured). Defined
# in the core beside the HTTP client that raises it most; extractors know it by this name.
ExtractError = SourceError


@dataclass(frozen=True)
class ExtractContext:
    config: Config
    source: Source
    run_id: str
    fetched_at: datetime
    cursor: str | None = None  # the bookmark stored after the last successful load


@dataclass
class Extracted:
    """What a source read, as bounded Arrow record batches in the landing schema.

    `batches` is read once, as it is produced, so a big export never sits in memory
    whole (the load step streams it with `iter_batches`). The counts and notes are
    final once it is exhausted; reading them earlier (or `table`) gathers every batch
    first, which is what tests and small sources want.
    """

    entity: str  # "mention" | "crm_event"
    batches: Iterable[pa.RecordBatch]  # cjm.contracts.landing_schema(entity)
    cursor: str | None = None  # the bookmark to store once this batch is loaded
    seen: int = 0  # records read before the brand filter, so far
    off_brand: int = 0  # records that mention no configured brand (not loaded), so far
    # Why some records may be incomplete (a malformed feed): they are loaded but the
    # cursor does not count them as read, so the next run fetches them again.
    degraded: str | None = None
    _notes: list[str] = field(default_factory=list, repr=False)
    _table: pa.Table | None = field(default=None, repr=False)
    _done: bool = field(default=False, repr=False)

    def iter_batches(self) -> Iterator[pa.RecordBatch]:
        if self._table is not None:
            yield from self._table.to_batches()
            return
        yield from self.batches
        self._done = True

    @property
    def table(self) -> pa.Table:
        if self._table is None:
            from cjm.core.contracts import landing_schema

            self._table = pa.Table.from_batches(
                list(self.batches), schema=landing_schema(self.entity)
            )
            self._done = True
        return self._table

    def _settle(self) -> None:
        if not self._done:
            self.table  # noqa: B018 (gathers the batches, which completes the counts)

    @property
    def rows_seen(self) -> int:
        self._settle()
        return self.seen

    @property
    def rows_off_brand(self) -> int:
        self._settle()
        return self.off_brand

    @property
    def notes(self) -> list[str]:
        self._settle()
        return self._notes

    def note(self, text: str) -> None:
        """Add a note without gathering the batches (a streaming source's own notes)."""
        self._notes.append(text)


class Extractor(Protocol):
    def __call__(self, ctx: ExtractContext) -> Extracted: ...
