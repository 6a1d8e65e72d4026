"""Which properties separate the customers who took a step from those who dropped out.

For every step (from_stage → to_stage) and property value of int_driver_groups_counted,
the 2×2 table (with / without the value × converted / not) gives each group's
conversion rate, the lift (rate with / rate without), the sample odds ratio
(converted_with · dropped_without) / (dropped_with · converted_without) with its 95%
Woolf (log) interval — scipy.stats.contingency.odds_ratio — and Fisher's exact
two-sided p-value (scipy.stats.fisher_exact). A value is tested only when both groups
hold at least analysis.min_group_customers customers and every expected cell at least
analysis.min_expected_count. The Benjamini–Hochberg q-values
(scipy.stats.false_discovery_control) correct over one family: every value tested at
the same brand × step (all properties together), so a step's drivers are read as one
list whose expected share of false findings is at most analysis.fdr_alpha.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control, fisher_exact
from scipy.stats.contingency import odds_ratio

KEYS = ["brand", "from_stage", "to_stage", "property", "property_value"]
LABELS = ["from_stage_label", "to_stage_label", "property_label", "property_value_label"]
COLUMNS = [
    *KEYS,
    *LABELS,
    "customers_with",
    "converted_with",
    "customers_without",
    "converted_without",
    "conversion_rate_with",
    "conversion_rate_without",
    "lift",
    "odds_ratio",
    "odds_ratio_low",
    "odds_ratio_high",
    "p_value",
    "q_value",
    "is_tested",
    "is_significant",
]
# null where not tested or undefined
FLOATS = COLUMNS[COLUMNS.index("conversion_rate_with") : COLUMNS.index("q_value") + 1]


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def _testable(row: pd.Series, min_group: int, min_expected: float) -> bool:
    n = row.customers_with + row.customers_without
    converted = row.converted_with + row.converted_without
    if min(row.customers_with, row.customers_without) < min_group or n == 0:
        return False
    expected = np.outer(
        [row.customers_with, row.customers_without], [converted, n - converted]
    ) / float(n)
    return bool(expected.min() >= min_expected)


def drivers(
    groups: pd.DataFrame, min_group: int, min_expected: float, alpha: float
) -> pd.DataFrame:
    """int_driver_groups_counted rows → the mart's rows (same order)."""
    out = groups[
        KEYS
        + LABELS
        + ["customers_with", "converted_with", "customers_without", "converted_without"]
    ]
    out = out.reset_index(drop=True).copy()
    for column in FLOATS:
        out[column] = np.nan
    out["is_tested"] = False
    for i, row in out.iterrows():
        rate_with = _ratio(row.converted_with, row.customers_with)
        rate_without = _ratio(row.converted_without, row.customers_without)
        out.at[i, "conversion_rate_with"] = rate_with
        out.at[i, "conversion_rate_without"] = rate_without
        if rate_with is not None and rate_without:
            out.at[i, "lift"] = rate_with / rate_without
        if not _testable(row, min_group, min_expected):
            continue
        table = np.array(
            [
                [row.converted_with, row.customers_with - row.converted_with],
                [row.converted_without, row.customers_without - row.converted_without],
            ],
            dtype=np.int64,
        )
        result = odds_ratio(table, kind="sample")
        if np.isfinite(result.statistic) and result.statistic > 0:
            interval = result.confidence_interval(confidence_level=0.95)
            out.at[i, "odds_ratio"] = result.statistic
            out.at[i, "odds_ratio_low"] = interval.low
            out.at[i, "odds_ratio_high"] = interval.high
        out.at[i, "p_value"] = fisher_exact(table, alternative="two-sided").pvalue
        out.at[i, "is_tested"] = True
    tested = out[out["is_tested"]]
    for _, family in tested.groupby(["brand", "from_stage"], sort=False):
        out.loc[family.index, "q_value"] = false_discovery_control(
            family["p_value"].to_numpy(dtype=float), method="bh"
        )
    out["is_significant"] = out["is_tested"] & (out["q_value"] < alpha)
    return out[COLUMNS]


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt.ref("int_analysis_settings_resolved").df().iloc[0]
    groups = dbt.ref("int_driver_groups_counted").df().sort_values(KEYS, ignore_index=True)
    out = drivers(
        groups,
        int(settings["min_group_customers"]),
        float(settings["min_expected_count"]),
        float(settings["fdr_alpha"]),
    )
    for column in ("customers_with", "converted_with", "customers_without", "converted_without"):
        out[column] = out[column].astype("int64")
    for column in FLOATS:
        out[column] = out[column].astype("Float64")  # NaN → null (not tested, undefined)
    for column in KEYS + LABELS:
        out[column] = out[column].astype("string")  # typed even when empty
    out["is_tested"] = out["is_tested"].astype(bool)
    out["is_significant"] = out["is_significant"].astype(bool)
    return out
