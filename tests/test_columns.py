"""Column-wise ids and customer-key hashes are byte for byte the per-value ones.

Rows loaded before the batch path must be found again by id: one differing id would
insert a record a second time.
"""

from __future__ import annotations

import pyarrow as pa

from cjm.core.columns import cleaned, hash_customer_ids, lowered, stable_ids
from cjm.core.contracts import hash_customer_id, stable_id
from cjm.extractors.records import clean_str

TRICKY = [
    "1",
    "00123",
    " padded\t",
    "\x1funit-separator",
    "nul\x00inside",
    "Финли-42",
    "ÉCOLE",
    "İstanbul",  # Python lower-cases to two code points
    "ß",
    "emoji 🚀",
    "\u00a0nbsp\u2003",  # non-ASCII whitespace Python strips
    "\x1c\x1d\x1e",  # ASCII separators Python counts as whitespace
    "MiXeD@Mail.Example",
    "x" * 5000,
    "",
    "   ",
    None,
]


def test_stable_ids_match_stable_id() -> None:
    got = stable_ids("src\x1fname é", pa.array(TRICKY)).to_pylist()
    want = [None if v is None else stable_id("src\x1fname é", v) for v in TRICKY]
    assert got == want


def test_cleaning_matches_clean_str_and_lower() -> None:
    assert cleaned(pa.array(TRICKY)).to_pylist() == [clean_str(v) for v in TRICKY]
    assert lowered(pa.array(TRICKY)).to_pylist() == [
        None if v is None else v.lower() for v in TRICKY
    ]


def test_customer_hashes_match_hash_customer_id() -> None:
    for secret in (b"s3cret", b"k" * 64, b"long-" * 40, "ключ".encode()):
        got = hash_customer_ids(pa.array(TRICKY), secret).to_pylist()
        want = [hash_customer_id(clean_str(v), secret) if clean_str(v) else None for v in TRICKY]
        assert got == want, secret
