"""Which configured brand a text is about.

Keywords match whole words only, case-insensitively, in Cyrillic and Latin
alike (``ё`` is folded to ``е`` as Russian writers use them interchangeably).
Exclusions are masked out before matching, so "Acme Corporation sues Acme Bank"
still matches Acme Bank while "Acme Corporation" alone does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def normalise(text: str) -> str:
    return text.casefold().replace("ё", "е")


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    alts = sorted({normalise(p).strip() for p in phrases if p and p.strip()}, key=len, reverse=True)
    if not alts:
        return None
    body = "|".join(re.escape(a) for a in alts)
    # (?<!\w) / (?!\w) instead of \b so keywords that start with @ or # still anchor.
    return re.compile(rf"(?<![\w@#])(?:{body})(?!\w)", re.UNICODE)


@dataclass(frozen=True)
class BrandMatch:
    brand: str
    keywords: tuple[str, ...]
    other_brands: tuple[str, ...] = ()


class BrandMatcher:
    def __init__(self, brands: Sequence[object]):
        # `brands` are cjm.config.Brand models; typed loosely to keep this module import-light.
        self._rules: list[tuple[str, re.Pattern[str], re.Pattern[str] | None]] = []
        for b in brands:
            include = _phrase_pattern(b.keywords)  # type: ignore[attr-defined]
            if include is None:
                continue
            self._rules.append((b.name, include, _phrase_pattern(b.exclude)))  # type: ignore[attr-defined]

    def match(self, *texts: str | None) -> BrandMatch | None:
        """The brand with the most keyword hits; ties go to the brand listed first."""
        text = normalise(" \n ".join(t for t in texts if t))
        if not text:
            return None
        hits: list[tuple[int, int, str, tuple[str, ...]]] = []
        for order, (name, include, exclude) in enumerate(self._rules):
            masked = exclude.sub(" ", text) if exclude else text
            found = include.findall(masked)
            if found:
                hits.append((-len(found), order, name, tuple(dict.fromkeys(found))))
        if not hits:
            return None
        hits.sort()
        _, _, name, keywords = hits[0]
        return BrandMatch(name, keywords, tuple(h[2] for h in hits[1:]))
