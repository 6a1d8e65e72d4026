"""Rebuild the shipped sentiment models from the real labelled dev data.

`cjm model build --data ../shared/data` (or `python -m cjm.enrichment.train`) reads only
the *training* files below, fits one scikit-learn logistic regression per language on
the features of `enrichment.sentiment_model.featurise`, and writes
`cjm/enrichment/models/sentiment_<lang>.npz`. Everything is deterministic (sorted
vocabularies, lbfgs, coefficients rounded to 1e-5), so a rebuild on the same data
reproduces the committed files; `tests/test_sentiment_model.py` checks that.

Why these training sets: Russian has real train/test splits (SentiRuEval-2015: the
train files train, the test files only report). English has no training split in the
dev data; the model trains on the SemEval-2017 validation tweets and is reported on
the Sanders brand tweets it never saw, plus 5-fold cross-validation on SemEval
(`cjm bench eval` prints both). Sanders stays out of training: adding it lowered
SemEval cross-validated recall (0.65 → 0.62) — 2011 tech-brand tweets teach the
model about one domain at the cost of general tweets.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cjm.enrichment.rules import RuleSet
from cjm.enrichment.scorer import BrandInfo, Enricher
from cjm.enrichment.sentiment_model import (
    CHAR_NGRAM_LANGUAGES,
    DENSE_NAMES,
    LABELS,
    MODEL_DIR,
    Featurised,
    char_grams,
    embeddable,
    featurise,
    is_word,
    model_path,
)

# The training files of each language, under <data>/sentiment/.
TRAINING_SETS: dict[str, tuple[str, ...]] = {
    "ru": ("ru_sentirueval2015_banks_train.csv", "ru_sentirueval2015_telecom_train.csv"),
    "en": ("en_tweeteval_val.csv",),
}
# Inverse regularisation strength per language, chosen by cross-validation on the
# training files only (ru: banks+telecom train; en: 5 folds of SemEval validation).
C_BY_LANGUAGE = {"ru": 2.0, "en": 0.5}
MIN_DF = 2
ROUND = 5
# Languages with a shipped embedding block, and its weight against the sparse blocks
# (5-fold CV on the Russian training files: 0.25 ≥ 0.5 > 1; lower keeps everyday words
# from reading as complaints — the training tweets are news or grievances).
EMBEDDING_LANGUAGES = frozenset({"ru"})
EMB_SCALE = 0.25
NAVEC_FILE = "navec_news_v1_1B_250K_300d_100q.tar"
# A block's norm never divides by less than this share of the median training text's
# mass: short texts keep small feature values instead of the full weight of a tweet.
MASS_FLOOR_SHARE = 0.5


@dataclass(frozen=True)
class LabelledText:
    id: str
    text: str
    label: str
    brand: str | None = None


def read_labelled(path: Path) -> list[LabelledText]:
    """A dev CSV (id, text, label[, brand, date]); `irrelevant` rows are not sentiment."""
    with path.open(encoding="utf-8", newline="") as fh:
        return [
            LabelledText(row["id"], row["text"], row["label"], row.get("brand") or None)
            for row in csv.DictReader(fh)
            if row["label"] in LABELS
        ]


def rules_enricher(rules: RuleSet | None = None) -> Enricher:
    """The seed-lexicon scorer whose score the model uses as a feature (no model)."""
    return Enricher(
        rules or RuleSet.from_seed_dir(), [BrandInfo("eval", (), ("ru", "en"))], use_model=False
    )


def featurise_all(texts: Iterable[str], language: str, enricher: Enricher) -> list[Featurised]:
    out = []
    for text in texts:
        raw, _, ironic = enricher.rule_sentiment(text)
        out.append(featurise(text, language, raw, ironic))
    return out


def _vocabulary(docs: Sequence[Sequence[str]]) -> tuple[list[str], np.ndarray]:
    df: dict[str, int] = {}
    for doc in docs:
        for f in set(doc):
            df[f] = df.get(f, 0) + 1
    names = sorted(f for f, n in df.items() if n >= MIN_DF)
    n_docs = len(docs)
    # smooth idf, as scikit-learn's TfidfVectorizer: ln((1 + n) / (1 + df)) + 1
    idf = np.array([np.log((1 + n_docs) / (1 + df[f])) + 1.0 for f in names]).round(ROUND)
    return names, idf


def _masses(docs: Sequence[Sequence[str]], names: Sequence[str], idf: np.ndarray) -> list[float]:
    index = {f: i for i, f in enumerate(names)}
    return [sum(idf[i] * idf[i] for f in doc if (i := index.get(f)) is not None) for doc in docs]


def mass_floor(docs: Sequence[Sequence[str]], names: Sequence[str], idf: np.ndarray) -> float:
    """MASS_FLOOR_SHARE × the median block mass of the training texts."""
    masses = [m for m in _masses(docs, names, idf) if m]
    return round(MASS_FLOOR_SHARE * float(np.median(masses)), 3) if masses else 0.0


def _block(
    docs: Sequence[Sequence[str]], names: Sequence[str], idf: np.ndarray, floor: float = 0.0
) -> Any:
    """count·idf / sqrt(max(sum of count·idf² of the doc's known items, floor)): the
    additive-over-occurrences norm `LanguageModel.predict` applies."""
    from scipy import sparse

    index = {f: i for i, f in enumerate(names)}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for r, doc in enumerate(docs):
        counts: dict[int, int] = {}
        for f in doc:
            i = index.get(f)
            if i is not None:
                counts[i] = counts.get(i, 0) + 1
        mass = sum(c * idf[i] * idf[i] for i, c in counts.items())
        if not mass:
            continue
        norm = 1.0 / np.sqrt(max(mass, floor))
        for i in sorted(counts):
            rows.append(r)
            cols.append(i)
            vals.append(counts[i] * idf[i] * norm)
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(docs), len(names)))


def _char_docs(feats: Sequence[Featurised]) -> list[list[str]]:
    return [
        [g for t in f.tokens if is_word(t) for g in char_grams(t)]
        if f.language in CHAR_NGRAM_LANGUAGES
        else []
        for f in feats
    ]


def design_matrix(
    feats: Sequence[Featurised], arrays: dict[str, np.ndarray], vectors: Any = None
) -> Any:
    """The matrix scikit-learn sees, from the same definitions scoring uses."""
    from scipy import sparse

    words = _block(
        [f.words for f in feats],
        arrays["word_names"].tolist(),
        arrays["word_idf"],
        float(arrays["word_floor"]),
    )
    chars = _block(
        _char_docs(feats),
        arrays["char_names"].tolist(),
        arrays["char_idf"],
        float(arrays["char_floor"]),
    )
    blocks = [words, chars]
    if vectors is not None:
        scale = float(arrays["emb_scale"])
        emb = np.zeros((len(feats), vectors.dim), dtype=np.float64)
        for r, f in enumerate(feats):
            rows = [v for t in f.tokens if is_word(t) and (v := vectors.get(t)) is not None]
            if rows:
                emb[r] = scale * np.mean(rows, axis=0)
        blocks.append(sparse.csr_matrix(emb))
    blocks.append(sparse.csr_matrix(np.array([f.dense for f in feats], dtype=np.float64)))
    return sparse.hstack(blocks).tocsr()


class Embeddings:
    """The navec news embeddings shipped inside the natasha package (build time only):
    Cyrillic words, `ё` folded to `е` as the model text is."""

    def __init__(self) -> None:
        from importlib.util import find_spec

        from navec import Navec

        # located, not imported: natasha's own imports (pymorphy2) are not needed here
        spec = find_spec("natasha")
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError("the natasha package (navec embeddings) is not installed")
        folder = Path(next(iter(spec.submodule_search_locations)))
        self.navec = Navec.load(str(folder / "data" / "emb" / NAVEC_FILE))
        self.dim = int(self.navec.pq.dim)
        self.ids: dict[str, int] = {}
        for i, word in enumerate(self.navec.vocab.words):
            key = word.replace("ё", "е")
            if embeddable(key) and key not in self.ids:
                self.ids[key] = i

    def get(self, word: str) -> np.ndarray | None:
        i = self.ids.get(word)
        return None if i is None else self.navec.pq[i]

    def project(self, coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every covered word's embedding times the class weights (n_words × 3), via the
        product quantiser's centroids: no 250K × 300 matrix is ever unpacked."""
        pq = self.navec.pq
        # codes: (subspaces, 256 centroids, sub-dimension); coef: (3, dim)
        codes = pq.codes.astype(np.float64)
        tables = np.einsum("qcd,kqd->qck", codes, coef.reshape(3, codes.shape[0], -1))
        names = sorted(self.ids)
        ids = np.array([self.ids[n] for n in names])
        indexes = pq.indexes[ids].astype(np.int64)  # (n, subspaces)
        proj = np.zeros((len(names), 3))
        for q in range(codes.shape[0]):
            proj += tables[q][indexes[:, q]]
        return np.array(names, dtype=str), proj.round(ROUND).astype(np.float32)


def fit(
    feats: Sequence[Featurised], labels: Sequence[str], c: float, vectors: Any = None
) -> dict[str, np.ndarray]:
    """Vocabularies + a class-balanced logistic regression; returns the arrays to save."""
    from sklearn.linear_model import LogisticRegression

    word_names, word_idf = _vocabulary([f.words for f in feats])
    char_names, char_idf = _vocabulary(_char_docs(feats))
    arrays: dict[str, np.ndarray] = {
        "word_names": np.array(word_names, dtype=str),
        "word_idf": word_idf,
        "char_names": np.array(char_names, dtype=str),
        "char_idf": char_idf,
        "emb_scale": np.array(EMB_SCALE if vectors is not None else 0.0),
        "word_floor": np.array(mass_floor([f.words for f in feats], word_names, word_idf)),
        "char_floor": np.array(mass_floor(_char_docs(feats), char_names, char_idf)),
    }
    matrix = design_matrix(feats, arrays, vectors)
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
    model.fit(matrix, list(labels))
    order = [list(model.classes_).index(label) for label in LABELS]
    coef = model.coef_[order].round(ROUND)
    arrays["intercept"] = model.intercept_[order].round(ROUND)
    arrays["classes"] = np.array(LABELS, dtype=str)
    arrays["dense_names"] = np.array(DENSE_NAMES, dtype=str)
    n_sparse = len(word_names) + len(char_names)
    if vectors is not None:
        names, proj = vectors.project(coef[:, n_sparse : n_sparse + vectors.dim])
        arrays["emb_names"], arrays["emb_proj"] = names, proj
        coef = np.concatenate([coef[:, :n_sparse], coef[:, n_sparse + vectors.dim :]], axis=1)
    arrays["coef"] = coef
    return arrays


def training_data(data_dir: Path, language: str) -> list[LabelledText]:
    rows: list[LabelledText] = []
    for name in TRAINING_SETS[language]:
        path = data_dir / "sentiment" / name
        if not path.exists():
            raise FileNotFoundError(f"{path}: training file missing (see shared/data/README.md)")
        rows += read_labelled(path)
    return rows


def build_language(
    rows: Sequence[LabelledText], language: str, enricher: Enricher | None = None
) -> dict[str, np.ndarray]:
    """Fit one language's model on its training rows."""
    enricher = enricher or rules_enricher()
    feats = featurise_all((r.text for r in rows), language, enricher)
    vectors = Embeddings() if language in EMBEDDING_LANGUAGES else None
    return fit(feats, [r.label for r in rows], C_BY_LANGUAGE[language], vectors)


def save(arrays: dict[str, np.ndarray], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)


def fingerprint(arrays: dict[str, np.ndarray]) -> str:
    """A content hash of the arrays (order-stable), to compare a rebuild with the file."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        value = arrays[name]
        digest.update(name.encode())
        digest.update(
            "\n".join(value.tolist()).encode()
            if value.dtype.kind == "U"
            else np.ascontiguousarray(value, dtype=np.float64).round(ROUND - 1).tobytes()
        )
    return digest.hexdigest()


def file_fingerprint(path: Path) -> str:
    with np.load(path, allow_pickle=False) as data:
        return fingerprint({name: data[name] for name in data.files})


def build(data_dir: Path, out_dir: Path = MODEL_DIR, check: bool = False) -> dict[str, Any]:
    """Rebuild every language; with `check`, compare with the files instead of writing."""
    report: dict[str, Any] = {}
    enricher = rules_enricher()
    for language in TRAINING_SETS:
        rows = training_data(data_dir, language)
        arrays = build_language(rows, language, enricher)
        path = model_path(language, out_dir)
        built = fingerprint(arrays)
        entry = {
            "features": int(arrays["coef"].shape[1]),
            "training_rows": len(rows),
            "fingerprint": built,
        }
        if check:
            entry["committed"] = file_fingerprint(path) if path.exists() else None
            entry["same"] = entry["committed"] == built
        else:
            save(arrays, path)
            entry["path"] = str(path)
        report[language] = entry
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data", help="the dev data folder")
    parser.add_argument("--out", default=str(MODEL_DIR))
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    report = build(Path(args.data), Path(args.out), check=args.check)
    print(json.dumps(report, indent=2))
    return 0 if not args.check or all(e["same"] for e in report.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
