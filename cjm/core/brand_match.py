"""Which configured brand a text is about.

Keywords match whole words only, case-insensitively, in Cyrillic and Latin
alike (``ё`` is folded to ``е`` as Russian writers use them interchangeably).
Exclusions are masked out before matching, so "Acme Corporation sues Acme Bank"
still matches Acme Bank while "Acme Corporation" alone does not.

Russian inflects names: people write "в Сбербанке", "у Финли", "Сбербанком".
A keyword written only in Cyrillic letters (one word or several, hyphens
allowed) therefore matches every word form: text tokens and keywords are both
lemmatised with pymorphy3 and compared as sets of possible lemmas (a word form
is often ambiguous, "банке" is "банк" or "банка"; any shared lemma counts).
Everything else (Latin names, handles, hashtags, domains) stays an exact
whole-word match: "Finly" must not match "Finlyandia", and English has no case
endings worth the false positives.

Speed matters because every extracted record passes through here: parses are
cached per word form, and the morphological pass runs only when the text
contains the stem every form of some keyword shares (most texts of a media feed
name no brand at all).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from cjm.core.text import normalize

_CYRILLIC_WORD = re.compile(r"[а-я]+(?:-[а-я]+)*")  # after normalise(): no ё, lower case
_TOKEN = re.compile(r"\w+", re.UNICODE)
# Between two words of a multi-word keyword: spaces, hyphens and quotes, not sentence breaks.
_GAP = re.compile(r"[\s\-\u2010-\u2015\"'«»“”„‘’]+")
_MIN_STEM = 3


# the product's one rule (cjm/core/text.py), under the name this module has always used
normalise = normalize


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    alts = sorted({normalise(p).strip() for p in phrases if p and p.strip()}, key=len, reverse=True)
    if not alts:
        return None
    body = "|".join(re.escape(a) for a in alts)
    # (?<!\w) / (?!\w) instead of \b so keywords that start with @ or # still anchor.
    return re.compile(rf"(?<![\w@#])(?:{body})(?!\w)", re.UNICODE)


@lru_cache(maxsize=1)
def _morph():  # type: ignore[no-untyped-def]
    """One analyzer per process: loading the dictionaries costs ~60 ms and ~15 MB."""
    import logging

    import pymorphy3

    # pymorphy3 announces every dictionary load at INFO; a `cjm run` has its own progress.
    quiet = logging.getLogger("pymorphy3")
    if quiet.level == logging.NOTSET:
        quiet.setLevel(logging.WARNING)
    return pymorphy3.MorphAnalyzer(lang="ru")


@lru_cache(maxsize=200_000)
def lemmas(word: str) -> frozenset[str]:
    """Every normal form pymorphy3 considers possible for a (normalised) word form."""
    return frozenset(normalise(p.normal_form) for p in _morph().parse(word))


@lru_cache(maxsize=10_000)
def _forms(word: str) -> frozenset[str]:
    """Every word form of every lexeme the word may belong to (for the stem pre-filter)."""
    out = {word}
    for p in _morph().parse(word):
        out.update(normalise(f.word) for f in p.lexeme)
    return frozenset(out)


def _common_prefix(words: Iterable[str]) -> str:
    words = list(words)
    if not words:
        return ""
    first, last = min(words), max(words)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]


def is_inflectable(phrase: str) -> bool:
    """Only phrases made of Cyrillic words are matched by lemma; the rest stay exact."""
    words = normalise(phrase).split()
    return bool(words) and all(_CYRILLIC_WORD.fullmatch(w) for w in words)


@dataclass(frozen=True)
class _MorphPhrase:
    label: str  # the keyword as configured (normalised): what matched_keywords reports
    words: tuple[frozenset[str], ...]  # lemma sets, one per word (hyphen parts are words)
    stem: str | None  # a substring every form of the first word contains; None = no pre-filter


def _morph_phrase(phrase: str) -> _MorphPhrase:
    label = normalise(phrase).strip()
    parts = [w for w in re.split(r"[\s\-]+", label) if w]
    stem = _common_prefix(_forms(parts[0]))
    return _MorphPhrase(
        label=label,
        words=tuple(lemmas(w) for w in parts),
        stem=stem if len(stem) >= _MIN_STEM else None,
    )


class _Tokens:
    """A text's word tokens with their spans, indexed by lemma on first use."""

    __slots__ = ("_by_lemma", "_handle", "_stems", "_text", "spans", "words")

    def __init__(self, text: str, stems: tuple[str, ...] | None = None):
        self._text = text
        self._stems = stems  # every form of a keyword's first word starts with one of these
        self.words: list[str] = []
        self.spans: list[tuple[int, int]] = []
        # A word right after @ or # is a handle or hashtag: exact keywords cover those.
        self._handle: list[bool] = []
        self._by_lemma: dict[str, list[int]] | None = None
        for m in _TOKEN.finditer(text):
            start = m.start()
            self.words.append(m.group())
            self.spans.append(m.span())
            self._handle.append(start > 0 and text[start - 1] in "@#")

    def _index(self) -> dict[str, list[int]]:
        """lemma → token positions: each phrase then costs a few dict look-ups, not a scan."""
        if self._by_lemma is None:
            index: dict[str, list[int]] = {}
            stems = self._stems
            for i, w in enumerate(self.words):
                # Only Cyrillic words can be forms of a Cyrillic keyword, and only those
                # starting with a keyword's stem can start a phrase: the rest skip pymorphy3.
                if "а" <= w[0] <= "я" and (stems is None or w.startswith(stems)):
                    for lemma in lemmas(w):
                        index.setdefault(lemma, []).append(i)
            self._by_lemma = index
        return self._by_lemma

    def _joined(self, i: int) -> bool:
        """May token i+1 continue a phrase that token i is part of (no sentence break)?"""
        return bool(_GAP.fullmatch(self._text, self.spans[i][1], self.spans[i + 1][0]))

    def _has(self, i: int, lemma_set: frozenset[str]) -> bool:
        w = self.words[i]
        return "а" <= w[0] <= "я" and bool(lemma_set & lemmas(w))

    def find(self, phrase: _MorphPhrase) -> list[tuple[int, int]]:
        """Spans of the phrase's occurrences (by lemma), left to right, not overlapping."""
        index = self._index()
        starts = sorted({i for lemma in phrase.words[0] for i in index.get(lemma, ())})
        out: list[tuple[int, int]] = []
        n, taken_until = len(phrase.words), -1
        for i in starts:
            if i <= taken_until or self._handle[i] or i + n > len(self.words):
                continue
            if all(
                self._joined(i + k) and self._has(i + k + 1, lem)
                for k, lem in enumerate(phrase.words[1:])
            ):
                out.append((self.spans[i][0], self.spans[i + n - 1][1]))
                taken_until = i + n - 1
        return out


def _overlaps(span: tuple[int, int], excluded: list[tuple[int, int]]) -> bool:
    return any(span[0] < e1 and e0 < span[1] for e0, e1 in excluded)


@dataclass(frozen=True)
class _Rule:
    name: str
    include: re.Pattern[str] | None
    include_morph: tuple[_MorphPhrase, ...]
    exclude: re.Pattern[str] | None
    exclude_morph: tuple[_MorphPhrase, ...]


def _split(phrases: Iterable[str]) -> tuple[list[str], tuple[_MorphPhrase, ...]]:
    exact: list[str] = []
    morph: list[_MorphPhrase] = []
    for p in phrases:
        if not p or not p.strip():
            continue
        if is_inflectable(p):
            morph.append(_morph_phrase(p))
        else:
            exact.append(p)
    return exact, tuple(morph)


@dataclass(frozen=True)
class BrandMatch:
    brand: str
    keywords: tuple[str, ...]
    other_brands: tuple[str, ...] = ()


class BrandMatcher:
    def __init__(self, brands: Sequence[object]):
        # `brands` are cjm.config.Brand models; typed loosely to keep this module import-light.
        self._rules: list[_Rule] = []
        stems: set[str] = set()
        index_stems: set[str] = set()
        always_morph = always_index = False
        for b in brands:
            exact_in, morph_in = _split(b.keywords)  # type: ignore[attr-defined]
            if not exact_in and not morph_in:
                continue
            exact_ex, morph_ex = _split(b.exclude)  # type: ignore[attr-defined]
            self._rules.append(
                _Rule(
                    name=b.name,  # type: ignore[attr-defined]
                    include=_phrase_pattern(exact_in),
                    include_morph=morph_in,
                    exclude=_phrase_pattern(exact_ex),
                    exclude_morph=morph_ex,
                )
            )
            for p in morph_in:
                if p.stem is None:
                    always_morph = True
                else:
                    stems.add(p.stem)
            # Exclusions must be found too, but cannot make a text worth tokenising.
            index_stems.update(p.stem for p in morph_ex if p.stem is not None)
            always_index = always_index or any(p.stem is None for p in morph_ex)
        # One C-level search decides whether any text token could be a keyword form.
        self._prefilter: re.Pattern[str] | None = None
        self._stems: tuple[str, ...] | None = None
        if stems and not always_morph:
            if not always_index:
                self._stems = tuple(sorted(stems | index_stems))
            body = "|".join(re.escape(s) for s in sorted(stems, key=len, reverse=True))
            self._prefilter = re.compile(body)
        self._has_morph = bool(stems) or always_morph

    def match(self, *texts: str | None) -> BrandMatch | None:
        """The brand with the most keyword hits; ties go to the brand listed first."""
        text = normalise(" \n ".join(t for t in texts if t))
        if not text:
            return None
        tokens: _Tokens | None = None
        if self._has_morph and (self._prefilter is None or self._prefilter.search(text)):
            tokens = _Tokens(text, self._stems)
        hits: list[tuple[int, int, str, tuple[str, ...]]] = []
        for order, rule in enumerate(self._rules):
            found = self._rule_hits(rule, text, tokens)
            if found:
                hits.append((-len(found), order, rule.name, tuple(dict.fromkeys(found))))
        if not hits:
            return None
        hits.sort()
        _, _, name, keywords = hits[0]
        return BrandMatch(name, keywords, tuple(h[2] for h in hits[1:]))

    @staticmethod
    def _rule_hits(rule: _Rule, text: str, tokens: _Tokens | None) -> list[str]:
        excluded: list[tuple[int, int]] = []
        if tokens is not None:
            for p in rule.exclude_morph:
                excluded.extend(tokens.find(p))
        masked = text
        if rule.exclude:
            excluded.extend(m.span() for m in rule.exclude.finditer(text))
            masked = rule.exclude.sub(lambda m: " " * len(m.group()), text)
        found: list[str] = []
        if rule.include:
            found.extend(
                m.group()
                for m in rule.include.finditer(masked)
                if not excluded or not _overlaps(m.span(), excluded)
            )
        if tokens is not None:
            for p in rule.include_morph:
                found.extend(p.label for s in tokens.find(p) if not _overlaps(s, excluded))
        return found
