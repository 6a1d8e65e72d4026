"""Data-driven attribution: first-order Markov chain, removal effect.

The standard model (Anderl et al. 2016; R package ChannelAttribution): from the
transition counts of int_markov_transitions_counted build the transition
matrix of each brand over (start), the touch states, (conversion) and (null).
P(conversion) is the probability of absorbing in (conversion) from (start).
Removing a state sends every transition into it to (null); its removal effect is
1 - P(conversion without it) / P(conversion). Each state's credit is its share of
the summed removal effects times the brand's number of conversions, so the
credits of a brand sum to its conversions exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"
SEPARATOR = "\x1f"  # the SQL model joins stage, channel and touchpoint with chr(31)
COLUMNS = ["brand", "stage", "channel", "touchpoint", "removal_effect", "markov_credit"]


def _conversion_probability(q: np.ndarray, to_conversion: np.ndarray) -> float:
    """Absorption probability in (conversion) from (start) (index 0): (I - Q) x = r."""
    return float(np.linalg.solve(np.eye(len(q)) - q, to_conversion)[0])


def removal_effects(counts: pd.DataFrame) -> pd.DataFrame:
    """One brand's transition counts (from_state, to_state, transitions) → credit per state."""
    states = sorted(set(counts["from_state"]) - {START})
    index = {START: 0} | {state: i + 1 for i, state in enumerate(states)}
    n = len(index)
    q = np.zeros((n, n))
    to_conversion = np.zeros(n)
    to_null = np.zeros(n)
    for from_state, to_state, count in counts[["from_state", "to_state", "transitions"]].itertuples(
        index=False
    ):
        i = index[from_state]
        if to_state == CONVERSION:
            to_conversion[i] += count
        elif to_state == NULL:
            to_null[i] += count
        else:
            q[i, index[to_state]] += count
    totals = q.sum(axis=1) + to_conversion + to_null
    totals[totals == 0] = 1.0
    q /= totals[:, None]
    to_conversion = to_conversion / totals
    conversions = float(counts.loc[counts["to_state"] == CONVERSION, "transitions"].sum())
    base = _conversion_probability(q, to_conversion) if conversions else 0.0
    effects = []
    for state in states:
        k = index[state]
        removed = q.copy()
        removed[:, k] = 0.0  # transitions into the state now end in (null)
        without = _conversion_probability(removed, to_conversion)
        effects.append(1.0 - without / base if base > 0 else 0.0)
    effects_arr = np.clip(np.array(effects, dtype=float), 0.0, None)
    total_effect = effects_arr.sum()
    credits = conversions * effects_arr / total_effect if total_effect > 0 else effects_arr * 0.0
    parts = [state.split(SEPARATOR) for state in states]
    return pd.DataFrame(
        {
            "stage": [p[0] for p in parts],
            "channel": [p[1] for p in parts],
            "touchpoint": [p[2] for p in parts],
            "removal_effect": effects_arr,
            "markov_credit": credits,
        }
    )


def model(dbt, session):
    dbt.config(materialized="table")
    counts = dbt.ref("int_markov_transitions_counted").df()
    frames = []
    for brand, group in counts.groupby("brand", sort=True):
        credits = removal_effects(group)
        credits.insert(0, "brand", brand)
        frames.append(credits)
    if not frames:
        return pd.DataFrame(
            {
                "brand": pd.Series(dtype="string"),
                "stage": pd.Series(dtype="string"),
                "channel": pd.Series(dtype="string"),
                "touchpoint": pd.Series(dtype="string"),
                "removal_effect": pd.Series(dtype="float64"),
                "markov_credit": pd.Series(dtype="float64"),
            }
        )
    return pd.concat(frames, ignore_index=True)[COLUMNS]
