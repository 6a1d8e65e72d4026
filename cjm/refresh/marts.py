"""The BI-facing marts, in one place so the DAG's assets and the tests agree.

Kept import-free: DAG files import it at parse time.
"""

MART_TABLES: tuple[str, ...] = (
    "mentions",
    "stage_conversion",
    "stage_conversion_daily",
    "stage_conversion_weekly",
    "stage_conversion_monthly",
    "stage_conversion_first_touch",
    "stage_conversion_stage_entry",
    "sentiment",
    "keyword_map",
    "touchpoints",
    "cjm",
    "communication_map",
    "channel_coverage",
    "stage_conversion_segments",
    "negative_spikes",
    "negative_spikes_by_source",
    "conversion_drivers",
    "barrier_impact",
    "journey_paths",
    "journey_path_edges",
    "share_of_voice",
    "response_times",
    "response_times_daily",
    "negative_frequency",
    "media_citations",
)
