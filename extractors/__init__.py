"""One module per source type; `get_extractor` finds a config `type`'s function through
the source-type registry (cjm/core/sources.py), the one list of types."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cjm.core.sources import source_type, source_types
from cjm.extractors.base import ExtractContext, Extracted, ExtractError

if TYPE_CHECKING:
    from cjm.extractors.base import Extractor

__all__ = ["ExtractContext", "ExtractError", "Extracted", "get_extractor"]


def get_extractor(name: str) -> Extractor:
    try:
        return source_type(name).load_extractor()
    except KeyError:
        raise ExtractError(
            f"source type {name!r} has no extractor; available: {sorted(source_types())}"
        ) from None
