"""What the snscrape-based sources share (telegram, snscrape): importing snscrape with a
clear error, retrying 429/5xx, and keeping the transport error that explains a failure.
"""

from __future__ import annotations

import re
import sys
from types import ModuleType
from typing import Any

from cjm.extractors.base import ExtractError

_ERRNO = re.compile(r"\[Errno -?\d+\][^'\")]*")


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


def describe_error(exc: BaseException | str | None) -> str:
    """The useful tail of a requests error ('[Errno 111] Connection refused'), not 300 chars."""
    if exc is None:
        return "unknown error"
    if isinstance(exc, str):
        return exc
    text = str(exc)
    m = _ERRNO.search(text)
    return m.group().strip() if m else f"{type(exc).__name__}: {text[:200]}"


def record_send_errors(scraper: Any) -> None:
    """Remember the last transport error of a snscrape scraper's session.

    snscrape logs each failed try and then raises "N requests to URL failed", which
    says nothing about why; the extractor's error message needs the cause.
    """
    import requests

    send = scraper._session.send
    scraper.last_error = None

    def recording_send(*args: Any, **kwargs: Any) -> Any:
        try:
            response = send(*args, **kwargs)
        except requests.RequestException as exc:
            scraper.last_error = exc
            raise
        if response.status_code == 429 or response.status_code >= 500:
            scraper.last_error = f"HTTP {response.status_code}"
        return response

    scraper._session.send = recording_send


def retry_transient(response: Any) -> tuple[bool, str | None]:
    """snscrape's responseOkCallback: retry 429 and 5xx, accept everything else.

    snscrape retries only transport errors by default, so one 502 from a proxy would
    fail the whole run. Retry-After is honoured (capped at a minute) on top of
    snscrape's own 1, 2, 4 s backoff.
    """
    import time

    status = response.status_code
    if status == 429 or status >= 500:
        retry_after = response.headers.get("Retry-After", "")
        if retry_after.isdigit():
            time.sleep(min(int(retry_after), 60))
        return False, f"HTTP {status}"
    return True, None
