"""The data-driven attribution (dbt Python model int_touch_credits_markov) on paths
whose removal effects are worked out by hand."""

from __future__ import annotations

import importlib.util
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest

MODEL = (
    Path(__file__).resolve().parent.parent
    / "dbt_project/models/intermediate/int_touch_credits_markov.py"
)


@pytest.fixture(scope="module")
def markov():
    spec = importlib.util.spec_from_file_location("int_touch_credits_markov", MODEL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _counts(paths: list[tuple[list[str], bool]]) -> pd.DataFrame:
    rows: dict[tuple[str, str], int] = {}
    for states, converted in paths:
        steps = ["(start)", *(f"s\x1f{s}\x1ft" for s in states)]
        steps.append("(conversion)" if converted else "(null)")
        for a, b in pairwise(steps):
            rows[(a, b)] = rows.get((a, b), 0) + 1
    return pd.DataFrame(
        [(a, b, n) for (a, b), n in rows.items()], columns=["from_state", "to_state", "transitions"]
    )


def test_removal_effects_by_hand(markov):
    # A → conv; B → null; A → B → conv. P(conv) = 2/3; without A 1/6 (RE 0.75);
    # without B 1/3 (RE 0.5); 2 conversions split 0.75 : 0.5 → 1.2 and 0.8.
    got = markov.removal_effects(_counts([(["A"], True), (["B"], False), (["A", "B"], True)]))
    got = got.set_index("channel")
    assert got.loc["A", "removal_effect"] == pytest.approx(0.75)
    assert got.loc["B", "removal_effect"] == pytest.approx(0.5)
    assert got.loc["A", "markov_credit"] == pytest.approx(1.2)
    assert got.loc["B", "markov_credit"] == pytest.approx(0.8)
    assert set(got["stage"]) == {"s"} and set(got["touchpoint"]) == {"t"}


def test_single_channel_and_no_conversions(markov):
    one = markov.removal_effects(_counts([(["A"], True), (["A", "A"], False)]))
    assert one["markov_credit"].tolist() == pytest.approx([1.0])
    none = markov.removal_effects(_counts([(["A"], False), (["B"], False)]))
    assert none["markov_credit"].tolist() == [0.0, 0.0]
