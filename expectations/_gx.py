"""The one place that imports Great Expectations, quietly and lazily.

Why lazy: importing GX takes ~6 s and pulls in hundreds of modules. DAG files are
parsed over and over by Airflow's dag-processor, so `from expectations import ...`
at a DAG's top level must stay cheap; GX is imported on the first validation or
suite build instead.

Why quiet: after Airflow has configured logging (structlog), GX's import and
context start-up emit hundreds of INFO lines into every task log. Raising the
`great_expectations` logger to WARNING *before* the import keeps the warnings
and errors and drops the noise. Analytics are switched off because the machines
have no internet and the project must not phone home.
"""

from __future__ import annotations

import logging
import os
from types import ModuleType

GX_LOGGER = "great_expectations"
_SELF_PINNED_LOGGER = "great_expectations.data_context.types.base"


def load_gx() -> tuple[ModuleType, ModuleType]:
    """Return `(great_expectations, great_expectations.expectations)`, imported quietly."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    logging.getLogger(GX_LOGGER).setLevel(logging.WARNING)
    import great_expectations as gx
    import great_expectations.expectations as gxe

    # This one module pins its own logger to INFO at import ("Created temporary
    # directory ... for ephemeral docs site" on every context); let it inherit.
    logging.getLogger(_SELF_PINNED_LOGGER).setLevel(logging.NOTSET)
    return gx, gxe
