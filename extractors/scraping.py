"""What the snscrape-based sources share (telegram, snscrape): importing snscrape with a
clear error, and fetching every page through the project's one HTTP client.

snscrape brings its own request loop (retries on transport errors only, a fixed
backoff, no Retry-After, a vague "N requests failed" at the end). Each scraper's
`_request` is replaced so its pages go through `cjm.core.http.HttpClient` instead:
the same timeouts, retry budget, Retry-After handling and one-line errors naming the
URL and status as the rss and crm_api sources.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

from cjm.core.http import HttpClient, RetryPolicy, SourceError, Timeouts, safe_url
from cjm.extractors.base import ExtractError


def import_snscrape(module: str) -> ModuleType:
    """Import ``snscrape.modules.<module>`` or fail with one line that says why.

    snscrape 0.7 imports its modules through ``FileFinder.find_module``, which Python
    3.12 removed: the import dies with an AttributeError deep in importlib. Users see
    a sentence instead of that traceback.
    """
    version = tuple(sys.version_info[:2])
    if version >= (3, 12):
        raise ExtractError(
            f"snscrape cannot be imported on Python {version[0]}.{version[1]} (it relies on "
            "importlib APIs removed in 3.12); run the telegram and snscrape sources on 3.11"
        )
    try:
        import importlib
        import warnings

        with warnings.catch_warnings():  # its find_module/load_module use warns on 3.11
            warnings.simplefilter("ignore", DeprecationWarning)
            return importlib.import_module(f"snscrape.modules.{module}")
    except (ImportError, AttributeError) as exc:
        raise ExtractError(f"snscrape is not usable here: {type(exc).__name__}: {exc}") from None


def scraper_client(source_name: str, retries: int, timeout_s: float) -> HttpClient:
    """The client for a snscrape-based source: `retries` retries after the first try,
    `timeout_s` for connecting and for each read (the config keys these sources have)."""
    return HttpClient(
        source=source_name,
        retry=RetryPolicy(max_tries=retries + 1),
        timeouts=Timeouts(connect=timeout_s, read=timeout_s),
    )


def fetch_through(scraper: Any, client: HttpClient, accept: frozenset[int] = frozenset()) -> None:
    """Make every request of a snscrape scraper go through `client` (see the module
    docstring). A response snscrape's own check rejects is an error, not a retry: the
    client has already retried what is worth retrying."""

    def request(
        method: str,
        url: str,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        timeout: Any = None,
        responseOkCallback: Any = None,
        allowRedirects: bool = True,
        proxies: Any = None,
    ) -> Any:
        response = client.request(
            method, url, params=params, data=data, headers=headers, accept=accept
        )
        if responseOkCallback is not None:
            ok, why = responseOkCallback(response)
            if not ok:
                raise SourceError(
                    f"source {client.source!r}: {method} {safe_url(url)}: {why or 'rejected'}"
                )
        return response

    scraper._request = request
