"""Quality on real labelled data (`cjm bench eval`): sentiment, relevance, spikes."""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "CJM_EVAL_DATA"


def default_data_dir() -> Path:
    """`CJM_EVAL_DATA`, else `../shared/data` beside the checkout."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"
