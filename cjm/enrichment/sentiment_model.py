"""The supervised sentiment model: a linear classifier per language over words, word
pairs, character n-grams and word embeddings (Russian), and the lexicons' judgement.

Why this shape: on real labelled tweets the hand-written rules alone scored far below
the published systems (SentiRuEval F1±: 0.40 banks / 0.45 telecom), while a linear
model trained on the SentiRuEval training splits, fed the rules' score as features,
lifts both to the level of the best published systems (cjm/enrichment/models/MODEL_CARD.md).
A linear model keeps what analysts rely on:

* offline and CPU-only: the weights ship inside the package as small `.npz` files and
  are applied here with plain Python (no scikit-learn at run time);
* every label has evidence: the words that pushed the text towards its label
  (`model:не работает`) are returned beside the seed terms that matched;
* the seeds still count: the seed lexicon's score is a feature (in buckets, plus its
  positive and negative mass), so editing a seed changes results;
* English also reads VADER's general lexicon (the rated-word list inside the
  vaderSentiment package) and Russian the navec news embeddings (shipped inside the
  natasha package), each reduced at build time to three numbers per word — what a
  model trained on ten thousand tweets could never learn about the rest of the
  language.

Speed: every block is *additive over words* — each block's value is the sum of its
items' idf-weighted counts divided by the root of their summed squared weights (an L2
norm over occurrences, floored so that a two-word text does not weigh its two words as
much as a tweet weighs twenty) — so a word's whole contribution (its char n-grams, its
embedding) is computed once and cached; a mention costs a few dictionary look-ups per
word. `cjm/enrichment/train.py` builds the design matrix from the same definitions here,
so training and scoring cannot drift apart (a test compares them).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import numpy as np

from cjm.enrichment.text import HANDLE_RE, normalize

MODEL_DIR = Path(__file__).resolve().parent / "models"
LABELS = ("negative", "neutral", "positive")
# Languages whose words are many-formed enough that character n-grams pay for themselves
# (on the SentiRuEval training folds +0.02 F1±; on English tweets they did not help).
CHAR_NGRAM_LANGUAGES = frozenset({"ru"})
CHAR_NGRAMS = (3, 4, 5)
# Languages that read the general (English) lexicon.
GENERAL_LEXICON_LANGUAGES = frozenset({"en"})
# Rule-score buckets fed to the model as pseudo-words.
LEXICON_STEPS = (0.5, 1.5, 3.0)
# The seed rules' vote in the final label: probabilities = (1 - w) × model + w × the
# rules' label. 0.15 keeps a clear seed verdict able to tip a close call (the seeds are
# the analysts' lever) while no dev figure moves by more than 0.02 (MODEL_CARD.md).
RULES_WEIGHT = 0.15
# Words cached with their whole char/embedding contribution, per model.
WORD_CACHE_SIZE = 300_000

_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_RETWEET_RE = re.compile(r"^\s*rt\b", re.IGNORECASE)
_STRETCH_RE = re.compile(r"(.)\1{2,}")
_DIGITS_RE = re.compile(r"\d+")
# words (letters with inner apostrophes), runs of ! or ?, emoticons, brackets — the
# Russian ")))" and "(((" carry as much feeling as any word — and emoji.
_TOKEN_RE = re.compile(
    r"[^\W\d_]+(?:'[^\W\d_]+)*|[!?]+|[:;=]-?[)(dp]|[)(]+|#|\d+"
    # emoji and pictographs, one token each (skin tones and joiners dropped)
    r"|[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B50\u2764]"
)
NEGATORS = frozenset({"not", "no", "never", "nobody", "nothing", "не", "нет", "ни", "никогда"})
DENSE_NAMES = ("_seeds+", "_seeds-", "_lexicon+", "_lexicon-", "_question")


def is_negator(token: str) -> bool:
    return token in NEGATORS or token.endswith("n't")


def model_text(text: str) -> str:
    """The text as the model sees it: links, handles and numbers as placeholders (the
    tokens themselves say nothing about feeling and only memorise the training period),
    lower case, `ё` → `е`, stretched letters squeezed to two."""
    text = _URL_RE.sub(" _url ", text)
    text = HANDLE_RE.sub(" _user ", text)
    text = _RETWEET_RE.sub(" _rt ", text)
    text = _DIGITS_RE.sub("0", text)
    return _STRETCH_RE.sub(r"\1\1", normalize(text))


def tokens_of(text: str) -> list[str]:
    return _TOKEN_RE.findall(model_text(text))


def word_items(tokens: Sequence[str], raw_score: float, ironic: bool) -> list[str]:
    """Words, adjacent pairs, words after a negator marked, and the seeds' verdict."""
    items = list(tokens)
    items += [f"{a} {b}" for a, b in pairwise(tokens)]
    items += [f"NOT_{b}" for a, b in pairwise(tokens) if is_negator(a)]
    items += [f"_lex+{s}" for s in LEXICON_STEPS if raw_score >= s]
    items += [f"_lex-{s}" for s in LEXICON_STEPS if raw_score <= -s]
    if ironic:
        items.append("_irony")
    return items


def char_grams(word: str) -> list[str]:
    padded = f" {word} "
    return [padded[i : i + n] for n in CHAR_NGRAMS for i in range(max(len(padded) - n + 1, 0))]


def is_word(token: str) -> bool:
    return token[0].isalpha()


_CYRILLIC_WORD_RE = re.compile(r"[а-я]+(?:-[а-я]+)*")


def embeddable(word: str) -> bool:
    """Words the Russian embedding block covers (Cyrillic words, as normalised)."""
    return _CYRILLIC_WORD_RE.fullmatch(word) is not None


@lru_cache(maxsize=1)
def general_lexicon() -> dict[str, float]:
    """VADER's rated English words (word → valence -4..4), read from its package."""
    from importlib.resources import files

    table: dict[str, float] = {}
    text = files("vaderSentiment").joinpath("vader_lexicon.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            try:
                table[parts[0]] = float(parts[1])
            except ValueError:
                continue
    return table


def general_lexicon_score(tokens: Sequence[str]) -> float:
    """Sum of general-lexicon valences, a word after a negator flipped and damped."""
    table = general_lexicon()
    total = 0.0
    previous = ""
    for token in tokens:
        value = table.get(token)
        if value is not None:
            total += -0.74 * value if is_negator(previous) else value
        previous = token
    return total


def _squash(value: float) -> float:
    return value / (abs(value) + 2.0)


def dense_features(raw_score: float, general: float, text: str) -> list[float]:
    """The seeds' and the general lexicon's positive and negative mass (squashed to
    (-1, 1)), and whether the text asks a question."""
    seeds, other = _squash(raw_score), _squash(general)
    return [
        max(seeds, 0.0),
        max(-seeds, 0.0),
        max(other, 0.0),
        max(-other, 0.0),
        1.0 if "?" in text else 0.0,
    ]


@dataclass(frozen=True)
class Featurised:
    """One text as the model reads it (training builds its matrix from these)."""

    tokens: list[str]
    words: list[str]
    dense: list[float]
    language: str


def featurise(text: str, language: str, raw_score: float, ironic: bool) -> Featurised:
    """The one featuriser training and scoring share."""
    tokens = tokens_of(text)
    general = general_lexicon_score(tokens) if language in GENERAL_LEXICON_LANGUAGES else 0.0
    return Featurised(
        tokens,
        word_items(tokens, raw_score, ironic),
        dense_features(raw_score, general, text),
        language,
    )


@dataclass(frozen=True)
class Prediction:
    label: str
    score: float  # P(positive) - P(negative), in [-1, 1]
    probabilities: tuple[float, float, float]  # in LABELS order
    evidence: list[str]


Vector = tuple[float, float, float]
_ZERO: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)


def _table(
    names: np.ndarray, idf: np.ndarray, coef: np.ndarray
) -> dict[str, tuple[float, float, float, float]]:
    """item → (coef·idf per class, idf²): one item occurrence's share of its block."""
    scaled = (coef * idf[None, :]).T.tolist()
    squares = (idf * idf).tolist()
    return {
        str(name): (w[0], w[1], w[2], sq)
        for name, w, sq in zip(names.tolist(), scaled, squares, strict=True)
    }


class LanguageModel:
    """The fitted model of one language, applied without scikit-learn."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.classes = tuple(str(c) for c in arrays["classes"].tolist())
        if self.classes != LABELS:
            raise ValueError(f"sentiment model classes {self.classes}, expected {LABELS}")
        n_words, n_chars = len(arrays["word_names"]), len(arrays["char_names"])
        coef = arrays["coef"].astype(np.float64)  # (3, n_words + n_chars + 3 + n_dense)
        self.words = _table(arrays["word_names"], arrays["word_idf"], coef[:, :n_words])
        self.chars = _table(
            arrays["char_names"], arrays["char_idf"], coef[:, n_words : n_words + n_chars]
        )
        # the embedding block enters as its mean × the 3 class weights: one row per
        # embedded word, already multiplied out at build time
        self.emb_weight = float(arrays["emb_scale"]) if "emb_scale" in arrays else 0.0
        emb_names = arrays.get("emb_names")
        self.embedded = (
            {
                str(n): (float(v[0]), float(v[1]), float(v[2]))
                for n, v in zip(emb_names.tolist(), arrays["emb_proj"].tolist(), strict=True)
            }
            if emb_names is not None and len(emb_names)
            else {}
        )
        self.dense = coef[:, coef.shape[1] - len(DENSE_NAMES) :].T.tolist()
        self.intercept = arrays["intercept"].astype(np.float64).tolist()
        self._cache: dict[str, tuple[float, float, float, float]] = {}
        # the floor under each block's norm (see MASS_FLOOR_SHARE in train.py)
        self.word_floor = float(arrays["word_floor"]) if "word_floor" in arrays else 0.0
        self.char_floor = float(arrays["char_floor"]) if "char_floor" in arrays else 0.0

    def _char_part(self, word: str) -> tuple[float, float, float, float]:
        """A word's char n-grams summed: (class weights …, squared idf mass)."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        a = b = c = s = 0.0
        chars = self.chars
        for gram in char_grams(word):
            entry = chars.get(gram)
            if entry is not None:
                a += entry[0]
                b += entry[1]
                c += entry[2]
                s += entry[3]
        out = (a, b, c, s)
        if len(self._cache) >= WORD_CACHE_SIZE:
            self._cache.clear()
        self._cache[word] = out
        return out

    def predict(self, feats: Featurised, evidence: int = 3) -> Prediction:
        z0, z1, z2 = self.intercept
        # word block: sum the items' shares, then apply the block's norm once
        table = self.words
        hits = [(item, e) for item in feats.words if (e := table.get(item)) is not None]
        word_norm = 0.0
        if hits:
            a = b = c = mass = 0.0
            for _, e in hits:
                a += e[0]
                b += e[1]
                c += e[2]
                mass += e[3]
            word_norm = 1.0 / math.sqrt(max(mass, self.word_floor))
            z0 += a * word_norm
            z1 += b * word_norm
            z2 += c * word_norm
        words = [t for t in feats.tokens if is_word(t)]
        parts: list[tuple[float, float, float, float]] = []
        char_norm = 0.0
        if self.chars and words:
            parts = [self._char_part(w) for w in words]
            a = b = c = mass = 0.0
            for p in parts:
                a += p[0]
                b += p[1]
                c += p[2]
                mass += p[3]
            if mass:
                char_norm = 1.0 / math.sqrt(max(mass, self.char_floor))
                z0 += a * char_norm
                z1 += b * char_norm
                z2 += c * char_norm
        if self.embedded and words:
            rows = [v for w in words if (v := self.embedded.get(w)) is not None]
            if rows:
                k = self.emb_weight / len(rows)
                z0 += k * sum(r[0] for r in rows)
                z1 += k * sum(r[1] for r in rows)
                z2 += k * sum(r[2] for r in rows)
        for value, w in zip(feats.dense, self.dense, strict=True):
            if value:
                z0 += w[0] * value
                z1 += w[1] * value
                z2 += w[2] * value
        top = max(z0, z1, z2)
        e0, e1, e2 = math.exp(z0 - top), math.exp(z1 - top), math.exp(z2 - top)
        total = e0 + e1 + e2
        probs = (e0 / total, e1 / total, e2 / total)
        label = LABELS[probs.index(max(probs))]
        reasons: list[str] = []
        if evidence and label != "neutral":
            # only now (most mentions are neutral): which words pushed towards the label
            merged: dict[str, float] = {}
            for item, e in hits:
                merged[item] = merged.get(item, 0.0) + (e[2] - e[0]) * word_norm
            for word, p in zip(words, parts, strict=False):
                if p[3]:
                    merged[word] = merged.get(word, 0.0) + (p[2] - p[0]) * char_norm
            for value, w, name in zip(feats.dense, self.dense, DENSE_NAMES, strict=True):
                if value:
                    merged[name] = (w[2] - w[0]) * value
            sign = 1.0 if label == "positive" else -1.0
            ranked = sorted(merged.items(), key=lambda kv: -sign * kv[1])
            reasons = [f"model:{name}" for name, value in ranked[:evidence] if sign * value > 0]
        return Prediction(label, round(probs[2] - probs[0], 4), probs, reasons)


def with_rules(
    prediction: Prediction, rules_label: str, weight: float = RULES_WEIGHT
) -> Prediction:
    """The model's probabilities with the seed rules' label mixed in (`RULES_WEIGHT`)."""
    if weight <= 0:
        return prediction
    probs = tuple(
        (1 - weight) * p + (weight if label == rules_label else 0.0)
        for p, label in zip(prediction.probabilities, LABELS, strict=True)
    )
    label = LABELS[probs.index(max(probs))]
    evidence = prediction.evidence if label == prediction.label else []
    return Prediction(label, round(probs[2] - probs[0], 4), probs, evidence)  # type: ignore[arg-type]


def model_path(language: str, model_dir: Path | None = None) -> Path:
    return (model_dir or MODEL_DIR) / f"sentiment_{language}.npz"


@lru_cache(maxsize=1)
def models_fingerprint(model_dir: Path | None = None) -> str:
    """A hash of the shipped model files: part of the rules hash, so that a rebuilt
    model re-scores stored mentions as an edited seed does."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((model_dir or MODEL_DIR).glob("sentiment_*.npz")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=8)
def load_model(language: str, model_dir: Path | None = None) -> LanguageModel | None:
    """The shipped model of a language, or None when none ships (rules decide alone)."""
    path = model_path(language, model_dir)
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as data:
        return LanguageModel({name: data[name] for name in data.files})
