"""Quality on real labelled data (`cjm bench eval`): sentiment, relevance, spikes."""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "CJM_EVAL_DATA"


def default_data_dir() -> Path:
    """`CJM_EVAL_DATA`, else `../shared/data` from the working directory (the dev data
    sits beside the checkout; an installed package has no checkout to look beside)."""
    env = os.environ.get(DATA_ENV)
    return Path(env) if env else Path.cwd().parent / "shared" / "data"
