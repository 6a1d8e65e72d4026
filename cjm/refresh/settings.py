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


def environment_problems(config: Config) -> tuple[list[str], list[str]]:
    """(errors, warnings) about what the config points at on this machine: file globs
    that match nothing, folders a run could not write, secrets' environment variables
    that are not set. Each line starts with its YAML path."""
    import os

    from cjm.core.config import FileSource
    from cjm.extractors.file_source import matching_files

    errors: list[str] = []
    warnings: list[str] = []
    for i, src in enumerate(config.sources):
        if isinstance(src, FileSource) and src.enabled:
            pattern = str(config.resolve(src.path))
            if not matching_files(pattern):
                line = f"sources[{i}].path: no file matches {pattern}"
                (errors if src.required else warnings).append(
                    line + (" (required: true)" if src.required else "; the source loads nothing")
                )
        auth = getattr(src, "auth", None)
        for key in ("bearer_env", "header_env", "query_env"):
            name = getattr(auth, key, None) if auth else None
            if not name or os.environ.get(name):
                continue
            if src.type == "rest_api" and src.enabled:
                # A recipe's token is what the network demands: refuse before any run.
                errors.append(
                    f"sources[{i}].auth.{key}: {name} is not set; source {src.name!r} "
                    "(rest_api) does not run without its token"
                )
            else:
                warnings.append(
                    f"sources[{i}].auth.{key}: {name} is not set here; the source fails at "
                    "run time until it is"
                )
    pg = config.publish.postgres
    pg_env = pg.dsn_env if pg and "postgres" in config.publish.enabled_targets else None
    if pg_env and pg_env not in os.environ:
        warnings.append(
            f"publish.postgres.dsn_env: {pg_env} is not set here; publishing to "
            "PostgreSQL fails at run time until it is (the other targets still publish)"
        )
    if config.paths.landing:
        problem = unwritable(config.resolve(config.paths.landing))
        if problem:
            errors.append(f"paths.landing: {problem}")
    for where, line in unresolved_references(config):
        consequence = (
            "; the source fails at run time until it is" if where.startswith("sources[") else ""
        )
        warnings.append(f"{where}: {line}{consequence}")
    return errors, warnings


def unresolved_references(config: Config) -> list[tuple[str, str]]:
    """(YAML path, why) for each `${VAR}` whose variable is not set and each Airflow
    connection that cannot be found, in enabled sources and everywhere else."""
    from cjm.core.secrets import airflow_conn_problem, airflow_conn_refs, unresolved_env_refs

    dump = config.model_dump(by_alias=True, exclude={"base_dir"})
    # each source by its own type (the list is typed by their base), disabled ones skipped
    dump["sources"] = [s.model_dump(by_alias=True) if s.enabled else {} for s in config.sources]
    found = [
        (w, f"${{{var}}} is not set in the environment") for w, var in unresolved_env_refs(dump)
    ]
    for where, conn_id in airflow_conn_refs(dump):
        problem = airflow_conn_problem(conn_id)
        if problem:
            found.append((where, problem))
    return found


def by_source(config: Config, found: list[tuple[str, str]]) -> dict[str, str]:
    """source name → the first of `found` in its config, as one line naming the YAML
    path: such a source fails alone before it is read."""
    out: dict[str, str] = {}
    for where, line in found:
        if where.startswith("sources["):
            i = int(where[len("sources[") : where.index("]")])
            out.setdefault(config.sources[i].name, f"{where}: {line}")
    return out


def unwritable(folder: Path) -> str | None:
    """Why a run could not create files under `folder` (None when it could)."""
    import os

    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder, so {folder} cannot be created"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{folder} cannot be created or written ({existing} is not writable)"
    return None


def config_of(config: ConfigArg) -> Config:
    """The loaded config a step works with: the object a caller holds, else read once."""
    return config if isinstance(config, Config) else load(config)
