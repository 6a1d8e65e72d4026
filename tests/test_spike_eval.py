"""Incident scoring (pure) and the spike evaluation on a fixed sample of the real data.

The scoring tests pin the rules of ../shared/data/README.md: flagged hours no more
than 3 h apart are one incident, a window is found when an incident overlaps it,
precision is by incident. The evaluation test runs the production dbt detector on
two real NAB series (CVS and CRM, read from the shared data, never copied here) with
loose bounds: it guards against a detector that regresses to alerting every few
days, not against a point of precision.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from cjm.bench.evaluation import default_data_dir
from cjm.bench.evaluation.spikes import (
    NAB_DIR,
    Incident,
    baseline_flags,
    evaluate_spikes,
    group_incidents,
    pool,
    score_incidents,
)

T0 = datetime(2015, 3, 1)


def h(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def test_flagged_hours_at_most_three_hours_apart_are_one_incident() -> None:
    got = group_incidents([h(0), h(1), h(4), h(8), h(9), h(9)])
    assert got == [Incident(h(0), h(4), 3), Incident(h(8), h(9), 2)]
    assert group_incidents([]) == []


def test_recall_precision_false_per_week_and_delay() -> None:
    windows = [(h(10), h(40)), (h(100), h(130)), (h(200), h(230))]
    incidents = [
        Incident(h(9), h(11), 2),  # overlaps window 1 (started an hour before it)
        Incident(h(20), h(20), 1),  # also window 1: a second true incident
        Incident(h(131), h(131), 1),  # just after window 2: false
        Incident(h(100), h(100), 1),  # window 2, in its first hour
        Incident(h(300), h(302), 2),  # false
    ]
    got = score_incidents(incidents, windows, weeks=2.0)
    assert got["found"] == 2 and got["windows"] == 3
    assert got["incidents"] == 5 and got["false_incidents"] == 2
    assert got["recall"] == pytest.approx(0.667, abs=1e-3)
    assert got["precision"] == pytest.approx(0.6)
    assert got["false_per_week"] == 1.0
    # window 1: the first overlapping incident starts 1 h early; window 2: at once
    assert got["delays_hours"] == [-1.0, 0.0]
    both = pool({"a": got, "b": score_incidents([], [(h(0), h(5))], weeks=1.0)})
    assert (both["windows"], both["found"], both["incidents"]) == (4, 2, 5)
    assert both["false_per_week"] == pytest.approx(2 / 3, abs=1e-3)
    assert both["precision"] == pytest.approx(0.6)


def test_an_hour_overlaps_a_window_that_opens_inside_it() -> None:
    # the flagged hour 8:00 covers [8:00, 9:00): it meets a window opening at 8:37 but
    # not one opening at 9:00
    assert score_incidents([Incident(h(0), h(8), 3)], [(h(8.6), h(20))], 1.0)["found"] == 1
    got = score_incidents([Incident(h(0), h(8), 3)], [(h(9), h(20))], weeks=1.0)
    assert (got["found"], got["false_incidents"], got["precision"]) == (0, 1, 0.0)


def test_plain_baseline_needs_lift_floor_and_z() -> None:
    rng = np.random.default_rng(3)
    counts = rng.poisson(20, 24 * 10)
    counts[200] = 100  # 5 × the median: fires
    counts[220] = 70  # 3.5 ×: below the lift
    flags = baseline_flags(counts)
    assert flags[200] and not flags[220]
    assert flags.sum() == 1
    small = np.zeros(24 * 3, dtype=int)
    small[60] = 9  # below the floor of 10
    assert not baseline_flags(small).any()


def test_real_sample_cvs_and_crm_stays_quiet_and_finds_incidents(tmp_path: Path) -> None:
    data = default_data_dir()
    if not (data / NAB_DIR / "windows.json").exists():
        pytest.skip(f"real NAB data not found at {data / NAB_DIR} (set CJM_EVAL_DATA)")
    result = evaluate_spikes(data, tmp_path, series=["CVS", "CRM"])
    det, base = result["detector"]["overall"], result["baseline"]["overall"]
    assert result["series"] == ["CVS", "CRM"] and det["windows"] == 6
    # measured 5/6 found, 12 incidents, 0.38 false per brand-week
    assert det["recall"] >= 0.6
    assert det["precision"] >= 0.35
    assert det["false_per_week"] <= 1.0
    assert det["median_delay_hours"] is not None
    assert base["windows"] == 6 and base["incidents"] > 0
    assert result["seconds"] > 0 and result["hourly_rows"] > 2000
