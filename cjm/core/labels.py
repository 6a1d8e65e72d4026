"""Words people read instead of codes, and counts that agree with their number.

The labels live once, in the dbt seed `display_labels` (kind, code, label_ru,
label_en); the marts join it in SQL, and the alerts and reports read the same file
here. Stage labels given in the config (`stages.labels`) win over the seed's, as in
the marts (int_labels_localized).
"""

from __future__ import annotations

import csv
from functools import lru_cache
from typing import TYPE_CHECKING

from cjm.core.paths import seeds_dir

if TYPE_CHECKING:
    from cjm.core.config import Config

LABELS_SEED = "display_labels.csv"


@lru_cache(maxsize=4)
def seed_labels(language: str) -> dict[tuple[str, str], str]:
    """(kind, code) → label in `language` (ru or en; any other reads English)."""
    column = "label_ru" if language == "ru" else "label_en"
    with (seeds_dir() / LABELS_SEED).open(encoding="utf-8", newline="") as fh:
        return {(row["kind"], row["code"]): row[column] for row in csv.DictReader(fh)}


def humanized(code: str) -> str:
    """A code nobody labelled, readable: underscores as spaces (as the marts show it)."""
    return code.replace("_", " ")


class Labels:
    """The labels of one language, with the config's stage labels on top."""

    def __init__(self, language: str, config: Config | None = None):
        self.language = language
        self._labels = dict(seed_labels(language))
        if config is not None:
            for stage, label in config.stages.labels.items():
                self._labels[("stage", stage)] = label

    def __call__(self, kind: str, code: str) -> str:
        return self._labels.get((kind, code)) or humanized(code)


@lru_cache(maxsize=1)
def _morph():  # type: ignore[no-untyped-def]
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


def _noun_parse(word: str):  # type: ignore[no-untyped-def]
    parses = _morph().parse(word)
    return next((p for p in parses if "NOUN" in p.tag), parses[0])


def count_of(n: int, words: str, language: str, plural: str | None = None) -> str:
    """`n` and a noun phrase agreeing with it: «1 негативное упоминание», «23 негативных
    упоминания», «5 негативных упоминаний»; "1 negative mention", "23 negative mentions".

    Russian: the last word is the noun (pymorphy3 puts it in the form the number asks
    for), the words before it agree with that form. English: `plural`, else the last
    word with an s.
    """
    if language != "ru":
        if n == 1:
            return f"{n} {words}"
        if plural is None:
            head, _, last = words.rpartition(" ")
            plural = f"{head} {last}s".strip()
        return f"{n} {plural}"
    *modifiers, noun_word = words.split(" ")
    noun = _noun_parse(noun_word).make_agree_with_number(n)
    out = []
    # after 1, 21, 31 … the adjective is singular like the noun; after 2-4 the noun is
    # genitive singular but the adjective genitive plural («23 негативных упоминания»)
    one = n % 10 == 1 and n % 100 != 11
    grammemes = (
        {"sing", noun.tag.case} | ({noun.tag.gender} if noun.tag.gender else set())
        if one
        else {"plur", "gent"}
    )
    for word in modifiers:
        form = _morph().parse(word)[0].inflect(grammemes)
        out.append(form.word if form else word)
    return " ".join([str(n), *out, noun.word])
