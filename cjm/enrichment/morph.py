"""Inflected forms of seed words, computed once when the rules are compiled.

Analysts write a lemma ("задержать", "delay") and expect every inflection to match
("задержали", "delayed"). Lemmatising each word of each mention at run time costs
~35 µs per word with pymorphy3, far too slow for thousands of mentions per second.
The seeds are small, so the work is turned around: each seed word is expanded into
all its surface forms once (pymorphy3's lexeme for Cyrillic words, regular suffix
rules plus a table of irregular verbs for Latin ones), and a mention is then matched
with plain dictionary look-ups.

A generated Russian form is kept only when the seed word's lemma is a likely reading
of it: "дорога" is a form of "дорогой" (expensive) but far more often the noun
"road", so the lexicon entry "дорогой" does not fire on it.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

# Bump when the expansion rules below change (invalidates the cache file).
FORMS_VERSION = "1"
CYRILLIC_WORD_RE = re.compile(r"^[а-я-]+$")
VOWELS = set("aeiou")
VERB_FAMILY = frozenset({"INFN", "VERB", "GRND", "PRTF", "PRTS"})
ADJ_FAMILY = frozenset({"ADJF", "ADJS"})

# Irregular English verbs (base → other forms) that appear in customer language.
IRREGULAR_EN: dict[str, tuple[str, ...]] = {
    "be": ("is", "are", "was", "were", "been", "being", "am"),
    "break": ("broke", "broken", "breaks", "breaking"),
    "bring": ("brought",),
    "buy": ("bought",),
    "catch": ("caught",),
    "choose": ("chose", "chosen"),
    "come": ("came",),
    "do": ("did", "done", "does"),
    "drive": ("drove", "driven"),
    "eat": ("ate", "eaten"),
    "fall": ("fell", "fallen"),
    "feel": ("felt",),
    "fight": ("fought",),
    "find": ("found",),
    "fly": ("flew", "flown", "flies"),
    "forget": ("forgot", "forgotten"),
    "freeze": ("froze", "frozen"),
    "get": ("got", "gotten", "getting"),
    "give": ("gave", "given"),
    "go": ("went", "gone", "goes"),
    "hang": ("hung",),
    "have": ("had", "has"),
    "hear": ("heard",),
    "hold": ("held",),
    "keep": ("kept",),
    "leave": ("left",),
    "lose": ("lost",),
    "make": ("made",),
    "mean": ("meant",),
    "meet": ("met",),
    "pay": ("paid",),
    "put": ("putting",),
    "run": ("ran", "running"),
    "say": ("said",),
    "see": ("saw", "seen"),
    "sell": ("sold",),
    "send": ("sent",),
    "shut": ("shutting",),
    "sit": ("sat", "sitting"),
    "sleep": ("slept",),
    "spend": ("spent",),
    "steal": ("stole", "stolen"),
    "stick": ("stuck",),
    "take": ("took", "taken"),
    "teach": ("taught",),
    "tell": ("told",),
    "think": ("thought",),
    "throw": ("threw", "thrown"),
    "understand": ("understood",),
    "wake": ("woke", "woken"),
    "win": ("won", "winning"),
    "write": ("wrote", "written"),
}
# Comparatives and superlatives that are not regular suffixes.
IRREGULAR_EN_ADJ: dict[str, tuple[str, ...]] = {
    "good": ("better", "best"),
    "bad": ("worse", "worst"),
}


def _cache_dir() -> Path | None:
    configured = os.environ.get("CJM_ENRICHMENT_CACHE")
    if configured is not None:
        return Path(configured) if configured.strip() else None
    return Path.home() / ".cache" / "cjm-warehouse"


def pymorphy3_dicts_revision() -> str:
    """The dictionary package's version, without loading the dictionaries."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pymorphy3-dicts-ru")
    except PackageNotFoundError:
        return "0"


def is_cyrillic(word: str) -> bool:
    return bool(CYRILLIC_WORD_RE.match(word))


def english_forms(word: str) -> set[str]:
    """Regular inflections of an English base form (plural/3rd person, -ed, -ing).

    Over-generation is harmless ("gooded" never occurs); the one thing avoided is
    turning an adjective into a different common word, so comparatives (-er) are not
    generated: "late" must not match "later".
    """
    forms = {word}
    if "'" in word or not word.isalpha() or len(word) < 3:
        return forms | set(IRREGULAR_EN.get(word, ()))
    last = word[-1]
    if last == "y" and word[-2] not in VOWELS:
        stem = word[:-1]
        forms |= {stem + "ies", stem + "ied", word + "ing"}
    elif last == "e":
        forms |= {word + "s", word + "d", word[:-1] + "ing"}
    elif word.endswith(("s", "x", "z", "ch", "sh")):
        forms |= {word + "es", word + "ed", word + "ing"}
    else:
        forms |= {word + "s", word + "ed", word + "ing"}
        # stop → stopped, cancel → cancelled (both spellings: canceled / cancelled)
        if last not in VOWELS | {"w", "x", "y"} and word[-2] in VOWELS and word[-3] not in VOWELS:
            forms |= {word + last + "ed", word + last + "ing"}
    forms |= set(IRREGULAR_EN.get(word, ()))
    return forms


class RussianForms:
    """pymorphy3 lexemes of Russian seed words, filtered to likely readings.

    Expanding ~1,500 seed words costs ~3 s of dictionary walks, paid by every dbt
    build. The expansions depend only on the word and the dictionary version, so
    they are kept in a small JSON file (`CJM_ENRICHMENT_CACHE`, default
    ~/.cache/cjm-warehouse/; set it to an empty string to disable) and a build pays
    only for words it has not seen.
    """

    def __init__(self) -> None:
        import pymorphy3

        version = f"{FORMS_VERSION}-{pymorphy3.__version__}-{pymorphy3_dicts_revision()}"
        self._cache_path = _cache_dir() / f"ru-forms-{version}.json" if _cache_dir() else None
        self._known: dict[str, frozenset[str]] = {}
        self._dirty = False
        self._analysers: tuple[Any, Any] | None = None
        if self._cache_path and self._cache_path.exists():
            try:
                stored = json.loads(self._cache_path.read_text(encoding="utf-8"))
                self._known = {k: frozenset(v) for k, v in stored.items()}
            except (OSError, ValueError):
                self._known = {}

    @property
    def _morph(self) -> Any:
        return self._load()[0]

    @property
    def _exact(self) -> Any:
        return self._load()[1]

    def _load(self) -> tuple[Any, Any]:
        # ~0.5 s: only when a seed word is not in the cache yet
        if self._analysers is None:
            import pymorphy3

            # Lexeme forms come spelled with "ё" straight from the dictionary, so checking
            # them needs no е→ё guessing, which is most of the cost of a parse.
            self._analysers = (
                pymorphy3.MorphAnalyzer(),
                pymorphy3.MorphAnalyzer(char_substitutes={}),
            )
        return self._analysers

    def forms(self, word: str) -> frozenset[str]:
        known = self._known.get(word)
        if known is None:
            known = self._known[word] = self._expand(word)
            self._dirty = True
        return known

    def save(self) -> None:
        """Write new expansions to the cache file (atomically; errors are ignored:
        the cache only saves time)."""
        if not (self._dirty and self._cache_path):
            return
        try:
            self._cache_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._cache_path.with_suffix(f".{os.getpid()}.tmp")
            data = {k: sorted(v) for k, v in sorted(self._known.items())}
            tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self._cache_path)
            self._dirty = False
        except OSError:
            pass

    def _expand(self, word: str) -> frozenset[str]:
        parses = self._morph.parse(word)
        if not parses:
            return frozenset({word})
        # analysts write lemmas: prefer the reading in which the word is its own
        # lemma ("дорогой" the adjective, not the instrumental of "дорога")
        seed = next((p for p in parses if p.normal_form.replace("ё", "е") == word), parses[0])
        lemma = seed.normal_form
        pos = seed.tag.POS
        # stay inside the seed word's own paradigm: "хороший" gives хорошая, хороши,
        # but not the suppletive "лучше"/"лучший" (the analyst weighs those apart)
        allowed = VERB_FAMILY if pos in VERB_FAMILY else ADJ_FAMILY if pos in ADJ_FAMILY else {pos}
        superlative = "Supr" in seed.tag
        found = {word}
        for form in seed.lexeme:
            surface = form.word.replace("ё", "е")
            if surface == word or surface in found:
                continue
            if form.tag.POS not in allowed or ("Supr" in form.tag) != superlative:
                continue
            if self._reads_as(form.word, lemma):
                found.add(surface)
        return frozenset(found)

    @cache  # noqa: B019
    def _reads_as(self, surface: str, lemma: str) -> bool:
        parses = self._exact.parse(surface)
        if not parses:
            return False
        top = parses[0].score or 1e-9
        return any(
            p.normal_form.replace("ё", "е") == lemma.replace("ё", "е")
            and (p.score or 0.0) >= 0.3 * top
            for p in parses
        )


@lru_cache(maxsize=1)
def russian() -> RussianForms:
    return RussianForms()


def surface_forms(word: str) -> frozenset[str]:
    """Every spelling a seed word (normalised, no `*`) matches in a mention."""
    if is_cyrillic(word):
        return russian().forms(word)
    if word.isascii():
        forms = english_forms(word) | set(IRREGULAR_EN_ADJ.get(word, ()))
        return frozenset(forms)
    return frozenset({word})


def save_forms() -> None:
    """Persist Russian expansions computed so far (no-op when nothing is new)."""
    if russian.cache_info().currsize:
        russian().save()
