"""Language of a mention, restricted to the languages the brands are configured for.

Script first: Cyrillic and Latin letters are counted (links and @handles aside); when
only one candidate language is written in the winning script, that is the answer — it
is right for the short texts ("норм", "ok 👍") where character n-gram models guess
wildly, and it costs nothing. py3langid, restricted to the candidates, decides only
between languages that share a script (e.g. en and de), and only for texts with
enough letters to judge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cjm.enrichment.text import script_counts

CYRILLIC_LANGUAGES = frozenset({"ru", "uk", "be", "bg", "sr", "mk", "kk", "ky", "mn", "tg"})
MIN_LETTERS_FOR_MODEL = 20


def script_of(language: str) -> str:
    return "cyrillic" if language in CYRILLIC_LANGUAGES else "latin"


class LanguageDetector:
    def __init__(self, languages: Sequence[str]) -> None:
        self.languages = list(dict.fromkeys(languages)) or ["ru", "en"]
        self._models: dict[tuple[str, ...], Any] = {}

    def _model(self, candidates: tuple[str, ...]) -> Any:
        # loading the model takes ~0.7 s: only when two candidates share a script
        if candidates not in self._models:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            model = LanguageIdentifier.from_model_file(MODEL_FILE)
            model.set_languages(list(candidates))
            self._models[candidates] = model
        return self._models[candidates]

    def detect(self, text: str, languages: Sequence[str] | None = None) -> str | None:
        """The mention's language among `languages` (default: every brand's), or None
        when the text has no letters."""
        candidates = list(languages or self.languages)
        cyrillic, latin = script_counts(text or "")
        if not cyrillic and not latin:
            return None
        script = "cyrillic" if cyrillic >= latin else "latin"
        same_script = [lang for lang in candidates if script_of(lang) == script]
        if not same_script:
            # the brand's languages do not cover this script: say what it is anyway
            return "ru" if script == "cyrillic" else "en"
        if len(same_script) == 1 or max(cyrillic, latin) < MIN_LETTERS_FOR_MODEL:
            return same_script[0]
        return str(self._model(tuple(sorted(same_script))).classify(text)[0])
