"""Understanding mentions: language, sentiment, emotion, journey stage, topics, NPS, author role.

Everything the scorer knows comes from the dbt seeds in `dbt_project/seeds/` (one source
of truth: an analyst edits a CSV and re-runs). The dbt Python model
`int_mentions_enriched` passes the seed tables in; tests and `cjm bench` read the CSV
files directly. Both build the same `RuleSet`, so the answers are identical.

    from cjm.enrichment import Enricher, RuleSet
    enricher = Enricher(RuleSet.from_seed_dir())
    enricher.enrich("Не советую, поддержка не отвечают третий день!")
"""

from cjm.enrichment.rules import SCORER_VERSION, RuleSet, rules_hash
from cjm.enrichment.scorer import BrandInfo, Enricher, Enrichment

__all__ = ["SCORER_VERSION", "BrandInfo", "Enricher", "Enrichment", "RuleSet", "rules_hash"]
