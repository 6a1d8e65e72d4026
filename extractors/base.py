"""What every extractor receives and returns.

Extractors only *read* a source and shape records into the contract; they never
touch the warehouse. That keeps them safe to run on many workers at once: the
single loader is the only writer.
"""

from __future__ import annotations

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
    entity: str  # "mention" | "crm_event"
    table: pa.Table  # cjm.contracts.landing_schema(entity)
    cursor: str | None = None  # the bookmark to store once this batch is loaded
    rows_seen: int = 0  # records read before the brand filter
    rows_off_brand: int = 0  # records that mention no configured brand (not loaded)
    notes: list[str] = field(default_factory=list)
    # Why some records may be incomplete (a malformed feed): they are loaded but the
    # cursor does not count them as read, so the next run fetches them again.
    degraded: str | None = None


class Extractor(Protocol):
    def __call__(self, ctx: ExtractContext) -> Extracted: ...
