"""What a secret looks like, so configs carry references to secrets and never the
secrets themselves, and so errors and logs never show one.

A config names where a secret lives (`bearer_env: CRM_TOKEN`, `airflow_conn: crm`, or a
`${VAR}` reference in a URL or parameter); a literal token where a name belongs, a
password in a URL, or a credential-named query parameter written out in the YAML is
refused at `check-config` with a line that names the YAML path and never the value.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# Query parameters and headers whose values are credentials (also used for masking).
SECRET_PARAM = re.compile(
    r"(token|key|secret|password|passwd|pwd|signature|sig|auth|session|credential)", re.I
)
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
    errors.extend(_publish_dsn_errors(raw))
    return errors


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
