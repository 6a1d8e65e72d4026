"""Is a mention that names a brand actually about the brand? A score in [0, 1] with its evidence.

Keyword matching (cjm/core/brand_match.py) finds every text that *names* a brand;
a keyword search also brings back texts that merely share the word: another sense
("apple pie"), another market (a Spanish tweet for a brand followed in English), a
tag list of an ad bot. Measured on the Sanders tweets (cjm/bench/evaluation/relevance.py),
a third of the matched texts are of that kind. This module scores each match from
evidence a user can read and configure, never from per-brand code:

* **language** — a text in a language outside the brand's configured `languages`
  is rarely about the brand *for this user* (their market, their customers). The
  language is guessed over all the languages py3langid knows (the enrichment's own
  detector only chooses among the configured ones, so it cannot say "not ours"), and
  the penalty grows with the model's certainty and the amount of text: short texts
  ("Siri is down!") are where n-gram models guess wildly, so they are not penalised;
* **exclude** — phrases of other senses masked out before matching (the matcher's own
  rule): when no keyword is left outside them, the score is 0;
* **context** — configured brand-domain words ("iphone", "app store") raise it;
* **off_topic** — configured words of the other senses ("pie", "juice") lower it;
* **spam shape** — a tag list (many hashtags) or several links: each lowers it a
  little (alone they never push a mention under the default threshold; on Sanders
  they are weak signals, see `_spam`).

`relevance()` is pure and cheap (a few regex searches, ~25 µs); the language guess is
the expensive part and has a batch form (`guess_languages`, ~23 µs a tweet) that walks
many texts through py3langid's automaton at once and scores them with one sparse
product: together ~21,000 mentions/s on one core, against ~15,000/s for py3langid's
per-text `classify` alone. `DEFAULT_MIN_SCORE` is also the default of
cjm.config.Relevance and of stg_config__brands (a test keeps them equal).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

from cjm.core.brand_match import BrandMatcher, normalise

# The score of a mention whose keyword matched and about which nothing else is known.
BASE = 0.6
CONTEXT_STEP = 0.15  # per distinct context word found
CONTEXT_MAX = 0.3
OFF_TOPIC_STEP = 0.35  # per distinct off-topic word found
# A text in another language keeps at most this share of its score when the model is
# certain and the text long enough (multiplicative: context words cannot rescue it).
LANGUAGE_FLOOR = 0.15
# Letters (links, handles and hashtags aside) below which the language model is not
# trusted at all, and above which it is trusted fully; linear in between.
LANGUAGE_MIN_LETTERS = 8
LANGUAGE_FULL_LETTERS = 16
# The evidence is the ratio P(best configured language) / P(best language): py3langid
# spreads probability over many related languages for short text (en, pcm, lb, de for
# an English tweet full of names), so "the share outside" is high even for English;
# the ratio says how much more likely the other language is. At or above RATIO_HIGH no
# penalty, at or below RATIO_LOW the full one, linear in between.
LANGUAGE_RATIO_HIGH = 0.3
LANGUAGE_RATIO_LOW = 0.05
# py3langid's label for text with no linguistic content (emoji rows, codes): no evidence.
NOT_A_LANGUAGE = frozenset({"zxx", "und"})
# Texts with fewer letters get no guess at all (nothing to judge by).
GUESS_MIN_LETTERS = 4
# The language of a long article shows in its first few hundred bytes.
MAX_LANGUAGE_BYTES = 400
SPAM_STEP = 0.1
SPAM_HASHTAGS = 6
SPAM_LINKS = 2
DEFAULT_MIN_SCORE = 0.3
# The kinds of evidence; `relevance(..., signals=...)` can switch some off so each one's
# effect is measurable on its own (cjm/bench/evaluation/relevance.py).
SIGNALS = frozenset({"language", "context", "off_topic", "spam"})

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HASHTAG = re.compile(r"(?<![\w#])#\w+")
_LANG_NOISE = re.compile(r"(?:https?://|www\.)\S+|(?<![\w@#])[@#][\w.]+|&\w+;|\bRT\b")


@dataclass(frozen=True, slots=True)
class RelevanceBrand:
    """What relevance needs of a configured brand (cjm.config.Brand, flattened).

    Frozen and hashable so compiled patterns can be cached per brand.
    """

    name: str
    keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    off_topic: tuple[str, ...] = ()
    min_score: float = DEFAULT_MIN_SCORE


class LanguageGuess(NamedTuple):
    """The open-set language guess of a text: the best language, and the probability of
    every language with a noticeable share (sparse), and the letters it was judged on."""

    language: str | None
    shares: dict[str, float]
    letters: int


# --------------------------------------------------------------------------- language


def language_text(text: str) -> str:
    """The part of a text a language model should read: no links, @handles, hashtags,
    HTML entities or 'RT'. Hashtags go too: they are mostly names (#Google #Nexus
    #Samsung), and names make py3langid guess Luxembourgish or German for English
    (measured on Sanders: recall 0.991 → 0.993 and precision 0.911 → 0.925 at once)."""
    return _LANG_NOISE.sub(" ", text or "")


class _OpenModel:
    """py3langid's naive-Bayes model over all its languages, scored in batches.

    py3langid classifies one text per call: a Python loop walks the text's bytes
    through its n-gram automaton (~20 µs for a tweet), then a few numpy calls score
    the features (~30 µs, mostly per-call overhead). Here a chunk of texts walks the
    automaton in lockstep (one numpy step per byte position for all texts at once,
    longest first so the active texts are a prefix) and is scored with one product,
    which is what keeps relevance above 20,000 mentions/s. The arithmetic is
    py3langid's own (log1p counts, softmax at temperature sqrt(bytes), aliased labels
    summed), so the probabilities are what `classify` computes.
    """

    def __init__(self) -> None:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        model = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        self._ptc = np.ascontiguousarray(model.nb_ptc, dtype=np.float32)
        self._pc = np.asarray(model.nb_pc, dtype=np.float32)
        self._nextmove = np.asarray(model.tk_nextmove, dtype=np.int64)
        self._rowbase = np.asarray(model._rowbase, dtype=np.int64)
        self._output = np.asarray(model.tk_output, dtype=np.int64)
        self._features = int(self._ptc.shape[0])
        labels = list(dict.fromkeys(model.nb_classes))  # aliased columns share a label
        self.labels = labels
        index = {lab: i for i, lab in enumerate(labels)}
        self._column_label = np.array([index[c] for c in model.nb_classes], dtype=np.intp)

    @staticmethod
    def _encode(text: str) -> bytes:
        if text.isupper():  # as py3langid does: all-caps text is read in lower case
            text = text.lower()
        data = unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")
        return data[:MAX_LANGUAGE_BYTES]

    def _walk(self, datas: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """(text index, feature) of every feature hit, texts walked in lockstep."""
        order = sorted(range(len(datas)), key=lambda i: -len(datas[i]))
        lengths = [len(datas[i]) for i in order]
        width = lengths[0]
        grid = np.zeros((len(order), width), dtype=np.int64)
        for row, i in enumerate(order):
            if lengths[row]:
                grid[row, : lengths[row]] = np.frombuffer(datas[i], dtype=np.uint8)
        # active[k] = how many texts are longer than k (a prefix: sorted longest first)
        active = np.searchsorted(-np.asarray(lengths), -np.arange(width), side="left")
        base = np.full(len(order), self._rowbase[0], dtype=np.int64)  # state 0
        texts: list[np.ndarray] = []
        feats: list[np.ndarray] = []
        nextmove, rowbase, output = self._nextmove, self._rowbase, self._output
        for k in range(width):
            n = int(active[k])
            state = nextmove[base[:n] + grid[:n, k]]
            base[:n] = rowbase[state]
            f = output[state]
            hit = np.flatnonzero(f >= 0)
            if len(hit):
                texts.append(hit)
                feats.append(f[hit])
        if not texts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        rows = np.asarray(order, dtype=np.int64)[np.concatenate(texts)]
        return rows, np.concatenate(feats)

    def probabilities(self, texts: Sequence[str], chunk: int = 4096) -> np.ndarray:
        """texts × labels probabilities; a row of zeros for a text without features."""
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        for start in range(0, len(texts), chunk):
            datas = [self._encode(t) for t in texts[start : start + chunk]]
            if not any(datas):
                continue
            rows, feats = self._walk(datas)
            if not len(rows):
                continue
            keys, counts = np.unique(rows * self._features + feats, return_counts=True)
            rows, feats = keys // self._features, keys % self._features
            with_features = np.unique(rows)
            weights = np.log1p(counts.astype(np.float32))
            scores = self._score(rows, feats, weights, with_features, len(datas))
            scores += self._pc
            sizes = np.array([len(datas[i]) or 1 for i in with_features], dtype=np.float32)
            scores /= np.sqrt(sizes)[:, None]
            scores -= scores.max(axis=1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=1, keepdims=True)
            merged = np.zeros((len(with_features), len(self.labels)), dtype=np.float32)
            np.add.at(merged.T, self._column_label, scores.T)
            out[start + with_features] = merged
        return out

    def _score(
        self,
        rows: np.ndarray,
        feats: np.ndarray,
        weights: np.ndarray,
        with_features: np.ndarray,
        n: int,
    ) -> np.ndarray:
        """Σ weight × log P(feature | language) per text (rows sorted, one per text).

        A sparse product: ~6× faster than gathering one row of the table per (text,
        feature) pair, which moves ~100 MB per 5,000 tweets.
        """
        from scipy.sparse import csr_matrix

        matrix = csr_matrix((weights, (rows, feats)), shape=(n, self._features))
        return np.asarray(matrix[with_features] @ self._ptc, dtype=np.float32)


@lru_cache(maxsize=1)
def _open_model() -> _OpenModel:
    """One model per process: loading it costs ~0.7 s."""
    return _OpenModel()


def _letters(text: str) -> int:
    return sum(map(str.isalpha, text))


def guess_languages(texts: Sequence[str | None], min_share: float = 0.01) -> list[LanguageGuess]:
    """Open-set language guesses of many texts at once (see `_OpenModel`)."""
    cleaned = [language_text(t or "") for t in texts]
    letters = [_letters(t) for t in cleaned]
    todo = [i for i, n in enumerate(letters) if n >= GUESS_MIN_LETTERS]
    guesses = [LanguageGuess(None, {}, n) for n in letters]
    if not todo:
        return guesses
    model = _open_model()
    probs = model.probabilities([cleaned[i] for i in todo])
    labels = model.labels
    # one pass over the non-negligible cells instead of numpy calls per text
    rows, cols = np.nonzero(probs >= min_share)
    values = probs[rows, cols].round(4).tolist()
    shares: dict[int, dict[str, float]] = {}
    for r, c, v in zip(rows.tolist(), cols.tolist(), values, strict=True):
        shares.setdefault(r, {})[labels[c]] = v
    best = probs.argmax(axis=1).tolist()
    for r, share in shares.items():  # a text without features has no cell at all
        i = todo[r]
        guesses[i] = LanguageGuess(labels[best[r]], share, letters[i])
    return guesses


def guess_language(text: str | None) -> LanguageGuess:
    """The open-set language guess of one text."""
    return guess_languages([text])[0]


def _language_factor(
    guess: LanguageGuess | str | None, languages: tuple[str, ...], name_letters: int = 0
) -> tuple[float, str | None]:
    """Multiplier for the language evidence, and its evidence line (None: no penalty).

    `name_letters` (the letters of the brand keywords in the text) do not count as text
    to judge by: a name is no word of any language, and "mms билайн android" or
    "Сбербанк Курган" are where py3langid says Mongolian or Kyrgyz for Russian.
    """
    if not languages or guess is None:
        return 1.0, None
    if isinstance(guess, str):
        # a language given by the source itself: taken at its word
        if guess in languages:
            return 1.0, None
        return LANGUAGE_FLOOR, f"language {guess} not in {list(languages)} (source tag)"
    if guess.language is None or guess.language in NOT_A_LANGUAGE:
        return 1.0, None
    if guess.language in languages:
        return 1.0, None
    best = guess.shares.get(guess.language, 0.0)
    ours = max((guess.shares.get(lang, 0.0) for lang in languages), default=0.0)
    ratio = ours / best if best > 0 else 1.0
    certainty = (LANGUAGE_RATIO_HIGH - ratio) / (LANGUAGE_RATIO_HIGH - LANGUAGE_RATIO_LOW)
    letters = guess.letters - name_letters
    trust = (letters - LANGUAGE_MIN_LETTERS) / (LANGUAGE_FULL_LETTERS - LANGUAGE_MIN_LETTERS)
    weight = min(1.0, max(0.0, certainty)) * min(1.0, max(0.0, trust))
    factor = 1.0 - (1.0 - LANGUAGE_FLOOR) * weight
    if factor >= 0.995:
        return 1.0, None
    return factor, (
        f"language {guess.language} not in {list(languages)} "
        f"(p={best:.2f} vs {ours:.2f}, {letters} letters): x{factor:.2f}"
    )


# --------------------------------------------------------------------------- words


def _word_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """Whole words or phrases, case-insensitive; '#word' and '@word' count as the word
    (context and off-topic words describe the text, handles and tags included)."""
    alts = sorted({normalise(w).strip().lstrip("#@") for w in words if w and w.strip()}, key=len)
    alts = [a for a in reversed(alts) if a]
    if not alts:
        return None
    body = "|".join(re.escape(a) for a in alts)
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.UNICODE)


class _Compiled(NamedTuple):
    matcher: BrandMatcher
    unmasked: BrandMatcher  # the same keywords without the exclude phrases
    context: re.Pattern[str] | None
    off_topic: re.Pattern[str] | None


@dataclass(frozen=True, slots=True)
class _Keywords:
    name: str
    keywords: tuple[str, ...]
    exclude: tuple[str, ...] = ()


@lru_cache(maxsize=256)
def _compiled(brand: RelevanceBrand) -> _Compiled:
    matcher = BrandMatcher([brand])
    unmasked = BrandMatcher([_Keywords(brand.name, brand.keywords)]) if brand.exclude else matcher
    return _Compiled(
        matcher, unmasked, _word_pattern(brand.context), _word_pattern(brand.off_topic)
    )


def _found(pattern: re.Pattern[str] | None, text: str, skip: set[str]) -> list[str]:
    if pattern is None:
        return []
    return [w for w in dict.fromkeys(m.group() for m in pattern.finditer(text)) if w not in skip]


def _spam(text: str) -> list[str]:
    """Shapes of ads and bots: each found shape is one evidence line.

    Kept are the shapes that measured more off-topic than the base rate on Sanders:
    a tag list (≥ 6 hashtags: 39% off-topic against 33% overall) and several links
    (37%). Measured and dropped: all-caps text (English complaints are shouted too)
    and @handle lists (27%: fewer off-topic than overall). Character counts first (C
    speed): most texts have too few '#' or links for the regexes to run at all.
    """
    out: list[str] = []
    if text.count("#") >= SPAM_HASHTAGS:
        hashtags = len(_HASHTAG.findall(text))
        if hashtags >= SPAM_HASHTAGS:
            out.append(f"spam: {hashtags} hashtags")
    if text.count("://") + text.count("www.") >= SPAM_LINKS:
        links = len(_URL.findall(text))
        if links >= SPAM_LINKS:
            out.append(f"spam: {links} links")
    return out


# --------------------------------------------------------------------------- score


def relevance(
    text: str | None,
    brand_info: RelevanceBrand,
    language: LanguageGuess | str | None = None,
    *,
    signals: frozenset[str] = SIGNALS,
) -> tuple[float, list[str]]:
    """How much a mention is about `brand_info`, in [0, 1], with the evidence lines.

    `language` is the open-set guess of `guess_language` (preferred: it carries the
    model's certainty), a language code the source gave, or None (no language
    evidence). A text whose keywords all sit inside exclude phrases scores 0. A text
    with no keyword at all got its brand from the source (a brand column, the brand's
    own channel): the source vouches for it, so it starts from the base score.
    """
    body = text or ""
    compiled = _compiled(brand_info)
    evidence: list[str] = []
    found = compiled.matcher.match(body) if brand_info.keywords else None
    if found is None and brand_info.keywords:
        if brand_info.exclude and compiled.unmasked.match(body) is not None:
            return 0.0, ["no keyword outside the exclude phrases"]
        evidence.append("no keyword: brand given by the source")
    keywords = set(found.keywords) if found else set()
    if found:
        evidence.append("keywords: " + ", ".join(found.keywords))
    norm = normalise(body)
    score = BASE
    skip = {k.lstrip("#@") for k in keywords}
    context = _found(compiled.context, norm, skip) if "context" in signals else []
    if context:
        score += min(CONTEXT_MAX, CONTEXT_STEP * len(context))
        evidence.append("context: " + ", ".join(context))
    off = _found(compiled.off_topic, norm, skip) if "off_topic" in signals else []
    if off:
        score -= OFF_TOPIC_STEP * len(off)
        evidence.append("off-topic: " + ", ".join(off))
    spam = _spam(body) if "spam" in signals else []
    if spam:
        score -= SPAM_STEP * len(spam)
        evidence.extend(spam)
    factor, line = 1.0, None
    if "language" in signals and language is not None:
        other = language if isinstance(language, str) else language.language
        if other is not None and other not in brand_info.languages + tuple(NOT_A_LANGUAGE):
            name_letters = sum(
                norm.count(k) * _letters(k) for k in keywords if not k.startswith(("#", "@"))
            )
            factor, line = _language_factor(language, brand_info.languages, name_letters)
    if line:
        # another market: context words do not make it ours (measured on Sanders,
        # letting them lift it kept Spanish tweets about the iPhone)
        score = min(score, BASE) * factor
        evidence.append(line)
    return round(min(1.0, max(0.0, score)), 4), evidence


def brand_from_row(row: dict[str, Any]) -> RelevanceBrand:
    """A RelevanceBrand from a row of stg_config__brands (dbt) or a config dict."""

    def strings(key: str) -> tuple[str, ...]:
        return tuple(row.get(key) or ())

    min_score = row.get("min_relevance")
    return RelevanceBrand(
        name=row.get("brand") or row.get("name") or "",
        keywords=strings("keywords"),
        exclude=strings("exclude_keywords") or strings("exclude"),
        languages=strings("languages"),
        context=strings("context"),
        off_topic=strings("off_topic"),
        min_score=DEFAULT_MIN_SCORE if min_score is None else float(min_score),
    )
