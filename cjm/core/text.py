"""The one text-normalisation rule: brand matching, the enrichment and the seed checks
in dbt (`macros/text.sql`, proven equal on the seeds by tests/test_enrichment_dbt.py)
all lower-case, fold `ё` to `е` and the typographic apostrophe `’` to `'`, so a keyword
or seed term and the text it should match are always compared the same way."""

from __future__ import annotations


def normalize(text: str) -> str:
    return text.lower().replace("ё", "е").replace("’", "'")
