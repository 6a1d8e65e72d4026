"""The BI-facing marts, in one place so the DAG's assets and the tests agree.

Kept import-free: DAG files import it at parse time.
"""

MART_TABLES: tuple[str, ...] = (
    "mentions",
    "stage_conversion",
    "sentiment",
    "keyword_map",
    "touchpoints",
    "cjm",
    "communication_map",
    "negative_spikes",
    "negative_spikes_by_source",
)
