"""The one HTTP client every HTTP source uses (RSS, CRM APIs, and any web source after them).

Why one client: retry, timeout, auth and error rules are decided once, so a
flaky feed and a flaky CRM behave the same way and a fix lands everywhere. The
rules follow the Singer SDK's REST stream:

- 429, 5xx, timeouts and dropped connections are *transient*: retried with
  exponential backoff and jitter, honouring ``Retry-After`` (seconds or an HTTP
  date), within a bounded number of tries *and* a bounded total wait, so a dead
  server fails its task in minutes rather than holding a worker for hours;
- any other 4xx is *fatal* at once (a wrong token or URL does not fix itself),
  with one line naming the source, the URL without secrets, the status and the
  start of the body;
- secrets (tokens from env vars or Airflow connections) travel in request
  headers, or, for APIs that accept nothing else (VK's ``access_token``, Google's
  ``key``), in a query parameter added at request time; they are never logged, and
  are masked out of error messages (and of URLs shown) in case a server echoes them.
"""

from __future__ import annotations

import logging
import os
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from cjm import __version__
from cjm.core.secrets import SECRET_PARAM, airflow_connection

if TYPE_CHECKING:
    from cjm.core.config import SecretRef

log = logging.getLogger("cjm.http")


class SourceError(RuntimeError):
    """A source (or a webhook) that cannot be reached or read at all, in one line naming
    the URL and the status; the extractors raise it as `ExtractError`."""


REPO_URL = "https://github.com/cjm-warehouse/cjm-warehouse"  # placeholder until published
USER_AGENT = f"cjm-warehouse/{__version__} (+{REPO_URL})"

# Query parameters whose values are credentials in the wild (?api_key=..., ?token=...).
_SECRET_PARAM = SECRET_PARAM
_TRANSIENT_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before a source counts as down.

    ``max_tries`` bounds the attempts per request, ``max_wait`` caps one pause (a
    server asking for ``Retry-After: 3600`` gets ``max_wait``), ``max_total_wait``
    caps the sum of pauses over the client's life (one source in one run, all its
    pages): whichever limit is hit first ends the retries with a clear error.
    """

    max_tries: int = 5
    backoff: float = 1.0  # first pause in seconds; doubles each try
    max_wait: float = 60.0
    max_total_wait: float = 300.0
    jitter: float = 0.5  # up to +50 % random, so many workers do not retry in step

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """The pause before try ``attempt + 1`` (``attempt`` counts from 1)."""
        if retry_after is not None:
            # The server said when; add no jitter beyond what it asked, but cap it.
            return max(0.0, min(retry_after, self.max_wait))
        base = min(self.backoff * (2 ** (attempt - 1)), self.max_wait)
        return min(base * (1 + random.uniform(0, self.jitter)), self.max_wait)


@dataclass(frozen=True)
class Timeouts:
    """Connect and read timeouts in seconds (requests' ``timeout=(connect, read)``)."""

    connect: float = 10.0
    read: float = 30.0


@dataclass
class Conditional:
    """Validators of the last good response, for a conditional GET (ETag / Last-Modified).

    A feed that has not changed then costs one ``304 Not Modified`` and no body.
    """

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out

    @classmethod
    def from_response(cls, response: requests.Response) -> Conditional:
        return cls(response.headers.get("ETag"), response.headers.get("Last-Modified"))

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("etag", self.etag), ("last_modified", self.last_modified)) if v}


def safe_url(url: str) -> str:
    """The URL with user:password and credential-looking query values replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = urlencode(
        [
            (k, "***" if _SECRET_PARAM.search(k) else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def auth_headers(source_name: str, ref: SecretRef | None) -> dict[str, str]:
    """Resolve a SecretRef into request headers, at request time and never into logs.

    - ``bearer_env``: ``Authorization: Bearer $VAR``;
    - ``header`` + ``header_env``: ``<header>: $VAR`` (API-key style);
    - ``airflow_conn``: the connection's extra ``token`` (or ``api_key``), else its
      password; sent as ``<header>: <token>`` when ``header`` is set, else as a bearer
      token. Airflow is imported only here, so sources without it stay light.
    """
    if ref is None or ref.query_param:
        return {}
    if ref.bearer_env:
        return {"Authorization": f"Bearer {_env(source_name, ref.bearer_env, 'auth.bearer_env')}"}
    if ref.header_env:
        assert ref.header  # the config model guarantees it
        return {ref.header: _env(source_name, ref.header_env, "auth.header_env")}
    assert ref.airflow_conn
    token = _airflow_token(source_name, ref.airflow_conn)
    if ref.header:
        return {ref.header: token}
    return {"Authorization": f"Bearer {token}"}


def auth_params(source_name: str, ref: SecretRef | None) -> dict[str, str]:
    """The query parameter of ``query_param`` auth (``query_env`` or ``airflow_conn``)."""
    if ref is None or not ref.query_param:
        return {}
    if ref.query_env:
        return {ref.query_param: _env(source_name, ref.query_env, "auth.query_env")}
    assert ref.airflow_conn
    return {ref.query_param: _airflow_token(source_name, ref.airflow_conn)}


def _env(source_name: str, var: str, where: str) -> str:
    value = os.environ.get(var)
    if not value:
        raise SourceError(
            f"source {source_name!r}: environment variable {var} ({where}) is not set or empty"
        )
    return value


def _airflow_token(source_name: str, conn_id: str) -> str:
    try:
        conn = airflow_connection(conn_id)
    except ImportError as exc:
        raise SourceError(
            f"source {source_name!r}: auth.airflow_conn {conn_id!r} needs Airflow installed ({exc})"
        ) from None
    except LookupError as exc:
        raise SourceError(
            f"source {source_name!r}: Airflow connection {conn_id!r} (auth.airflow_conn) "
            f"cannot be read: {exc}"
        ) from None
    extra = conn.extra_dejson or {}
    token = extra.get("token") or extra.get("api_key") or conn.password
    if not token:
        raise SourceError(
            f"source {source_name!r}: Airflow connection {conn_id!r} has no password "
            "and no `token` / `api_key` in its extra"
        )
    return str(token)


class _Session(requests.Session):
    """requests drops ``Authorization`` on a redirect to another host, but not API-key
    headers such as ``X-Api-Key``; this drops every auth header the client set."""

    auth_header_names: frozenset[str] = frozenset()

    def rebuild_auth(self, prepared_request: Any, response: requests.Response) -> None:
        super().rebuild_auth(prepared_request, response)
        if self.should_strip_auth(response.request.url, prepared_request.url):
            for name in self.auth_header_names:
                prepared_request.headers.pop(name, None)


@dataclass
class HttpClient:
    """A requests.Session with this project's retry, timeout, auth and error rules.

    One instance per source and run: the session keeps connections alive across
    pages, and the auth headers belong to that source only.
    """

    source: str
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeouts: Timeouts = field(default_factory=Timeouts)
    headers: Mapping[str, str] = field(default_factory=dict)  # plain headers for every request
    auth: Mapping[str, str] = field(default_factory=dict, repr=False)  # secret headers
    # secret query parameters, added to every request's own (never shown in messages)
    auth_params: Mapping[str, str] = field(default_factory=dict, repr=False)
    sleep: Callable[[float], None] = time.sleep
    session: _Session = field(default_factory=_Session)
    total_waited: float = 0.0
    requests_made: int = 0

    def __post_init__(self) -> None:
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers.update(self.headers)
        self.session.headers.update(self.auth)
        self.session.auth_header_names = frozenset(self.auth)
        # Mask both "Bearer abc" and "abc" should a server echo either back.
        self._secrets = sorted(
            {
                s
                for v in [*self.auth.values(), *self.auth_params.values()]
                if v
                for s in (v, v.split(" ", 1)[-1])
                if len(s) >= 4
            },
            key=len,
            reverse=True,
        )

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        conditional: Conditional | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """GET with retries; returns a 2xx or (for a conditional GET) a 304 response.

        Raises SourceError for fatal statuses and when the retries are used up.
        """
        return self.request("GET", url, params=params, conditional=conditional, headers=headers)

    def request(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        conditional: Conditional | None = None,
        headers: Mapping[str, str] | None = None,
        accept: frozenset[int] = frozenset(),
    ) -> requests.Response:
        """Any method with the same retry, timeout, auth and error rules as `get`;
        statuses in `accept` are returned to the caller instead of failing."""
        extra = dict(headers or {})
        if conditional:
            extra.update(conditional.headers())
        shown = f"{method} {self._shown(url, params)}"
        if self.auth_params:
            params = {**(params or {}), **self.auth_params}
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                self.requests_made += 1
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=extra,
                    timeout=(self.timeouts.connect, self.timeouts.read),
                )
            except requests.exceptions.SSLError as exc:  # a bad certificate stays bad
                raise SourceError(
                    f"source {self.source!r}: {shown}: TLS error: {self._mask(str(exc))}"
                ) from None
            except _TRANSIENT_ERRORS as exc:
                problem = _describe_exception(exc)
            except requests.exceptions.RequestException as exc:  # invalid URL, bad scheme ...
                raise SourceError(
                    f"source {self.source!r}: {shown} failed: {self._mask(str(exc))}"
                ) from None
            else:
                status = response.status_code
                if status < 400 or status in accept:
                    return response
                if status != 429 and status < 500:
                    raise SourceError(
                        f"source {self.source!r}: {shown} → HTTP {status} "
                        f"{response.reason or ''}".rstrip()
                        + f"{_hint(status)}: {self._snippet(response)}"
                    )
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                problem = f"HTTP {status} {response.reason or ''}".rstrip()
                response.close()
            wait = self.retry.delay(attempt, retry_after)
            if attempt >= self.retry.max_tries or (
                self.total_waited + wait > self.retry.max_total_wait
            ):
                raise SourceError(
                    f"source {self.source!r}: {shown} gave up after {attempt} "
                    f"tr{'y' if attempt == 1 else 'ies'} and {self.total_waited:.1f} s of "
                    f"waiting; last: {problem}"
                )
            log.warning(
                "%s: %s: %s; retry %d/%d in %.2f s%s",
                self.source,
                shown,
                problem,
                attempt + 1,
                self.retry.max_tries,
                wait,
                " (Retry-After)" if retry_after is not None else "",
            )
            self.sleep(wait)
            self.total_waited += wait

    def get_json(
        self, url: str, params: Mapping[str, Any] | None = None
    ) -> tuple[Any, requests.Response]:
        """GET and decode JSON; returns (body, response). A non-JSON body is fatal."""
        response = self.get(url, params=params)
        try:
            return response.json(), response
        except ValueError:
            raise SourceError(
                f"source {self.source!r}: GET {self._shown(url, params)} → HTTP "
                f"{response.status_code} but the body is not JSON: {self._snippet(response)}"
            ) from None

    def shown_url(self, url: str) -> str:
        """A URL fit for a message: credentials masked by name and by value."""
        return self._mask(safe_url(url))

    def _shown(self, url: str, params: Mapping[str, Any] | None) -> str:
        if params:
            sep = "&" if urlsplit(url).query else "?"
            url = url + sep + urlencode({k: v for k, v in params.items() if v is not None})
        return self._mask(safe_url(url))

    def _mask(self, text: str) -> str:
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    def _snippet(self, response: requests.Response, limit: int = 200) -> str:
        try:
            text = response.text
        except Exception:  # undecodable body: show nothing rather than fail the error path
            text = ""
        text = " ".join(text.split())
        if not text:
            return "(empty body)"
        return self._mask(text[:limit] + ("…" if len(text) > limit else ""))


def _hint(status: int) -> str:
    return {
        401: " (check the credentials in `auth`)",
        403: " (the credentials lack access)",
        404: " (check `url`)",
    }.get(status, "")


def _describe_exception(exc: Exception) -> str:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "read timeout"
    if isinstance(exc, requests.exceptions.ConnectionError):
        # The innermost reason ("Connection refused") without the long urllib3 repr,
        # which repeats the URL with its query string.
        text = str(exc)
        m = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
        return f"connection error ({m.group(1).strip() if m else type(exc).__name__})"
    return type(exc).__name__


def client_for(source: Any, headers: Mapping[str, str] | None = None) -> HttpClient:
    """The client configured from a source's fields (defaults where a type has none).

    Sources opt into the settings by having the fields (``timeout_connect``,
    ``timeout_read``, ``max_tries``, ``backoff_seconds``, ``max_wait_seconds``,
    ``max_total_wait_seconds``, ``headers``, ``auth``); any other source gets the defaults.
    """

    def opt(name: str, default: float) -> Any:
        value = getattr(source, name, None)
        return default if value is None else value

    defaults_r, defaults_t = RetryPolicy(), Timeouts()
    configured = dict(getattr(source, "headers", None) or {})
    secret = {k: v for k, v in configured.items() if SECRET_PARAM.search(k)}
    plain = {k: v for k, v in configured.items() if k not in secret}
    return HttpClient(
        source=source.name,
        retry=RetryPolicy(
            max_tries=int(opt("max_tries", defaults_r.max_tries)),
            backoff=float(opt("backoff_seconds", defaults_r.backoff)),
            max_wait=float(opt("max_wait_seconds", defaults_r.max_wait)),
            max_total_wait=float(opt("max_total_wait_seconds", defaults_r.max_total_wait)),
        ),
        timeouts=Timeouts(
            connect=float(opt("timeout_connect", defaults_t.connect)),
            read=float(opt("timeout_read", defaults_t.read)),
        ),
        headers={**plain, **(headers or {})},
        # credential-named configured headers (given as ${VAR}) are masked like auth
        auth={**secret, **auth_headers(source.name, getattr(source, "auth", None))},
        auth_params=auth_params(source.name, getattr(source, "auth", None)),
    )
