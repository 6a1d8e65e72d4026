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


# Words that can start a Cyrillic keyword when no stem narrows them: every \w+ run whose
# first letter is Cyrillic (after normalise(): no ё, lower case).
_CYRILLIC_START = re.compile(r"(?<!\w)[а-я]\w*")


def _alternatives(stems: Iterable[str]) -> str:
    """A regex alternation of literal stems, longest first."""
    return "|".join(re.escape(s) for s in sorted(stems, key=len, reverse=True))


def _start_pattern(stems: Sequence[str] | None) -> re.Pattern[str]:
    """The whole words (maximal \\w+ runs) that start with one of `stems`."""
    if stems is None:
        return _CYRILLIC_START
    return re.compile(rf"(?<!\w)(?:{_alternatives(stems)})\w*")


class _Tokens:
    """The words of a text that may start a keyword phrase, found in one C-level search.

    A phrase starts only at a word that begins with one of the keywords' stems (every
    form of its first word does), so only those words are found and lemmatised; the
    words after a start are read one at a time, only while a multi-word phrase needs
    them. Tokenising every word of every text cost a quarter of the extract step.
    """

    __slots__ = ("_start_re", "_starts", "_text")

    def __init__(self, text: str, start_re: re.Pattern[str]):
        self._text = text
        self._start_re = start_re
        self._starts: list[tuple[int, int, str]] | None = None

    def _candidates(self) -> list[tuple[int, int, str]]:
        """(start, end, word) of each possible first word, left to right; a word right
        after @ or # is a handle or hashtag (exact keywords cover those) and is left out."""
        if self._starts is None:
            text = self._text
            self._starts = [
                (m.start(), m.end(), m.group())
                for m in self._start_re.finditer(text)
                if not (m.start() > 0 and text[m.start() - 1] in "@#")
            ]
        return self._starts

    def _next(self, end: int, lemma_set: frozenset[str]) -> int | None:
        """The end of the word after `end` when it continues the phrase (no sentence break
        between, one of `lemma_set` among its lemmas); None otherwise."""
        text = self._text
        m = _TOKEN.search(text, end)
        if m is None or not _GAP.fullmatch(text, end, m.start()):
            return None
        w = m.group()
        return m.end() if "а" <= w[0] <= "я" and lemma_set & lemmas(w) else None

    def find(self, phrase: _MorphPhrase) -> list[tuple[int, int]]:
        """Spans of the phrase's occurrences (by lemma), left to right, not overlapping."""
        first, rest = phrase.words[0], phrase.words[1:]
        out: list[tuple[int, int]] = []
        taken_end = -1
        for start, end, word in self._candidates():
            if start < taken_end or not first & lemmas(word):
                continue
            last: int | None = end
            for lemma_set in rest:
                last = self._next(last, lemma_set)
                if last is None:
                    break
            if last is not None:
                out.append((start, last))
                taken_end = last
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
        first_word_stems: tuple[str, ...] | None = None
        if stems and not always_morph:
            if not always_index:
                first_word_stems = tuple(sorted(stems | index_stems))
            self._prefilter = re.compile(_alternatives(stems))
        self._has_morph = bool(stems) or always_morph
        self._starts = _start_pattern(first_word_stems)

    def match(self, *texts: str | None) -> BrandMatch | None:
        """The brand with the most keyword hits; ties go to the brand listed first."""
        text = normalise(" \n ".join(t for t in texts if t))
        if not text:
            return None
        tokens: _Tokens | None = None
        if self._has_morph and (self._prefilter is None or self._prefilter.search(text)):
            tokens = _Tokens(text, self._starts)
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
