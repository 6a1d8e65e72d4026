"""The personal-data policy, applied in one place before anything is written.

CRM records carry more than the journey needs (e-mails, phones, names, notes). Before a
CRM event reaches the landing zone its `attributes` pass through `PiiPolicy`: a field
is dropped unless the config keeps it (`pii.keep`) or keyed-hashes it (`pii.hash`, with
`CJM_CUSTOMER_KEY_SECRET`, joinable but not reversible), and every kept text value — and
the raw text of a broken line and the text of a mention bound for quarantine — has
e-mail addresses and phone numbers replaced by `<email>` / `<phone>`. What was touched
is counted for the run. Mentions keep their public author handles; CRM-side personal
data never travels.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cjm.core.contracts import hash_customer_id

EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
# International and Russian forms: +7 999 123-45-67, 8 (999) 123 45 67, +1-202-555-0143,
# 89991234567. Ten or more digits with the usual separators; dates and amounts do not
# reach ten digits in those shapes.
PHONE_RE = re.compile(r"(?<![\w+])(?:\+|00)?\d(?:[\s\-().]{0,3}\d){9,14}(?!\w)")
# Where a broken line's raw text travels (extractors/file_source.py).
RAW_KEY = "__raw__"


def redact(text: str) -> tuple[str, int]:
    """The text with e-mails and phone numbers replaced; how many were replaced."""
    if len(text) <= _SHORT:
        return _redact_short(text)
    return _redact(text)


def _redact(text: str) -> tuple[str, int]:
    text, emails = EMAIL_RE.subn("<email>", text)
    text, phones = PHONE_RE.subn("<phone>", text)
    return text, emails + phones


# Kept CRM fields are mostly categories (plan, region, status) that repeat on every
# record: remembering the short ones halves the policy's cost on a CRM export.
_SHORT = 64
_redact_short = lru_cache(maxsize=65_536)(_redact)


def _redact_value(value: Any, counts: Counter[str]) -> Any:
    if isinstance(value, str):
        clean, n = redact(value)
        counts["values_redacted"] += n
        return clean
    if isinstance(value, Mapping):
        return {k: _redact_value(v, counts) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(v, counts) for v in value]
    return value


@dataclass
class PiiPolicy:
    keep: Iterable[str] = ()
    hash: Iterable[str] = ()
    secret: bytes = b""
    counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.keep = frozenset(k.lower() for k in self.keep)
        self.hash = frozenset(k.lower() for k in self.hash)

    def crm_attributes(self, attributes: Mapping[str, Any] | None) -> dict[str, Any]:
        """What of a CRM record's unmapped fields may be stored, and in what form."""
        out: dict[str, Any] = {}
        for key, value in (attributes or {}).items():
            name = key.lower()
            if name in self.hash and value not in (None, ""):
                out[key] = hash_customer_id(str(value), self.secret)  # the same keyed hash
                self.counts["fields_hashed"] += 1
            elif name in self.keep or key == RAW_KEY:
                out[key] = _redact_value(value, self.counts)
            else:
                self.counts["fields_dropped"] += 1
        return out

    def text(self, value: str | None) -> str | None:
        """A free-text field (a CRM message, a broken line) with contacts redacted."""
        return _redact_value(value, self.counts) if value else value

    def mention_attributes(self, attributes: Mapping[str, Any] | None) -> dict[str, Any]:
        """Mentions keep their attributes; only a broken line's raw text is redacted."""
        out = dict(attributes or {})
        if RAW_KEY in out:
            out[RAW_KEY] = _redact_value(out[RAW_KEY], self.counts)
        return out

    def summary(self) -> str | None:
        if not self.counts:
            return None
        return "personal data: " + ", ".join(
            f"{k.replace('_', ' ')} {v}" for k, v in sorted(self.counts.items())
        )
