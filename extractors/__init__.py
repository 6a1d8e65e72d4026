"""One module per source type; `get_extractor` maps a config `type` to its function."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from cjm.extractors.base import ExtractContext, Extracted, ExtractError

if TYPE_CHECKING:
    from cjm.extractors.base import Extractor

__all__ = ["ExtractContext", "ExtractError", "Extracted", "get_extractor"]


def _file() -> Extractor:
    from cjm.extractors.file_source import extract

    return extract


def _rss() -> Extractor:
    from cjm.extractors.rss import extract

    return extract


def _crm_api() -> Extractor:
    from cjm.extractors.crm_api import extract

    return extract


def _telegram() -> Extractor:
    from cjm.extractors.telegram import extract

    return extract


def _snscrape() -> Extractor:
    from cjm.extractors.snscrape_source import extract

    return extract


_REGISTRY: dict[str, Callable[[], Extractor]] = {
    "file": _file,
    "rss": _rss,
    "crm_api": _crm_api,
    "telegram": _telegram,
    "snscrape": _snscrape,
}


def get_extractor(source_type: str) -> Extractor:
    try:
        return _REGISTRY[source_type]()
    except KeyError:
        raise ExtractError(
            f"source type {source_type!r} has no extractor yet; available: {sorted(_REGISTRY)}"
        ) from None
