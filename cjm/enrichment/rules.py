"""The analysts' rules (dbt seeds) loaded, fingerprinted and compiled for fast matching.

One source of truth: the seed CSVs in `dbt_project/seeds/`. dbt loads them into the
`rules` schema and the Python model hands those tables to `RuleSet.from_tables`;
tests and the benchmark read the same files with `RuleSet.from_seed_dir`. Term syntax
(see `seeds/_seeds.yml`):

* a term is one or more normalised words; a trailing `*` makes the last word a prefix
  (at least 3 letters);
* a word without `*` matches any inflection of it: Russian words through pymorphy3's
  lexeme ("задержать" → задержали, задержат…), English ones through regular suffixes
  and a table of irregular verbs ("delay" → delays, delayed, delaying);
* overlapping matches of one rule keep the longest (most words, then an exact
  spelling before an inflection before a prefix, then most letters).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cjm.core.paths import seeds_dir
from cjm.enrichment.morph import save_forms, surface_forms
from cjm.enrichment.text import words

# Bumped when the scoring code changes its answers: part of the rules hash, so a new
# release re-scores every stored mention once.
SCORER_VERSION = "3"  # bump when scoring logic changes: stored rows are re-scored

# the shipped seeds (or those of the project CJM_DBT_PROJECT_DIR names)
SEEDS_DIR = seeds_dir()

# seed name → (rule, column holding the term, column holding the label or None)
TERM_SEEDS: dict[str, tuple[str, str, str | None]] = {
    "sentiment_lexicon": ("sentiment", "term", None),
    "negators": ("negator", "term", None),
    "sentiment_modifiers": ("modifier", "term", "kind"),
    "emotion_lexicon": ("emotion", "term", "emotion"),
    "stage_cues": ("stage", "term", "stage"),
    "topic_keywords": ("topic", "keyword", "topic"),
    "nps_phrases": ("nps", "phrase", "signal"),
    "author_roles": ("author_role", "term", "role"),
}
OTHER_SEEDS = ("emoji_lexicon",)
RULE_SEEDS = (*TERM_SEEDS, *OTHER_SEEDS)

EXACT, INFLECTED, PREFIX = 0, 1, 2
# the topic pack of a keyword row whose `pack` is empty (and of seeds written before packs)
GENERAL_PACK = "general"


class RulesError(ValueError):
    """A seed row the scorer cannot use; the message names the seed and the row."""


Row = Mapping[str, Any]


def _text(value: Any) -> str:
    """Seed values as the CSV spells them, whatever the loader typed them as."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def rules_hash(tables: Mapping[str, Iterable[Row]], extra: Any = None) -> str:
    """A fingerprint of the rule seeds (+ config and scorer version): when it changes,
    every stored mention is re-scored.

    Rows are compared as sorted text so that the same seed read from its CSV file or
    from the table dbt loaded gives the same hash.
    """
    digest = hashlib.sha256(SCORER_VERSION.encode())
    for name in sorted(tables):
        rows = sorted(
            json.dumps({k: _text(v) for k, v in sorted(row.items())}, ensure_ascii=False)
            for row in tables[name]
        )
        digest.update(f"\n#{name}\n".encode())
        digest.update("\n".join(rows).encode())
    if extra is not None:
        digest.update(json.dumps(extra, sort_keys=True, ensure_ascii=False, default=str).encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Term:
    """One seed term ready to match: its rule, label, numbers and word sets."""

    rule: str
    label: str | None
    text: str
    weight: float
    priority: int
    factor: float
    words: tuple[str, ...]
    forms: tuple[frozenset[str], ...]
    is_prefix: bool
    n_letters: int
    n_words: int
    # topic keywords only: the domain pack the row belongs to (`general` when empty), so
    # a brand's configured packs decide which keywords may tag its mentions
    pack: str = ""


@dataclass(frozen=True, slots=True)
class Match:
    term: Term
    start: int
    end: int  # inclusive
    exactness: int

    def rank(self) -> tuple[int, int, int]:
        """Smaller is stronger: more words, then exact spelling, then more letters."""
        return (-self.term.n_words, self.exactness, -self.term.n_letters)


@dataclass(frozen=True, slots=True)
class Emoji:
    symbol: str
    weight: float
    emotion: str | None
    is_irony: bool


@dataclass
class Matcher:
    """Finds every term in a list of words with dictionary look-ups only."""

    terms: list[Term]
    first: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    prefixes: dict[str, list[int]] = field(default_factory=dict)
    _cache: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for index, term in enumerate(self.terms):
            if term.n_words == 1 and term.is_prefix:
                self.prefixes.setdefault(term.words[0], []).append(index)
                continue
            for form in term.forms[0]:
                exactness = EXACT if form == term.words[0] else INFLECTED
                self.first.setdefault(form, []).append((index, exactness))

    def _starting(self, word: str) -> tuple[tuple[int, int], ...]:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        found = list(self.first.get(word, ()))
        if self.prefixes:
            for k in range(3, len(word) + 1):
                for index in self.prefixes.get(word[:k], ()):
                    found.append((index, PREFIX))
        result = tuple(found)
        if len(self._cache) > 200_000:
            self._cache.clear()
        self._cache[word] = result
        return result

    def find(self, tokens: list[str]) -> list[Match]:
        matches: list[Match] = []
        n = len(tokens)
        for start, word in enumerate(tokens):
            for index, exactness in self._starting(word):
                term = self.terms[index]
                size = term.n_words
                if size == 1:
                    matches.append(Match(term, start, start, exactness))
                    continue
                if start + size > n:
                    continue
                ok = True
                worst = exactness
                for k in range(1, size):
                    token = tokens[start + k]
                    if k == size - 1 and term.is_prefix:
                        if not token.startswith(term.words[k]):
                            ok = False
                            break
                        worst = PREFIX
                    elif token not in term.forms[k]:
                        ok = False
                        break
                    elif token != term.words[k]:
                        worst = max(worst, INFLECTED)
                if ok:
                    matches.append(Match(term, start, start + size - 1, worst))
        return matches


def _float(value: Any, where: str, default: float | None = None) -> float:
    text = _text(value).strip()
    if not text:
        if default is None:
            raise RulesError(f"{where}: a number is required")
        return default
    try:
        return float(text)
    except ValueError as err:
        raise RulesError(f"{where}: {text!r} is not a number") from err


class RuleSet:
    """All rule seeds, compiled. Build with `from_seed_dir` or `from_tables`."""

    def __init__(self, tables: Mapping[str, Iterable[Row]]) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {
            name: [dict(row) for row in tables.get(name, ())] for name in RULE_SEEDS
        }
        missing = [name for name in RULE_SEEDS if name not in tables]
        if missing:
            raise RulesError(f"missing rule seeds: {', '.join(missing)}")
        self.hash = rules_hash(self.tables)
        self.terms: list[Term] = []
        for seed, (rule, term_column, label_column) in TERM_SEEDS.items():
            for number, row in enumerate(self.tables[seed], start=2):
                self.terms.append(self._term(seed, number, rule, term_column, label_column, row))
        self.matcher = Matcher(self.terms)
        save_forms()
        self.emoji: list[Emoji] = sorted(
            (
                self._emoji(number, row)
                for number, row in enumerate(self.tables["emoji_lexicon"], start=2)
            ),
            key=lambda e: -len(e.symbol),
        )

    @classmethod
    def from_seed_dir(cls, seeds_dir: Path | str | None = None) -> RuleSet:
        """Read the seed CSVs (the files dbt loads) from `seeds_dir`."""
        directory = Path(seeds_dir) if seeds_dir else SEEDS_DIR
        tables: dict[str, list[dict[str, str]]] = {}
        for name in RULE_SEEDS:
            path = directory / f"{name}.csv"
            if not path.exists():
                raise RulesError(f"{path}: rule seed not found")
            with path.open(encoding="utf-8", newline="") as fh:
                tables[name] = list(csv.DictReader(fh))
        return cls(tables)

    @classmethod
    def from_tables(cls, tables: Mapping[str, Iterable[Row]]) -> RuleSet:
        """Rows as dicts, e.g. the seed tables dbt loaded (`dbt.ref(...)`)."""
        return cls(tables)

    @staticmethod
    def _term(
        seed: str, number: int, rule: str, term_column: str, label_column: str | None, row: Row
    ) -> Term:
        where = f"seeds/{seed}.csv row {number}"
        raw = _text(row.get(term_column)).strip()
        is_prefix = raw.endswith("*")
        parts = tuple(words(raw.rstrip("*")))
        if not parts:
            raise RulesError(f"{where}: {term_column} {raw!r} has no words")
        if is_prefix and len(parts[-1]) < 3:
            raise RulesError(f"{where}: a stem needs at least 3 letters before * ({raw!r})")
        label = _text(row.get(label_column)).strip() or None if label_column else None
        forms = tuple(
            frozenset({word}) if (is_prefix and i == len(parts) - 1) else surface_forms(word)
            for i, word in enumerate(parts)
        )
        if seed == "author_roles" and _text(row.get("field")).strip() == "text":
            # roles told by what the author writes ("as an analyst") rather than by name
            rule = "author_text"
        return Term(
            rule=rule,
            label=label,
            text=raw,
            weight=_float(row.get("weight"), where) if rule == "sentiment" else 0.0,
            priority=int(_float(row.get("priority"), where)) if rule == "stage" else 0,
            factor=_float(row.get("factor"), where, 1.0) if rule == "modifier" else 1.0,
            words=parts,
            forms=forms,
            is_prefix=is_prefix,
            n_letters=len(" ".join(parts)),
            n_words=len(parts),
            pack=(_text(row.get("pack")).strip() or GENERAL_PACK) if rule == "topic" else "",
        )

    @staticmethod
    def _emoji(number: int, row: Row) -> Emoji:
        where = f"seeds/emoji_lexicon.csv row {number}"
        symbol = _text(row.get("emoji")).replace("\ufe0f", "").strip()
        if not symbol:
            raise RulesError(f"{where}: emoji is empty")
        return Emoji(
            symbol=symbol,
            weight=_float(row.get("weight"), where, 0.0),
            emotion=_text(row.get("emotion")).strip() or None,
            is_irony=_text(row.get("is_irony")).strip().lower() in {"true", "1", "yes"},
        )
