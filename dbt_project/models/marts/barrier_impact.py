"""Do a barrier's mentions go with customers dropping out of the stage, and how soon?

Per brand × stage × barrier × week (int_barrier_weeks_counted): the barrier's share of
the stage's mentions that week and the drop-off rate of the customers who entered the
stage that week. Over the trailing analysis.barrier_window_weeks weeks ending at the
row's week, the Pearson correlation of the drop-off with the share lag weeks before,
for every lag 0..analysis.barrier_max_lag_weeks; the lag with the highest correlation
is kept. Weeks without mentions at the stage (no share) or without entrants (no
drop-off) are left out of the pairs; fewer than analysis.barrier_min_weeks pairs, or a
constant series, give no correlation.

impact = max(correlation, 0) × the barrier's mean share over the window: a barrier
ranks high when it is both frequent and moves with drop-off. The CJM's barriers cell
ranks by the impact of each barrier's latest week, falling back to frequency when there
is none.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KEYS = ["brand", "stage", "barrier"]


def _correlation(x: np.ndarray, y: np.ndarray, min_pairs: int) -> tuple[float, int]:
    ok = ~(np.isnan(x) | np.isnan(y))
    n = int(ok.sum())
    if n < min_pairs or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
        return np.nan, n
    return float(np.corrcoef(x[ok], y[ok])[0, 1]), n


def impacts(weeks: pd.DataFrame, window: int, max_lag: int, min_weeks: int) -> pd.DataFrame:
    """One barrier's weekly rows (sorted by week, every week present) → the mart's columns."""
    share = np.where(
        weeks["stage_mentions"] > 0,
        weeks["barrier_mentions"] / weeks["stage_mentions"].where(weeks["stage_mentions"] > 0),
        np.nan,
    ).astype(float)
    drop = np.where(
        weeks["customers_entered"] > 0,
        weeks["customers_dropped"]
        / weeks["customers_entered"].where(weeks["customers_entered"] > 0),
        np.nan,
    ).astype(float)
    rows = []
    for t in range(len(weeks)):
        lo = max(0, t - window + 1)
        best = (np.nan, None, 0)
        for lag in range(max_lag + 1):
            y = drop[lo : t + 1]
            x = np.array([share[i - lag] if i - lag >= 0 else np.nan for i in range(lo, t + 1)])
            r, n = _correlation(x, y, min_weeks)
            if not np.isnan(r) and (np.isnan(best[0]) or r > best[0]):
                best = (r, lag, n)
        r, lag, n = best
        window_share = share[lo : t + 1]
        mean_share = float(np.nanmean(window_share)) if (~np.isnan(window_share)).any() else np.nan
        rows.append(
            {
                "barrier_share": share[t],
                "drop_off_rate": drop[t],
                "correlation": r,
                "best_lag_weeks": lag,
                "weeks_correlated": n,
                "window_barrier_share": mean_share,
                "impact": max(r, 0.0) * mean_share if not np.isnan(r) else np.nan,
            }
        )
    return pd.DataFrame(rows, index=weeks.index)


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt.ref("int_analysis_settings_resolved").df().iloc[0]
    window = int(settings["barrier_window_weeks"])
    max_lag = int(settings["barrier_max_lag_weeks"])
    min_weeks = int(settings["barrier_min_weeks"])
    weeks = dbt.ref("int_barrier_weeks_counted").df().sort_values([*KEYS, "week_start"])
    weeks = weeks.reset_index(drop=True)
    parts = [
        impacts(group, window, max_lag, min_weeks) for _, group in weeks.groupby(KEYS, sort=False)
    ]
    measured = (
        pd.concat(parts)
        if parts
        else pd.DataFrame(
            columns=[
                "barrier_share",
                "drop_off_rate",
                "correlation",
                "best_lag_weeks",
                "weeks_correlated",
                "window_barrier_share",
                "impact",
            ]
        )
    )
    out = weeks.join(measured)
    for column in (
        "stage_mentions",
        "barrier_mentions",
        "customers_entered",
        "customers_dropped",
        "weeks_correlated",
    ):
        out[column] = out[column].astype("int64")
    out["best_lag_weeks"] = out["best_lag_weeks"].astype("Int64")
    for column in (
        "barrier_share",
        "drop_off_rate",
        "correlation",
        "window_barrier_share",
        "impact",
    ):
        out[column] = out[column].astype("Float64")  # NaN → null
    out["is_latest_week"] = (
        out["week_start"] == out.groupby(KEYS)["week_start"].transform("max")
    ).astype(bool)
    # typed even when empty (no mentions yet): text as strings, weeks as dates
    for column in ("brand", "stage", "stage_label", "barrier", "barrier_label"):
        out[column] = out[column].astype("string")
    out["week_start"] = pd.to_datetime(out["week_start"])
    return session.from_df(out).project("* replace (cast(week_start as date) as week_start)")
