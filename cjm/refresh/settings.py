"""The config a refresh runs with: read once per process, checked against the rules.

The core's `load_config` checks the YAML's own structure; what the config asks of
the rule seeds (a configured stage with no cues, an unknown topic pack) is the
enrichment's to judge, and this layer is the one that sees both. Every entry point
(`cjm`, the DAG tasks) loads through here.
"""

from __future__ import annotations

from pathlib import Path

from cjm.core.config import Config, ConfigError, config_path, load_config
from cjm.enrichment.stages import config_errors

ConfigArg = Config | str | Path | None


def load(path: str | Path | None = None) -> Config:
    """The config at `path` (or `CJM_CONFIG`, or the default), or one ConfigError that
    lists every problem, each starting with its YAML path."""
    path = config_path(path)
    config = load_config(path)
    errors = config_errors(config)
    if errors:
        raise ConfigError(path, errors)
    return config


def config_of(config: ConfigArg) -> Config:
    """The loaded config a step works with: the object a caller holds, else read once."""
    return config if isinstance(config, Config) else load(config)
