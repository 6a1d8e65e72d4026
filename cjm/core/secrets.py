"""What a secret looks like, so configs carry references to secrets and never the
secrets themselves, and so errors and logs never show one.

A config names where a secret lives (`bearer_env: CRM_TOKEN`, `airflow_conn: crm`, or a
`${VAR}` reference in a URL or parameter); a literal token where a name belongs, a
password in a URL, or a credential-named query parameter written out in the YAML is
refused at `check-config` with a line that names the YAML path and never the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# Query parameters and headers whose values are credentials (also used for masking).
SECRET_PARAM = re.compile(
    r"(token|key|secret|password|passwd|pwd|signature|sig|auth|session|credential|cookie)", re.I
)
# What may stand beside a `${VAR}` in a header value: "Bearer ${CRM_TOKEN}".
_AUTH_SCHEME = re.compile(r"(bearer|token|basic|apikey|api-key)?", re.I)
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Shapes of well-known tokens, and any long run of mixed letters and digits.
TOKEN_SHAPE = re.compile(
    r"^(sk|pk|rk)_(live|test)_|^(ghp|gho|ghs|github_pat|glpat|xox[abpr])[-_]|^bearer\s"
    r"|^eyJ[A-Za-z0-9_-]{10,}|^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)[A-Za-z0-9_\-]{32,}$",
    re.I,
)
# `${VAR}` or `${VAR:-default}`: what `cjm.core.config.expand_env` replaces.
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def env_name_problem(value: str) -> str | None:
    """Why `value` cannot be the name of an environment variable (None when it can)."""
    if TOKEN_SHAPE.search(value):
        return "looks like a secret value, not the name of an environment variable"
    if not ENV_NAME.fullmatch(value):
        return "is not a valid environment variable name"
    return None


def literal_secret_errors(raw: Any) -> list[str]:
    """Secrets written into the YAML itself (checked before `${VAR}` expansion, so a
    reference passes and its value is never seen here)."""
    errors: list[str] = []
    sources = raw.get("sources") if isinstance(raw, dict) else None
    for i, src in enumerate(sources if isinstance(sources, list) else []):
        if not isinstance(src, dict):
            continue
        for key in ("url", "base_url"):
            url = src.get(key)
            if not isinstance(url, str):
                continue
            parts = urlsplit(url)
            if "@" in parts.netloc and ":" in parts.netloc.rsplit("@", 1)[0]:
                errors.append(
                    f"sources[{i}].{key}: a user:password in the URL; give the secret by "
                    "reference (auth: {bearer_env: NAME} or {airflow_conn: id})"
                )
            for name, value in parse_qsl(parts.query, keep_blank_values=True):
                if SECRET_PARAM.search(name) and value and not ENV_REF.fullmatch(value):
                    errors.append(
                        f"sources[{i}].{key}: query parameter {name!r} holds a literal "
                        f"credential; write it as ${{VAR}} (an environment variable)"
                    )
        params = src.get("params")
        for name, value in params.items() if isinstance(params, dict) else []:
            literal = isinstance(value, str) and value and not ENV_REF.fullmatch(value)
            if SECRET_PARAM.search(str(name)) and literal:
                errors.append(
                    f"sources[{i}].params.{name}: a literal credential; write it as "
                    "${VAR} (an environment variable) or use auth:"
                )
        headers = src.get("headers")
        for name, value in headers.items() if isinstance(headers, dict) else []:
            if _literal_header_secret(str(name), value):
                errors.append(
                    f"sources[{i}].headers.{name}: a literal credential; write it as "
                    "${VAR} (an environment variable) or use auth:"
                )
    errors.extend(_publish_dsn_errors(raw))
    return errors


def _literal_header_secret(name: str, value: Any) -> bool:
    """A credential-named header (Authorization, X-Api-Key, Cookie …) or a token-shaped
    value, written out rather than referenced: "Bearer ${TOKEN}" passes, "Bearer abc" not."""
    if not isinstance(value, str) or not value.strip():
        return False
    rest = ENV_REF.sub("", value).strip()
    if ENV_REF.search(value) and _AUTH_SCHEME.fullmatch(rest):
        return False  # by reference
    return bool(SECRET_PARAM.search(name) or TOKEN_SHAPE.search(rest))


def _publish_dsn_errors(raw: Any) -> list[str]:
    """A PostgreSQL DSN carries the password: the config names where it lives."""
    publish = raw.get("publish") if isinstance(raw, dict) else None
    postgres = publish.get("postgres") if isinstance(publish, dict) else None
    if not isinstance(postgres, dict):
        return []
    for key in ("dsn", "url", "uri", "conninfo", "password"):
        if key in postgres:
            return [
                f"publish.postgres.{key}: the connection is given by reference: "
                "dsn_env: NAME (an environment variable holding the postgresql:// URI, "
                "e.g. CJM_PG_DSN) or airflow_conn: <connection id>"
            ]
    return []


# --- where references resolve -------------------------------------------------------------


def _leaves(data: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    """(YAML path, value) of every scalar in parsed YAML or a dumped config."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _leaves(v, f"{where}.{k}" if where else str(k))
    elif isinstance(data, list | tuple):
        for i, v in enumerate(data):
            yield from _leaves(v, f"{where}[{i}]")
    else:
        yield where, data


def unresolved_env_refs(data: Any) -> list[tuple[str, str]]:
    """(YAML path, variable) of every `${VAR}` still in a loaded config: expansion leaves
    a reference to an unset variable without a default as written."""
    return [
        (where, m.group(1))
        for where, value in _leaves(data)
        if isinstance(value, str)
        for m in ENV_REF.finditer(value)
    ]


def airflow_conn_refs(data: Any) -> list[tuple[str, str]]:
    """(YAML path, connection id) of every `airflow_conn:` (source auth, alert targets …)."""
    return [
        (where, value)
        for where, value in _leaves(data)
        if where.rsplit(".", 1)[-1] == "airflow_conn" and isinstance(value, str) and value
    ]


def airflow_connection(conn_id: str) -> Any:
    """Airflow's connection `conn_id`, read where Airflow reads it (env, secrets backend,
    metadata DB). ImportError when Airflow is not installed; LookupError naming only
    the failure's kind (AirflowNotFoundException …), never the connection's content."""
    from airflow.sdk import BaseHook

    try:
        return BaseHook.get_connection(conn_id)
    except Exception as exc:
        raise LookupError(type(exc).__name__) from None


def airflow_conn_env(conn_id: str) -> str:
    """The environment variable Airflow reads a connection from before anything else."""
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def _airflow_configured() -> bool:
    """An Airflow installation is set up for this process (not merely importable):
    importing Airflow without one would create ~/airflow and a database to look in."""
    import os
    from pathlib import Path

    if os.environ.get("AIRFLOW_HOME") or any(k.startswith("AIRFLOW__") for k in os.environ):
        return True
    return (Path.home() / "airflow" / "airflow.cfg").exists()


def airflow_conn_problem(conn_id: str) -> str | None:
    """Why the Airflow connection `conn_id` cannot be found here (None when it can),
    looked up the way Airflow does — its env variable, then (when an Airflow is
    configured) the secrets backend and the metadata DB. Airflow is imported only when
    needed and never started; the connection's content is never shown."""
    import os

    env = airflow_conn_env(conn_id)
    if os.environ.get(env):
        return None
    if not _airflow_configured():
        return (
            f"Airflow connection {conn_id!r} is not defined here ({env} is not set and no "
            "Airflow is configured: AIRFLOW_HOME)"
        )
    try:  # the scheduler-side lookup: env, the secrets backend, then the metadata DB
        from airflow.models.connection import Connection
    except ImportError:
        return f"Airflow connection {conn_id!r}: {env} is not set and Airflow is not installed"
    try:
        Connection.get_connection_from_secrets(conn_id)
    except Exception as exc:  # AirflowNotFoundException, an unreachable DB …: the kind only
        if "NotFound" in type(exc).__name__:
            return (
                f"Airflow connection {conn_id!r} is not defined ({env}, the secrets backend "
                "and the metadata DB do not have it)"
            )
        return f"Airflow connection {conn_id!r} could not be looked up ({type(exc).__name__})"
    return None
